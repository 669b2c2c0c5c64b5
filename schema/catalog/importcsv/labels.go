package importcsv

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	// hueRe finds a hue's number: "hue05_funny_comic", "hue02 _beautiful_whimsical".
	hueRe = regexp.MustCompile(`(?i)\bhue\s*(\d{1,2})`)
	// doNotUseRe marks a retired hue cell ("DO NOT USE hue04_charming joyful").
	doNotUseRe = regexp.MustCompile(`(?i)do\s+not\s+use`)
	// listSepRe separates the items of a list cell.
	listSepRe = regexp.MustCompile(`\s*[,;|/\n]\s*`)
	// Age tokens: "5-8", "5to6", "12 to 14", "9+", "13plus", "7", "Stage2".
	ageRangeRe = regexp.MustCompile(`(?i)^(\d{1,2})\s*(?:-|–|—|to)\s*(\d{1,2})(?:\s*(?:years?|yrs?|y))?$`)
	ageOpenRe  = regexp.MustCompile(`(?i)^(\d{1,2})\s*(?:\+|plus|and\s+(?:up|over|older))(?:\s*(?:years?|yrs?|y))?$`)
	ageOneRe   = regexp.MustCompile(`(?i)^(\d{1,2})(?:\s*(?:years?|yrs?|y))?$`)
	stageRe    = regexp.MustCompile(`(?i)^(early\s*)?stage\s*(\d)$`)
)

// OpenAgeMax is the max_age given to an open-ended age range ("13plus",
// "9+"): the oldest age the catalogue is tagged for. An open range that
// starts above it keeps its start as both bounds.
const OpenAgeMax = 14

// hueKey is the catalogue's hue key for a hue number (domain.md §2
// HueKeys). The CSV's legacy names (hue08_charming_inspiring,
// hue13_straightforward) map by their number to today's keys.
func hueKey(n int) string {
	switch n {
	case 1:
		return "hue01_dark_suspense"
	case 2:
		return "hue02_beautiful_whimsical"
	case 3:
		return "hue03_dark_beautiful"
	case 4:
		return "hue04_joyful_charming"
	case 5:
		return "hue05_funny_comic"
	case 6:
		return "hue06_dark_gritty"
	case 7:
		return "hue07_silly_charming"
	case 8:
		return "hue08_charming_courageous"
	case 9:
		return "hue09_charming_playful"
	case 10:
		return "hue10_inspiring"
	case 11:
		return "hue11_realistic_hope"
	case 12:
		return "hue12_funny_quirky"
	case 13:
		return "hue13_informative"
	}
	return ""
}

// hues maps the primary, secondary and tertiary hue cells to at most three
// distinct hue keys in that order. A cell marked "DO NOT USE" is skipped and
// the cells after it move up a slot; a cell may list several hues. Cells
// that name no hue are reported in warn.
func hues(cells []string, warn func(string)) []string {
	var keys []string
	for _, cell := range cells {
		for _, item := range listSepRe.Split(strings.TrimSpace(cell), -1) {
			if item == "" {
				continue
			}
			if doNotUseRe.MatchString(item) {
				warn("hue marked DO NOT USE ignored")
				continue
			}
			m := hueRe.FindStringSubmatch(item)
			if m == nil {
				warn("hue cell without a hueNN key ignored")
				continue
			}
			n, _ := strconv.Atoi(m[1])
			k := hueKey(n)
			if k == "" {
				warn("unknown hue number ignored")
				continue
			}
			if !slices.Contains(keys, k) && len(keys) < 3 {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// readingAbilityKey maps a reading ability's display name, seeded name or
// key to its key (domain.md §14.1), or "".
func readingAbilityKey(name string) string {
	switch k := nameKey(name); k {
	case "spot", "wheresspot", "whereisspot":
		return "SPOT"
	case "catthehat", "catinthehat", "thecatinthehat", "cathat":
		return "CAT_HAT"
	case "treehouse", "13storeytreehouse", "the13storeytreehouse":
		return "TREEHOUSE"
	case "charlieandthechocolatefactory", "charliechocolate", "charlie":
		return "CHARLIE_CHOCOLATE"
	case "harrypotter", "harrypotterandthephilosophersstone", "harrypotterandthesorcerersstone":
		return "HARRY_POTTER"
	}
	return ""
}

// readingAbilities maps a list cell of reading-ability names to keys, in
// order, without duplicates.
func readingAbilities(cell string, warn func(string)) []string {
	var keys []string
	for _, item := range listSepRe.Split(strings.TrimSpace(cell), -1) {
		if item == "" {
			continue
		}
		k := readingAbilityKey(item)
		if k == "" {
			warn("unknown reading ability ignored")
			continue
		}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// ageRange maps an age cell to min and max ages. The cell lists one or more
// ranges ("5to6,7to9", "5-8", "12 to 14", "9+", "13plus", "7"); the result
// spans them all. NSW school stages ("Stage2") are used only when the cell
// has no ages. ok is false when the cell names no age.
func ageRange(cell string, warn func(string)) (lo, hi int, ok bool) {
	var stages [][2]int
	add := func(a, b int) {
		if a > b {
			a, b = b, a
		}
		if !ok {
			lo, hi, ok = a, b, true
			return
		}
		lo, hi = min(lo, a), max(hi, b)
	}
	for _, tok := range listSepRe.Split(strings.TrimSpace(cell), -1) {
		tok = strings.TrimSpace(strings.TrimSuffix(strings.ToLower(tok), "."))
		tok = strings.TrimPrefix(strings.TrimPrefix(tok, "ages "), "age ")
		if tok == "" {
			continue
		}
		if m := ageRangeRe.FindStringSubmatch(tok); m != nil {
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			add(a, b)
		} else if m := ageOpenRe.FindStringSubmatch(tok); m != nil {
			a, _ := strconv.Atoi(m[1])
			add(a, max(a, OpenAgeMax))
		} else if m := ageOneRe.FindStringSubmatch(tok); m != nil {
			a, _ := strconv.Atoi(m[1])
			add(a, a)
		} else if m := stageRe.FindStringSubmatch(tok); m != nil {
			n, _ := strconv.Atoi(m[2])
			if r, found := stageAges(m[1] != "", n); found {
				stages = append(stages, r)
			} else {
				warn("unknown school stage in age range ignored")
			}
		} else {
			warn("age range not understood")
		}
	}
	if !ok {
		for _, r := range stages {
			add(r[0], r[1])
		}
	}
	return lo, hi, ok
}

// stageAges is the age span of an NSW school stage: Early Stage 1 is
// kindergarten, Stage 1 years 1–2, Stage 2 years 3–4, Stage 3 years 5–6,
// Stage 4 years 7–8, Stage 5 years 9–10, Stage 6 years 11–12.
func stageAges(early bool, n int) ([2]int, bool) {
	if early {
		return [2]int{5, 6}, n == 1
	}
	switch n {
	case 1:
		return [2]int{6, 8}, true
	case 2:
		return [2]int{8, 10}, true
	case 3:
		return [2]int{10, 12}, true
	case 4:
		return [2]int{12, 14}, true
	case 5:
		return [2]int{14, 16}, true
	case 6:
		return [2]int{16, 18}, true
	}
	return [2]int{}, false
}

// truthy reads a yes/no cell: "checked", "yes", "y", "true", "1", "x",
// "controversial" are true; "", "no", "n", "false", "0" false.
func truthy(cell string) bool {
	switch strings.ToLower(strings.TrimSpace(cell)) {
	case "", "no", "n", "false", "0", "-", "unchecked", "not checked", "none":
		return false
	}
	return true
}

// genres lists the cell's genre names, trimmed, without duplicates.
func genres(cell string) []string {
	var out []string
	for _, g := range strings.Split(cell, ",") {
		g = strings.Join(strings.Fields(g), " ")
		if g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}
