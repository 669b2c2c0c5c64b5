// Package labels turns what is known about a work into machine labels for
// the generate-labels task (tasks.md §5.2): hues, reading abilities, an age
// range, a short blurb, a recommend status and free-form info.
//
// Its place in the flow: the task worker loads an Input from the database,
// asks a Provider for a catalog.LabelSetPatch and applies that patch as
// PATCH /v1/work/{id} {"labelset": …} would (catalog.ApplyLabelSetPatch,
// acting as the GPT service account). This package does no database work and
// imports nothing from this module but schema/catalog.
//
// OpenAI is the provider that asks an OpenAI-compatible chat-completions
// endpoint. Its answers are untrusted: every answer is checked against the
// answer schema (known reading-ability and hue keys, a sane age range, a
// non-empty summary, a known recommend status) before anything is mapped,
// and an invalid answer is re-requested with the error shown to the model.
// The API key travels only in the Authorization header; no error message
// carries it.
package labels

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/wriveted/huey-api/schema/catalog"
)

// Input is what a labelling request is built from (tasks.md §5.2); the
// caller loads it from the database.
type Input struct {
	// WorkID identifies the work; it is used in error messages only.
	WorkID int64
	// DisplayTitle is the work's display title (leading article first).
	DisplayTitle string
	// Authors is the authors string, "First Last, First Last".
	Authors string
	// HueySummary is the existing labelset huey_summary, may be "".
	HueySummary string
	// ShortSummaries are the summary_short texts of up to 20 editions; only
	// the first 20 are sent.
	ShortSummaries []string
	// Genres are genre names.
	Genres []string
	// MedianPages is the editions' median page count; 0 means unknown.
	MedianPages int
	// LongSummary, Keywords, CBMCText and ProdCT come from the main edition.
	LongSummary, Keywords, CBMCText, ProdCT string
	// MainEditionInfo is the main edition's whole info (EditionInfo), for
	// providers that infer labels from it (the rule-based default); nil when
	// the work has no edition with info. It is not sent to a model.
	MainEditionInfo map[string]any
}

// Provider labels one work. The returned patch is applied like
// PATCH /v1/work/{id} {"labelset": …}.
type Provider interface {
	Label(ctx context.Context, in Input) (catalog.LabelSetPatch, error)
}

// ErrInvalidAnswer is returned (wrapped) when the model's answer stays
// unparsable or schema-invalid after the retries.
var ErrInvalidAnswer = errors.New("invalid answer")

// Limits of the request and of a valid answer.
const (
	// maxTextChars caps every text sent to the model, in characters.
	maxTextChars = 1500
	// maxShortSummaries caps the number of edition short summaries sent.
	maxShortSummaries = 20
	// maxAge is the highest age a valid answer may name.
	maxAge = 25
	// hueThreshold is the weight a hue_map entry must exceed to become a hue.
	hueThreshold = 0.1
	// maxHues is the number of hue slots (primary, secondary, tertiary).
	maxHues = 3
)

// hue is one hue key with its display name, for the prompt.
type hue struct{ key, name string }

// hueTable lists the 13 HueKeys of domain.md §2 with the seeded names.
func hueTable() []hue {
	return []hue{
		{"hue01_dark_suspense", "Dark/Suspense"},
		{"hue02_beautiful_whimsical", "Beautiful/Whimsical"},
		{"hue03_dark_beautiful", "Dark/Beautiful"},
		{"hue04_joyful_charming", "Joyful/Charming"},
		{"hue05_funny_comic", "Funny/Comic"},
		{"hue06_dark_gritty", "Dark/Gritty"},
		{"hue07_silly_charming", "Silly/Charming"},
		{"hue08_charming_courageous", "Charming/Courageous"},
		{"hue09_charming_playful", "Charming/Playful"},
		{"hue10_inspiring", "Inspiring"},
		{"hue11_realistic_hope", "Realistic/Hope"},
		{"hue12_funny_quirky", "Funny/Quirky"},
		{"hue13_informative", "Informative"},
	}
}

// readingAbility is one reading ability key with the book that names it.
type readingAbility struct{ key, name string }

// readingAbilityTable lists the reading abilities in level order (domain.md §14.1).
func readingAbilityTable() []readingAbility {
	return []readingAbility{
		{"SPOT", "Where's Spot"},
		{"CAT_HAT", "The Cat in the Hat"},
		{"TREEHOUSE", "The 13-Storey Treehouse"},
		{"CHARLIE_CHOCOLATE", "Charlie and the Chocolate Factory"},
		{"HARRY_POTTER", "Harry Potter and the Philosopher's Stone"},
	}
}

// recommendChoice is one recommend status with its meaning.
type recommendChoice struct {
	status catalog.RecommendStatus
	means  string
}

// recommendStatuses lists the recommend statuses with their meaning.
func recommendStatuses() []recommendChoice {
	return []recommendChoice{
		{catalog.RecommendGood, "a good book to recommend to a child"},
		{catalog.RecommendBadBoring, "likely to bore a child"},
		{catalog.RecommendBadReference, "a reference or non-narrative book (dictionary, atlas, workbook, textbook)"},
		{catalog.RecommendBadControversial, "contains themes unsuitable for the stated ages"},
		{catalog.RecommendBadLowQuality, "poorly written or low quality"},
	}
}

// answer is the JSON object the model must reply with.
type answer struct {
	ReadingAbility      []string           `json:"reading_ability"`
	HueMap              map[string]float64 `json:"hue_map"`
	Hues                []string           `json:"hues"`
	MinAge              *float64           `json:"min_age"`
	MaxAge              *float64           `json:"max_age"`
	ShortSummary        string             `json:"short_summary"`
	LongSummary         string             `json:"long_summary"`
	RecommendStatus     string             `json:"recommend_status"`
	Genres              []string           `json:"genres"`
	Styles              []string           `json:"styles"`
	Characters          []string           `json:"characters"`
	Series              *string            `json:"series"`
	SeriesNumber        *float64           `json:"series_number"`
	Gender              *string            `json:"gender"`
	Awards              []string           `json:"awards"`
	Notes               *string            `json:"notes"`
	ControversialThemes []string           `json:"controversial_themes"`
}

// labels is a validated answer with its keys canonical.
type labels struct {
	abilities    []string
	hueMap       map[string]float64
	hues         []string // at most maxHues, primary first
	minAge       int
	maxAge       int
	status       catalog.RecommendStatus
	seriesNumber *int
	a            *answer
}

// validate checks a decoded answer and resolves its keys. The error text is
// shown to the model on a retry, so it says what to fix.
func validate(a *answer) (*labels, error) {
	l := &labels{a: a}

	if len(a.ReadingAbility) == 0 {
		return nil, errors.New("reading_ability must list at least one reading ability key")
	}
	for _, k := range a.ReadingAbility {
		key := strings.ToUpper(strings.TrimSpace(k))
		if !slices.ContainsFunc(readingAbilityTable(), func(r readingAbility) bool { return r.key == key }) {
			return nil, fmt.Errorf("reading_ability: unknown key %q (use SPOT, CAT_HAT, TREEHOUSE, CHARLIE_CHOCOLATE or HARRY_POTTER)", k)
		}
		if !slices.Contains(l.abilities, key) {
			l.abilities = append(l.abilities, key)
		}
	}

	l.hueMap = make(map[string]float64, len(a.HueMap))
	for k, w := range a.HueMap {
		key, ok := catalog.CanonicalHueKey(strings.ToLower(strings.TrimSpace(k)))
		if !ok {
			return nil, fmt.Errorf("hue_map: unknown hue key %q", k)
		}
		if math.IsNaN(w) || w < 0 || w > 1 {
			return nil, fmt.Errorf("hue_map: weight %v of %q is not between 0 and 1", w, k)
		}
		// A legacy key and its canonical key name the same hue: keep the larger weight.
		if old, dup := l.hueMap[key]; !dup || w > old {
			l.hueMap[key] = w
		}
	}
	var listed []string
	for _, k := range a.Hues {
		key, ok := catalog.CanonicalHueKey(strings.ToLower(strings.TrimSpace(k)))
		if !ok {
			return nil, fmt.Errorf("hues: unknown hue key %q", k)
		}
		if !slices.Contains(listed, key) {
			listed = append(listed, key)
		}
	}
	l.hues = pickHues(l.hueMap, len(a.HueMap), listed)
	if len(l.hues) == 0 {
		return nil, fmt.Errorf("no hue: hue_map must give at least one hue a weight above %v", hueThreshold)
	}

	if a.MinAge == nil || a.MaxAge == nil {
		return nil, errors.New("min_age and max_age are required")
	}
	minAge, ok1 := wholeNumber(*a.MinAge)
	maxA, ok2 := wholeNumber(*a.MaxAge)
	if !ok1 || !ok2 {
		return nil, errors.New("min_age and max_age must be whole numbers")
	}
	if minAge < 0 || minAge > maxA || maxA > maxAge {
		return nil, fmt.Errorf("ages must satisfy 0 <= min_age <= max_age <= %d, got min_age %d, max_age %d", maxAge, minAge, maxA)
	}
	l.minAge, l.maxAge = minAge, maxA

	if strings.TrimSpace(a.ShortSummary) == "" {
		return nil, errors.New("short_summary must not be empty")
	}

	l.status = catalog.RecommendStatus(strings.ToUpper(strings.TrimSpace(a.RecommendStatus)))
	if !slices.ContainsFunc(recommendStatuses(), func(c recommendChoice) bool { return c.status == l.status }) {
		return nil, fmt.Errorf("recommend_status: unknown status %q", a.RecommendStatus)
	}

	if a.SeriesNumber != nil {
		n, ok := wholeNumber(*a.SeriesNumber)
		if !ok || n < 0 {
			return nil, fmt.Errorf("series_number must be a whole number or null, got %v", *a.SeriesNumber)
		}
		l.seriesNumber = &n
	}
	return l, nil
}

// wholeNumber converts f to an int when it is a whole number in int32 range.
func wholeNumber(f float64) (int, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// pickHues chooses up to three hues (tasks.md §5.2): the highest-weighted
// keys of hueMap with a weight above the threshold, ties broken by key; or
// the listed hues when the answer's hue_map had at most one entry
// (mapEntries counts the entries as answered, before aliases merged). When
// that list is empty the map is used after all, so a lone map entry still
// counts.
func pickHues(hueMap map[string]float64, mapEntries int, listed []string) []string {
	if mapEntries <= 1 && len(listed) > 0 {
		return listed[:min(len(listed), maxHues)]
	}
	keys := make([]string, 0, len(hueMap))
	for k, w := range hueMap {
		if w > hueThreshold {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(hueMap[b], hueMap[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys[:min(len(keys), maxHues)]
}

// patch maps validated labels to a labelset patch, every origin VERTEXAI.
func (l *labels) patch() catalog.LabelSetPatch {
	origin := func() *catalog.Origin { o := catalog.OriginVertexAI; return &o }
	p := catalog.LabelSetPatch{
		HueOrigin:             origin(),
		MinAge:                ptr(l.minAge),
		MaxAge:                ptr(l.maxAge),
		AgeOrigin:             origin(),
		ReadingAbilityKeys:    l.abilities,
		ReadingAbilityOrigin:  origin(),
		HueySummary:           ptr(strings.TrimSpace(l.a.ShortSummary)),
		SummaryOrigin:         origin(),
		RecommendStatus:       ptr(l.status),
		RecommendStatusOrigin: origin(),
		Checked:               ptr(true),
	}
	slots := []**string{&p.HuePrimaryKey, &p.HueSecondaryKey, &p.HueTertiaryKey}
	for i, k := range l.hues {
		*slots[i] = ptr(k)
	}

	var seriesNumber any
	if l.seriesNumber != nil {
		seriesNumber = *l.seriesNumber
	}
	p.Info = map[string]any{
		"long_summary":         l.a.LongSummary,
		"genres":               nonNil(l.a.Genres),
		"styles":               nonNil(l.a.Styles),
		"characters":           nonNil(l.a.Characters),
		"hue_map":              l.hueMap,
		"series":               stringOrNil(l.a.Series),
		"series_number":        seriesNumber,
		"gender":               stringOrNil(l.a.Gender),
		"awards":               nonNil(l.a.Awards),
		"notes":                stringOrNil(l.a.Notes),
		"controversial_themes": nonNil(l.a.ControversialThemes),
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// nonNil makes an absent list an empty one, so info holds [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// stringOrNil is the string, or nil (JSON null) for an absent or empty one.
func stringOrNil(s *string) any {
	if s == nil || *s == "" {
		return nil
	}
	return *s
}
