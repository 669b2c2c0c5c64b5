package hydrate_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/schema/catalog/hydrate"
)

// info builds an EditionInfo map from key/value pairs.
func info(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func estimate(kv ...any) hydrate.EstimatedLabelSet {
	return hydrate.Estimate(hydrate.HydratedBookData{Info: info(kv...)})
}

func TestEstimateAges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		info             []any
		min, max, origin any // nil when absent
	}{
		{"CBMC wins over qualifiers", []any{"cbmccode", "C", "thema_qualifiers", []string{"5AN"}}, 7, 9, "NIELSEN_CBMC"},
		{"CBMC code must be a key", []any{"cbmccode", "CX", "thema_qualifiers", []string{"5AJ"}}, 8, 12, "NIELSEN_THEMA"},
		{"min from THEMA, max from BIC", []any{"thema_qualifiers", []string{"1MBN", "5AH"}, "bic_qualifiers", []string{"5AK"}}, 7, 13, "NIELSEN_THEMA"},
		{"BIC", []any{"bic_qualifiers", []any{"5AQ"}}, 14, 18, "NIELSEN_BIC"},
		{"BIC table stops at 5AQ", []any{"bic_qualifiers", []string{"5AS"}, "interest_age", "From 5 years"}, 5, 7, "NIELSEN_IA"},
		{"interest age range", []any{"interest_age", "From 6 to 9 years"}, 6, 11, "NIELSEN_IA"},
		{"interest age in months", []any{"interest_age", "From 18 months"}, 1, 2, "NIELSEN_IA"},
		{"interest age 'to' without 'from' is skipped", []any{"interest_age", "5 to 8", "reading_age", "8+"}, 8, 8, "NIELSEN_RA"},
		{"reading age max in months only if IA says months", []any{"interest_age", "24 months to 3 years", "reading_age", "From 36 months"}, 3, 3, "NIELSEN_RA"},
		{"reading age months ignored for max without IA months", []any{"reading_age", "From 30 months"}, 2, 30, "NIELSEN_RA"},
		{"zero minimum is kept", []any{"cbmccode", "A"}, 0, 5, "NIELSEN_CBMC"},
		{"nothing to go on", []any{"interest_age", "Adult"}, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ls := estimate(tc.info...)
			if got := deref(ls.MinAge); got != tc.min {
				t.Errorf("min_age = %v, want %v", got, tc.min)
			}
			if got := deref(ls.MaxAge); got != tc.max {
				t.Errorf("max_age = %v, want %v", got, tc.max)
			}
			if got := deref(ls.AgeOrigin); got != tc.origin {
				t.Errorf("age_origin = %v, want %v", got, tc.origin)
			}
		})
	}
}

func TestEstimateReadingAbilities(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		info []any
		want []string
	}{
		{"long book for 12+", []any{"pages", "450", "interest_age", "From 12 to 14"}, []string{"HARRY_POTTER"}},
		{"young adult prodcc", []any{"pages", 300, "interest_age", "From 10", "prodcc", "Y2.2"}, []string{"HARRY_POTTER"}},
		{"200 pages for 7+", []any{"pages", "256", "cbmccode", "C"}, []string{"HARRY_POTTER", "CHARLIE_CHOCOLATE"}},
		{"chapter book 7-9", []any{"pages", "120", "interest_age", "From 7 to 7"}, []string{"CHARLIE_CHOCOLATE", "TREEHOUSE"}},
		{"picture book", []any{"pages", "32", "interest_age", "From 6 to 8"}, []string{"SPOT"}},
		{"early reader", []any{"pages", "80", "interest_age", "From 5 to 5"}, []string{"CAT_HAT", "TREEHOUSE"}},
		{"middle grade 10-12", []any{"pages", 180.0, "interest_age", "From 10 to 10"}, []string{"CHARLIE_CHOCOLATE"}},
		{"short early reader", []any{"pages", "40", "interest_age", "From 5 to 5"}, []string{"CAT_HAT"}},
		{"150 pages for 5-7", []any{"pages", "150", "interest_age", "From 5 to 5"}, []string{"TREEHOUSE"}},
		{"50-100 pages, PB always false", []any{"pages", "60", "interest_age", "From 9 to 11",
			"genres", []any{map[string]any{"name": "Picture books", "source": "BIC", "code": "YB"}}}, []string{"TREEHOUSE"}},
		{"no pages", []any{"interest_age", "From 7 to 9"}, []string{}},
		{"unparsable pages", []any{"pages", "many", "interest_age", "From 7 to 9"}, []string{}},
		{"zero minimum age counts as absent", []any{"pages", "60", "cbmccode", "A"}, []string{}}, // else TREEHOUSE
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ls := estimate(tc.info...)
			if !reflect.DeepEqual(ls.ReadingAbilities, tc.want) {
				t.Errorf("reading_abilities = %v, want %v", ls.ReadingAbilities, tc.want)
			}
			if wantOrigin := len(tc.want) > 0; (ls.ReadingAbilityOrigin != nil) != wantOrigin ||
				(wantOrigin && *ls.ReadingAbilityOrigin != "PREDICTED_NIELSEN") {
				t.Errorf("reading_ability_origin = %v", deref(ls.ReadingAbilityOrigin))
			}
		})
	}
}

func TestEstimateRecommendStatus(t *testing.T) {
	t.Parallel()
	genre := func(source, code string) []map[string]any {
		return []map[string]any{{"name": "x", "source": "BISAC", "code": "ABC"}, {"name": "y", "source": source, "code": code}}
	}
	for _, tc := range []struct {
		name string
		info []any
		want string
	}{
		{"reference prodcc", []any{"prodcc", "Y4.3"}, "BAD_REFERENCE"},
		{"T6 is reference before controversial", []any{"prodcc", "T6.1"}, "BAD_REFERENCE"},
		{"controversial prodcc", []any{"prodcc", "F2.6"}, "BAD_CONTROVERSIAL"},
		{"reference BIC", []any{"prodcc", "Y2.1", "genres", genre("BIC", "WFA")}, "BAD_REFERENCE"},
		{"controversial BIC", []any{"genres", genre("BIC", "YXA")}, "BAD_CONTROVERSIAL"},
		{"reference THEMA", []any{"genres", genre("THEMA", "YPCA")}, "BAD_REFERENCE"},
		{"controversial THEMA", []any{"genres", genre("THEMA", "5PS")}, "BAD_CONTROVERSIAL"},
		{"fiction", []any{"prodcc", "Y2.1", "genres", genre("BIC", "YFQ"), "thema_qualifiers", []string{"5AJ"}}, "GOOD"},
		{"no info", nil, "GOOD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ls := estimate(tc.info...)
			if deref(ls.RecommendStatus) != tc.want || deref(ls.RecommendStatusOrigin) != "PREDICTED_NIELSEN" {
				t.Errorf("recommend status = %v (%v), want %s (PREDICTED_NIELSEN)",
					deref(ls.RecommendStatus), deref(ls.RecommendStatusOrigin), tc.want)
			}
			if ls.Hues == nil || len(ls.Hues) != 0 || ls.HueOrigin != nil {
				t.Errorf("hues = %v (%v), want [] and no origin", ls.Hues, deref(ls.HueOrigin))
			}
		})
	}
}

func TestEstimateSummary(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Lorem  ipsum dolor sit amet. ", 20) // 580 characters
	longShort := strings.Repeat("word ", 60)
	for _, tc := range []struct {
		name        string
		short, long any
		want        any
	}{
		{"short summary", "A fine short summary.", "Long one.", "A fine short summary."},
		{"short kept even when over 250", longShort, "Long enough summary.", longShort},
		{"too short falls back to long", "Soon.", "Long enough summary.", "Long enough summary."},
		{"placeholder falls back to long", "Synopsis Coming Soon....", "Long enough summary.", "Long enough summary."},
		{"long is shortened", nil, long, strings.Repeat("Lorem ipsum dolor sit amet. ", 8) + "Lorem ipsum dolor sit..."},
		{"none usable", "Synopsis coming soon", "short", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ls := estimate("summary_short", tc.short, "summary_long", tc.long)
			if got := deref(ls.HueySummary); got != tc.want {
				t.Errorf("huey_summary = %q, want %q", got, tc.want)
			}
			if got, ok := deref(ls.HueySummary).(string); ok && (len(got) > 250 && got != longShort ||
				deref(ls.SummaryOrigin) != "PREDICTED_NIELSEN") {
				t.Errorf("summary of %d characters, origin %v", len(got), deref(ls.SummaryOrigin))
			}
		})
	}
}

// Estimate reads Info as Map builds it and as it comes back from JSON (a
// cached record), with the same result.
func TestEstimateMappedAndDecoded(t *testing.T) {
	t.Parallel()
	rec, err := newProvider(t, 200, fixture(t)).client("").Fetch(context.Background(), isbn)
	if err != nil {
		t.Fatal(err)
	}
	rec["BIC2SC1"] = "YXA" // controversial, found only through the genres
	d := hydrate.Map(rec)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var decoded hydrate.HydratedBookData
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	want := hydrate.EstimatedLabelSet{
		Hues: []string{}, MinAge: ptr(7), MaxAge: ptr(9), AgeOrigin: ptr("NIELSEN_CBMC"),
		ReadingAbilities: []string{"HARRY_POTTER", "CHARLIE_CHOCOLATE"}, ReadingAbilityOrigin: ptr("PREDICTED_NIELSEN"),
		HueySummary: ptr("Andy and Terry live in a 13-storey treehouse.Café opening soon!"), SummaryOrigin: ptr("PREDICTED_NIELSEN"),
		RecommendStatus: ptr("BAD_CONTROVERSIAL"), RecommendStatusOrigin: ptr("PREDICTED_NIELSEN"),
	}
	for name, in := range map[string]hydrate.HydratedBookData{"mapped": d, "decoded": decoded} {
		if got := hydrate.Estimate(in); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Estimate = %+v, want %+v", name, got, want)
		}
	}
}
