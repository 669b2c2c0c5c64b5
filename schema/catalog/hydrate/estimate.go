package hydrate

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// numberRE finds the numbers in an interest or reading age text.
var numberRE = regexp.MustCompile(`\d+`)

type ageRange struct{ min, max int }

// cbmcAge looks up a CBMC code; only a one-letter code is a table key.
func cbmcAge(code string) (ageRange, bool) {
	i := strings.Index("ABCDE", code)
	if len(code) != 1 || i < 0 {
		return ageRange{}, false
	}
	return [...]ageRange{{0, 5}, {5, 7}, {7, 9}, {9, 11}, {12, 14}}[i], true
}

// qualifierAge looks up a THEMA age qualifier (5AB…5AU) or, with bic, a BIC
// one (the same table, up to 5AQ).
func qualifierAge(code string, bic bool) (ageRange, bool) {
	table := [...]struct {
		code string
		ages ageRange
	}{
		{"5AB", ageRange{0, 2}}, {"5AC", ageRange{3, 4}}, {"5AD", ageRange{4, 6}}, {"5AF", ageRange{5, 7}},
		{"5AG", ageRange{6, 8}}, {"5AH", ageRange{7, 9}}, {"5AJ", ageRange{8, 10}}, {"5AK", ageRange{9, 11}},
		{"5AL", ageRange{10, 12}}, {"5AM", ageRange{11, 13}}, {"5AN", ageRange{12, 14}}, {"5AP", ageRange{13, 15}},
		{"5AQ", ageRange{14, 16}}, {"5AS", ageRange{15, 17}}, {"5AT", ageRange{16, 18}}, {"5AU", ageRange{17, 19}},
	}
	for _, e := range table {
		if e.code == code {
			return e.ages, true
		}
		if bic && e.code == "5AQ" {
			break
		}
	}
	return ageRange{}, false
}

// Estimate infers ages, reading abilities, a recommend status and a summary
// from d.Info by the rules of tasks.md §3.5; it never infers hues. It reads
// Info as Map builds it, and also as it decodes from JSON.
func Estimate(d HydratedBookData) EstimatedLabelSet {
	info := d.Info
	ls := EstimatedLabelSet{Hues: []string{}, ReadingAbilities: []string{}}

	lo, origin := minAge(info)
	hi := maxAge(info)
	lo, hi = fillBounds(lo, hi)
	ls.MinAge, ls.MaxAge, ls.AgeOrigin = lo, hi, origin

	if ra := readingAbilities(info, lo, hi); ra != nil {
		ls.ReadingAbilities, ls.ReadingAbilityOrigin = ra, ptr(originPredicted)
	}
	ls.RecommendStatus, ls.RecommendStatusOrigin = ptr(recommendStatus(info)), ptr(originPredicted)
	if s := summary(info); s != "" {
		ls.HueySummary, ls.SummaryOrigin = &s, ptr(originPredicted)
	}
	return ls
}

// minAge applies the first minimum-age rule that matches and names its origin.
func minAge(info map[string]any) (*int, *string) {
	if r, ok := cbmcAge(infoString(info, "cbmccode")); ok {
		return ptr(r.min), ptr(originCBMC)
	}
	if r, ok := firstAge(infoStrings(info, "thema_qualifiers"), false); ok {
		return ptr(r.min), ptr(originTHEMA)
	}
	if r, ok := firstAge(infoStrings(info, "bic_qualifiers"), true); ok {
		return ptr(r.min), ptr(originBIC)
	}
	for _, src := range []struct{ key, origin string }{{"interest_age", originIA}, {"reading_age", originRA}} {
		text := strings.ToLower(infoString(info, src.key))
		if nums := ageNumbers(text); nums != nil {
			n := nums[0]
			if strings.Contains(text, "months") {
				n /= 12 // floor
			}
			return &n, ptr(src.origin)
		}
	}
	return nil, nil
}

// maxAge applies the first maximum-age rule that matches. Note the order (BIC
// before THEMA) differs from minAge, and the reading age is read as months
// when the interest age text mentions months, both as in the original.
func maxAge(info map[string]any) *int {
	if r, ok := cbmcAge(infoString(info, "cbmccode")); ok {
		return ptr(r.max)
	}
	if r, ok := firstAge(infoStrings(info, "bic_qualifiers"), true); ok {
		return ptr(r.max + 2)
	}
	if r, ok := firstAge(infoStrings(info, "thema_qualifiers"), false); ok {
		return ptr(r.max + 2)
	}
	iaMonths := strings.Contains(strings.ToLower(infoString(info, "interest_age")), "months")
	if nums := ageNumbers(strings.ToLower(infoString(info, "interest_age"))); nums != nil {
		n := nums[len(nums)-1]
		if iaMonths {
			return ptr((n + 11) / 12) // ceil
		}
		return ptr(n + 2)
	}
	if nums := ageNumbers(strings.ToLower(infoString(info, "reading_age"))); nums != nil {
		n := nums[len(nums)-1]
		if iaMonths {
			return ptr((n + 11) / 12)
		}
		return &n
	}
	return nil
}

// ageNumbers returns the numbers of a lower-cased age text that qualifies
// (it mentions "from" or does not mention "to"), or nil.
func ageNumbers(text string) []int {
	if text == "" || (!strings.Contains(text, "from") && strings.Contains(text, "to")) {
		return nil
	}
	var nums []int
	for _, m := range numberRE.FindAllString(text, -1) {
		if n, err := strconv.Atoi(m); err == nil {
			nums = append(nums, n)
		}
	}
	return nums
}

// fillBounds derives a missing bound from the other: max = min + 4 or
// min = max − 4. A zero bound is not extended (the original tests it for
// truthiness). Both rule lists draw on the same sources, so in practice
// either both bounds or neither are found; this is kept for fidelity.
func fillBounds(lo, hi *int) (*int, *int) {
	switch {
	case lo != nil && *lo != 0 && hi == nil:
		hi = ptr(*lo + 4)
	case hi != nil && *hi != 0 && lo == nil:
		lo = ptr(*hi - 4)
	}
	return lo, hi
}

// firstAge returns the ages of the first qualifier in the table.
func firstAge(codes []string, bic bool) (ageRange, bool) {
	for _, c := range codes {
		if r, ok := qualifierAge(c, bic); ok {
			return r, true
		}
	}
	return ageRange{}, false
}

// readingAbilities applies the first matching row of the §3.5 table. It needs
// a minimum age, a maximum age and a page count, each non-zero.
func readingAbilities(info map[string]any, lo, hi *int) []string {
	p := pages(info)
	if lo == nil || hi == nil || *lo == 0 || *hi == 0 || p == 0 {
		return nil
	}
	lmin, lmax := *lo, *hi
	prodcc := infoString(info, "prodcc")
	ya := prodcc == "Y2.2" || prodcc == "Y4.4"
	// pb ("picture book / early learning") is meant to be a BIC genre with
	// code YB, but the original compares genre objects with a string, so it
	// is always false. We keep that: it is the original's observable output.
	const pb = false
	in := func(a, b int) bool { return p >= a && p <= b }

	switch {
	case (p >= 300 && lmin >= 10 && ya) || (p >= 500 && lmin >= 9 && lmax <= 11) || (p >= 400 && lmin >= 12):
		return []string{abilityHarry}
	case (p >= 200 && lmin >= 10 && ya) || (p >= 200 && lmin >= 12 && ya) || (p >= 400 && lmin >= 11) ||
		(p >= 200 && lmin >= 7):
		return []string{abilityHarry, abilityCharlie}
	case (lmax < 11 && ya) || (in(100, 250) && lmin > 6 && lmax < 10 && !pb) ||
		(in(100, 200) && lmin > 8 && lmax < 12) || (p >= 300 && lmin > 4 && lmax < 8) ||
		(in(100, 150) && lmin > 6 && lmax < 10):
		return []string{abilityCharlie, abilityTreehouse}
	case (p <= 33 && lmin > 5 && lmax < 11) || (lmin > 4 && lmax < 7 && pb):
		return []string{abilitySpot}
	// The original's SPOT + CAT_HAT row (pages ≤ 33, min > 5, max < 11) is
	// shadowed by the row above and left out.
	case (lmin > 6 && lmax < 10 && pb) || (in(50, 100) && lmin > 4 && lmax < 8):
		return []string{abilityCatHat, abilityTreehouse}
	case (in(250, 350) && lmin > 6 && lmax < 10 && !pb) || (p >= 400 && lmin > 6 && lmax < 10 && !pb) ||
		(in(200, 350) && lmin > 8 && lmax < 12) || (in(100, 200) && lmin > 9 && lmax < 13) ||
		(in(400, 1000) && lmax < 12) || (in(200, 1000) && lmax > 11) || (in(150, 200) && lmin > 6 && lmax < 10):
		return []string{abilityCharlie}
	case (in(33, 50) && lmin > 4 && lmax < 8) || (in(33, 50) && pb):
		return []string{abilityCatHat}
	case (in(100, 300) && lmin > 4 && lmax < 8) || (in(50, 100) && !pb):
		return []string{abilityTreehouse}
	}
	return nil
}

// recommendStatus applies the first matching prefix rule (§3.5), else GOOD.
func recommendStatus(info map[string]any) string {
	var bic, thema []string
	for _, g := range infoGenres(info) {
		switch g.source {
		case "BIC":
			bic = append(bic, g.code)
		case "THEMA":
			thema = append(thema, g.code)
		}
	}
	prodcc := []string{infoString(info, "prodcc")}
	for _, rule := range []struct {
		codes    []string
		prefixes []string
		status   string
	}{
		{prodcc, []string{"Y4.2", "Y4.3", "Y5", "Y6", "S", "T"}, statusReference},
		{prodcc, []string{"F2.6", "T6", "T7", "T9", "T10"}, statusControversial},
		{bic, []string{"A", "B", "C", "D", "E", "G", "H", "J", "K", "L", "M", "P", "R", "T", "U", "V", "W", "YNL", "YQ"}, statusReference},
		{bic, []string{"5X", "YX", "JMU", "VFV"}, statusControversial},
		{thema, []string{"A", "C", "D", "E", "G", "J", "K", "L", "M", "P", "Q", "R", "S", "T", "U", "V", "W", "YNL", "YP", "YR", "YX", "YZ"}, statusReference},
		{thema, []string{"5P", "JBF", "XAMT", "XAMV", "XAMX", "XAMY"}, statusControversial},
	} {
		for _, code := range rule.codes {
			for _, prefix := range rule.prefixes {
				if code != "" && strings.HasPrefix(code, prefix) {
					return rule.status
				}
			}
		}
	}
	return statusGood
}

// summary picks summary_short, else summary_long shortened to 250 characters.
// A usable summary is longer than 10 characters and is not a "synopsis
// coming soon" placeholder.
func summary(info map[string]any) string {
	usable := func(s string) bool {
		return utf8.RuneCountInString(s) > 10 && !strings.Contains(strings.ToLower(s), "synopsis coming soon")
	}
	if s := infoString(info, "summary_short"); usable(s) {
		return s
	}
	if s := infoString(info, "summary_long"); usable(s) {
		return shorten(s, 250)
	}
	return ""
}

// shorten collapses whitespace and, if the text is still longer than width
// characters, keeps as many whole words as fit with "..." appended (Python's
// textwrap.shorten with placeholder "...", which the original uses; unlike
// it, this does not break at hyphens).
func shorten(s string, width int) string {
	const placeholder = "..."
	words := strings.Fields(s)
	if s = strings.Join(words, " "); utf8.RuneCountInString(s) <= width {
		return s
	}
	var b strings.Builder
	n := 0
	for _, w := range words {
		add := utf8.RuneCountInString(w)
		if n > 0 {
			add++
		}
		if n+add+len(placeholder) > width {
			break
		}
		if n > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		n += add
	}
	if n == 0 { // the first word alone is too long: cut it
		return string([]rune(words[0])[:width-len(placeholder)]) + placeholder
	}
	return b.String() + placeholder
}

// Info accessors: they accept Map's types and those of decoded JSON.

func infoString(info map[string]any, k string) string {
	switch v := info[k].(type) {
	case string:
		return v
	case *string:
		if v != nil {
			return *v
		}
	}
	return ""
}

func infoStrings(info map[string]any, k string) []string {
	switch v := info[k].(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

type genre struct{ source, code string }

func infoGenres(info map[string]any) []genre {
	var maps []map[string]any
	switch v := info["genres"].(type) {
	case []map[string]any:
		maps = v
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				maps = append(maps, m)
			}
		}
	}
	out := make([]genre, 0, len(maps))
	for _, m := range maps {
		s, _ := m["source"].(string)
		c, _ := m["code"].(string)
		out = append(out, genre{s, c})
	}
	return out
}

// pages reads info.pages as a number; absent or unparsable is 0.
func pages(info map[string]any) int {
	switch v := info["pages"].(type) {
	case string:
		n, _ := strconv.Atoi(strings.TrimSpace(v))
		return n
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return 0
}
