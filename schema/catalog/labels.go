package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"

	"github.com/google/uuid"
)

// Origin is the database label of a label's source (enum labelorigin).
type Origin string

// Label origins (domain.md §2 labelorigin).
const (
	OriginHuman            Origin = "HUMAN"
	OriginGPT4             Origin = "GPT4"
	OriginPredictedNielsen Origin = "PREDICTED_NIELSEN"
	OriginNielsenCBMC      Origin = "NIELSEN_CBMC"
	OriginNielsenBIC       Origin = "NIELSEN_BIC"
	OriginNielsenThema     Origin = "NIELSEN_THEMA"
	OriginNielsenIA        Origin = "NIELSEN_IA"
	OriginNielsenRA        Origin = "NIELSEN_RA"
	OriginClusterRelevance Origin = "CLUSTER_RELEVANCE"
	OriginClusterZainab    Origin = "CLUSTER_ZAINAB"
	OriginOther            Origin = "OTHER"
	OriginVertexAI         Origin = "VERTEXAI"
)

// Weight is the origin's authority (domain.md §7.6) and whether the origin
// is known. A patch may overwrite a field group when its origin's weight is
// at least the stored origin's.
func (o Origin) Weight() (float64, bool) {
	switch o {
	case OriginHuman:
		return 5, true
	case OriginVertexAI, OriginGPT4:
		return 4, true
	case OriginClusterRelevance:
		return 3, true
	case OriginClusterZainab:
		return 2, true
	case OriginNielsenCBMC:
		return 1.5, true
	case OriginNielsenBIC:
		return 1.4, true
	case OriginNielsenThema:
		return 1.3, true
	case OriginNielsenIA:
		return 1.2, true
	case OriginNielsenRA:
		return 1.1, true
	case OriginPredictedNielsen:
		return 1, true
	case OriginOther:
		return 0, true
	}
	return 0, false
}

// RecommendStatus is the database label of labelsets.recommend_status.
type RecommendStatus string

// Recommend statuses (domain.md §2 recommendstatus).
const (
	RecommendGood             RecommendStatus = "GOOD"
	RecommendBadBoring        RecommendStatus = "BAD_BORING"
	RecommendBadReference     RecommendStatus = "BAD_REFERENCE"
	RecommendBadControversial RecommendStatus = "BAD_CONTROVERSIAL"
	RecommendBadLowQuality    RecommendStatus = "BAD_LOW_QUALITY"
)

func (s RecommendStatus) valid() bool {
	switch s {
	case RecommendGood, RecommendBadBoring, RecommendBadReference, RecommendBadControversial, RecommendBadLowQuality:
		return true
	}
	return false
}

// hueAliases maps every accepted hue key to the key seeded in hues: the 13
// HueKeys, plus the original seed's two keys that the HueKeys renamed
// (DECISIONS §6). The "hue04 gap" needs no alias: the original seed had no
// hue04 at all, and hue04_joyful_charming is seeded (id 13).
var hueAliases = map[string]string{ //nolint:gochecknoglobals // constant table
	"hue01_dark_suspense": "hue01_dark_suspense", "hue02_beautiful_whimsical": "hue02_beautiful_whimsical",
	"hue03_dark_beautiful": "hue03_dark_beautiful", "hue04_joyful_charming": "hue04_joyful_charming",
	"hue05_funny_comic": "hue05_funny_comic", "hue06_dark_gritty": "hue06_dark_gritty",
	"hue07_silly_charming": "hue07_silly_charming", "hue08_charming_courageous": "hue08_charming_courageous",
	"hue09_charming_playful": "hue09_charming_playful", "hue10_inspiring": "hue10_inspiring",
	"hue11_realistic_hope": "hue11_realistic_hope", "hue12_funny_quirky": "hue12_funny_quirky",
	"hue13_informative":        "hue13_informative",
	"hue08_charming_inspiring": "hue08_charming_courageous",
	"hue13_straightforward":    "hue13_informative",
}

// CanonicalHueKey returns the seeded hue key for an input key, accepting the
// legacy keys hue08_charming_inspiring and hue13_straightforward as aliases;
// ok is false for a key that names no hue.
func CanonicalHueKey(key string) (canonical string, ok bool) {
	canonical, ok = hueAliases[key]
	return canonical, ok
}

// LabelSetPatch mirrors LabelSetCreateIn (api.md §1.5), used both to create
// and to patch a work's labels. A nil pointer, nil slice or nil map is an
// absent field. Origins and the recommend status are database labels.
type LabelSetPatch struct {
	HuePrimaryKey, HueSecondaryKey, HueTertiaryKey *string
	HueOrigin                                      *Origin
	MinAge, MaxAge                                 *int
	AgeOrigin                                      *Origin
	ReadingAbilityKeys                             []string
	ReadingAbilityOrigin                           *Origin
	HueySummary                                    *string
	SummaryOrigin                                  *Origin
	LabelledByUserID, LabelledBySAID               *uuid.UUID
	Info                                           map[string]any
	RecommendStatus                                *RecommendStatus
	RecommendStatusOrigin                          *Origin
	Checked                                        *bool
}

// Empty reports whether every field is falsy (absent, "", 0, false or an
// empty list or object), as LabelSetCreateIn.empty() does. An empty patch
// is not applied by the edition upserts.
func (p LabelSetPatch) Empty() bool {
	return !truthyStr(p.HuePrimaryKey) && !truthyStr(p.HueSecondaryKey) && !truthyStr(p.HueTertiaryKey) &&
		!p.HueOrigin.given() && !truthyInt(p.MinAge) && !truthyInt(p.MaxAge) && !p.AgeOrigin.given() &&
		len(p.ReadingAbilityKeys) == 0 && !p.ReadingAbilityOrigin.given() &&
		!truthyStr(p.HueySummary) && !p.SummaryOrigin.given() &&
		p.LabelledByUserID == nil && p.LabelledBySAID == nil && len(p.Info) == 0 &&
		(p.RecommendStatus == nil || *p.RecommendStatus == "") && !p.RecommendStatusOrigin.given() &&
		(p.Checked == nil || !*p.Checked)
}

func (o *Origin) given() bool { return o != nil && *o != "" }

func truthyStr(s *string) bool { return s != nil && *s != "" }
func truthyInt(i *int) bool    { return i != nil && *i != 0 }

// validate checks the enum values of p.
func (p LabelSetPatch) validate() error {
	for name, o := range map[string]*Origin{"hue_origin": p.HueOrigin, "age_origin": p.AgeOrigin,
		"reading_ability_origin": p.ReadingAbilityOrigin, "summary_origin": p.SummaryOrigin,
		"recommend_status_origin": p.RecommendStatusOrigin} {
		if o.given() {
			if _, ok := o.Weight(); !ok {
				return fmt.Errorf("%w: %s %q", ErrInvalidInput, name, *o)
			}
		}
	}
	for name, a := range map[string]*int{"min_age": p.MinAge, "max_age": p.MaxAge} {
		if a != nil && (*a < math.MinInt32 || *a > math.MaxInt32) {
			return fmt.Errorf("%w: %s %d out of range", ErrInvalidInput, name, *a)
		}
	}
	if p.RecommendStatus != nil && *p.RecommendStatus != "" && !p.RecommendStatus.valid() {
		return fmt.Errorf("%w: recommend_status %q", ErrInvalidInput, *p.RecommendStatus)
	}
	return nil
}

// hueLink is one labelset_hue_association row.
type hueLink struct {
	hueID   int64
	ordinal string
}

// labelSet is a labelset row as the patch rules see it.
type labelSet struct {
	id, workID                                                int64 // id 0: not yet inserted
	fresh                                                     bool  // created by this call
	minAge, maxAge                                            *int
	checked                                                   *bool
	labelledByUser, labelledBySA                              *uuid.UUID
	info                                                      map[string]any // nil: NULL
	recommendStatus                                           RecommendStatus
	hueOrigin, raOrigin, ageOrigin, statusOrigin, summaryOrig *Origin
	summary                                                   *string
	hueKeys                                                   map[string]bool // keys of the stored hue links
	newHues                                                   []hueLink       // replacement links when huesReplaced
	huesReplaced                                              bool
	newAbilities                                              []int64 // replacement links when abilitiesReplaced
	abilitiesReplaced                                         bool
}

// passes is the authority rule: nothing stored, or incoming weighs at least as much.
func passes(stored *Origin, incoming Origin) bool {
	if stored == nil || *stored == "" {
		return true
	}
	sw, ok := stored.Weight()
	if !ok {
		return true // an unknown stored origin carries no authority
	}
	iw, _ := incoming.Weight()
	return iw >= sw
}

// refs resolves hue and reading ability keys to ids.
type refs struct {
	hues, abilities map[string]int64
}

// apply applies the patch rules of domain.md §7.6 to ls, group by group, and
// reports whether any group was applied ("changed": the labeller is then
// recorded). p must be validated and its Info normalised by normalizeJSON.
func (ls *labelSet) apply(p *LabelSetPatch, r refs) bool {
	changed := false

	// Hues: the new set is {primary, secondary, tertiary} with absent slots
	// included, so it differs from the stored key set unless all three slots
	// are given; then every link is replaced by one per key that names a hue,
	// its ordinal the first slot holding that key. With no key given at all
	// the hues are cleared and hue_origin becomes NULL (the set is empty).
	if p.HueOrigin.given() && passes(ls.hueOrigin, *p.HueOrigin) {
		slots := [3]*string{p.HuePrimaryKey, p.HueSecondaryKey, p.HueTertiaryKey}
		ordinals := [3]string{"PRIMARY", "SECONDARY", "TERTIARY"}
		newSet := map[string]bool{}
		absent := false
		for _, s := range slots {
			if s == nil {
				absent = true
				continue
			}
			k := *s
			if c, ok := CanonicalHueKey(k); ok {
				k = c
			}
			newSet[k] = true
		}
		if absent || !reflect.DeepEqual(newSet, nonNilSet(ls.hueKeys)) {
			ls.huesReplaced = true
			ls.newHues = nil
			seen := map[int64]bool{}
			for i, s := range slots {
				if s == nil {
					continue
				}
				c, ok := CanonicalHueKey(*s)
				if !ok {
					continue // a key that resolves to no hue gets no link
				}
				id, ok := r.hues[c]
				if !ok || seen[id] {
					continue
				}
				seen[id] = true
				ls.newHues = append(ls.newHues, hueLink{hueID: id, ordinal: ordinals[i]})
			}
			ls.hueKeys = map[string]bool{}
			for k := range newSet {
				if _, ok := r.hues[k]; ok {
					ls.hueKeys[k] = true
				}
			}
		}
		if len(newSet) == 0 {
			ls.hueOrigin = nil
		} else {
			o := *p.HueOrigin
			ls.hueOrigin = &o
		}
		changed = true
	}

	// Age: each bound set if provided; both absent clears both.
	if p.AgeOrigin.given() && passes(ls.ageOrigin, *p.AgeOrigin) {
		if p.MinAge != nil {
			v := *p.MinAge
			ls.minAge = &v
		}
		if p.MaxAge != nil {
			v := *p.MaxAge
			ls.maxAge = &v
		}
		if p.MinAge == nil && p.MaxAge == nil {
			ls.minAge, ls.maxAge = nil, nil
		}
		o := *p.AgeOrigin
		ls.ageOrigin = &o
		changed = true
	}

	// Reading abilities: replaced by the rows of the keys (unknown keys ignored).
	if p.ReadingAbilityOrigin.given() && len(p.ReadingAbilityKeys) > 0 && passes(ls.raOrigin, *p.ReadingAbilityOrigin) {
		ls.abilitiesReplaced = true
		ls.newAbilities = nil
		seen := map[int64]bool{}
		for _, k := range p.ReadingAbilityKeys {
			if id, ok := r.abilities[k]; ok && !seen[id] {
				seen[id] = true
				ls.newAbilities = append(ls.newAbilities, id)
			}
		}
		o := *p.ReadingAbilityOrigin
		ls.raOrigin = &o
		changed = true
	}

	// Recommend status: a stored BAD_CONTROVERSIAL yields only to HUMAN.
	if p.RecommendStatusOrigin.given() && p.RecommendStatus != nil && *p.RecommendStatus != "" {
		var ok bool
		if ls.recommendStatus == RecommendBadControversial {
			ok = *p.RecommendStatusOrigin == OriginHuman
		} else {
			ok = passes(ls.statusOrigin, *p.RecommendStatusOrigin)
		}
		if ok {
			ls.recommendStatus = *p.RecommendStatus
			o := *p.RecommendStatusOrigin
			ls.statusOrigin = &o
			changed = true
		}
	}

	// Genres: info.genres truthy replaces the stored info's genres.
	if g, ok := p.Info["genres"]; ok && truthy(g) {
		if ls.info == nil {
			ls.info = map[string]any{}
		}
		ls.info["genres"] = g
		changed = true
	}

	// Summary.
	if p.SummaryOrigin.given() && truthyStr(p.HueySummary) && passes(ls.summaryOrig, *p.SummaryOrigin) {
		v := *p.HueySummary
		ls.summary = &v
		o := *p.SummaryOrigin
		ls.summaryOrig = &o
		changed = true
	}

	// Info: copied into an empty one; merged into a stored one only when the
	// incoming info holds every stored key with an equal value.
	if len(p.Info) > 0 {
		if len(ls.info) == 0 {
			ls.info = deepCopy(p.Info).(map[string]any)
			changed = true
		} else if superset(p.Info, ls.info) {
			deepMerge(ls.info, p.Info)
			for k := range ls.info {
				if _, ok := p.Info[k]; !ok {
					ls.info[k] = nil
				}
			}
			changed = true
		}
	}

	// Labeller: recorded when something changed.
	if changed {
		if p.LabelledBySAID != nil {
			v := *p.LabelledBySAID
			ls.labelledBySA = &v
		}
		if p.LabelledByUserID != nil {
			v := *p.LabelledByUserID
			ls.labelledByUser = &v
		}
	}

	// Checked: always assigned, so omitting it clears it.
	if p.Checked != nil {
		v := *p.Checked
		ls.checked = &v
	} else {
		ls.checked = nil
	}
	return changed
}

func nonNilSet(m map[string]bool) map[string]bool {
	if m == nil {
		return map[string]bool{}
	}
	return m
}

// truthy is Python's truth value of a decoded JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// superset reports whether every key of stored is in incoming with an equal value.
func superset(incoming, stored map[string]any) bool {
	for k, v := range stored {
		w, ok := incoming[k]
		if !ok || !reflect.DeepEqual(v, w) {
			return false
		}
	}
	return true
}

// deepMerge merges src into dst: nested objects merge, other values replace.
func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = deepCopy(v)
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// normalizeJSON round-trips m through JSON so values compare as decoded JSON
// does (numbers as float64, structs as objects).
func normalizeJSON(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// workPatch is one labelset patch for a work, in application order.
type workPatch struct {
	workID int64
	patch  *LabelSetPatch
}

// ApplyLabelSetPatch gets or creates the latest labelset (highest id) of the
// work and applies the patch by the rules of domain.md §7.6, group by group.
// A group applies when its origin is given and weighs at least the stored
// origin (or none is stored):
//
//   - hues: the new key set {primary, secondary, tertiary} counts absent slots,
//     so unless all three are given it differs from the stored set; a
//     different set replaces every hue link by one per key that names a hue
//     (legacy keys resolve through CanonicalHueKey, unknown keys get no link),
//     ordinal from the first slot holding it; hue_origin := the origin, or
//     NULL when no key at all is given (the hues are then cleared);
//   - age: min_age / max_age set when given, both cleared when both absent;
//   - reading abilities (non-empty keys): replaced by the keys' rows;
//   - recommend status (status given): a stored BAD_CONTROVERSIAL yields only
//     to HUMAN, whatever the stored origin's weight;
//   - summary (non-empty summary);
//   - genres (no origin): a truthy info.genres replaces the stored info's genres;
//   - info (non-empty): copied into an empty stored info, deep-merged into one
//     when it holds every stored key with an equal value, else left alone;
//   - labeller: labelled_by_user_id / labelled_by_sa_id, when given, are
//     recorded if any group above applied;
//   - checked: always assigned, so omitting it clears it.
//
// changed reports whether any group applied (the labeller condition); a
// group applies even when it rewrites equal values. updated_at is set to now.
//
// Errors: ErrInvalidInput (wrapped) for an unknown origin or status or an age
// outside int4; a refused write (the caller may not write the catalogue) or a
// missing work surfaces as the Postgres error.
func ApplyLabelSetPatch(ctx context.Context, tx DBTX, workID int64, p LabelSetPatch) (changed bool, err error) {
	ch, err := applyLabelSetPatches(ctx, tx, []workPatch{{workID: workID, patch: &p}}, planModes{})
	if err != nil {
		return false, fmt.Errorf("patch labelset of work %d: %w", workID, err)
	}
	return ch[0], nil
}
