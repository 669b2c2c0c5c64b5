package labels

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wriveted/huey-api/schema/catalog"
)

// withFields is a valid answer with some fields replaced (nil deletes).
func withFields(t *testing.T, fields map[string]any) string {
	t.Helper()
	a := validAnswer()
	for k, v := range fields {
		if v == nil {
			delete(a, k)
			continue
		}
		a[k] = v
	}
	return answerJSON(t, a)
}

func TestParseAnswerRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content, wantErr string
	}{
		{"empty", "  ", "empty"},
		{"not JSON", "{reading_ability: SPOT}", "not a JSON object"},
		{"JSON array", `["SPOT"]`, "not a JSON object"},
		{"wrong type", withFields(t, map[string]any{"min_age": "seven"}), "min_age"},
		{"no reading ability", withFields(t, map[string]any{"reading_ability": nil}), "reading_ability must list"},
		{"unknown reading ability", withFields(t, map[string]any{"reading_ability": []string{"SPOT", "LOTR"}}), `unknown key "LOTR"`},
		{"unknown hue", withFields(t, map[string]any{"hue_map": map[string]float64{"hue99_unknown": 0.5, "hue10_inspiring": 0.4}}), `unknown hue key "hue99_unknown"`},
		{"unknown listed hue", withFields(t, map[string]any{"hue_map": map[string]float64{}, "hues": []string{"blue"}}), `hues: unknown hue key "blue"`},
		{"weight above one", withFields(t, map[string]any{"hue_map": map[string]float64{"hue10_inspiring": 7, "hue05_funny_comic": 3}}), "not between 0 and 1"},
		{"negative weight", withFields(t, map[string]any{"hue_map": map[string]float64{"hue10_inspiring": -0.2, "hue05_funny_comic": 0.3}}), "not between 0 and 1"},
		{"no hue above the threshold", withFields(t, map[string]any{"hue_map": map[string]float64{"hue10_inspiring": 0.1, "hue05_funny_comic": 0.05}}), "no hue"},
		{"no hue at all", withFields(t, map[string]any{"hue_map": nil}), "no hue"},
		{"missing age", withFields(t, map[string]any{"max_age": nil}), "min_age and max_age are required"},
		{"fractional age", withFields(t, map[string]any{"min_age": 6.5}), "whole numbers"},
		{"negative age", withFields(t, map[string]any{"min_age": -1}), "0 <= min_age"},
		{"min above max", withFields(t, map[string]any{"min_age": 10, "max_age": 9}), "min_age 10, max_age 9"},
		{"max too high", withFields(t, map[string]any{"max_age": 99}), "max_age 99"},
		{"empty summary", withFields(t, map[string]any{"short_summary": "  "}), "short_summary must not be empty"},
		{"missing summary", withFields(t, map[string]any{"short_summary": nil}), "short_summary must not be empty"},
		{"unknown status", withFields(t, map[string]any{"recommend_status": "MAYBE"}), `unknown status "MAYBE"`},
		{"missing status", withFields(t, map[string]any{"recommend_status": nil}), `unknown status ""`},
		{"fractional series number", withFields(t, map[string]any{"series_number": 1.5}), "series_number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := parseAnswer(tc.content)
			if err == nil {
				t.Fatalf("accepted %s as %+v", tc.content, l)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseAnswerLenient(t *testing.T) {
	t.Parallel()
	content := "```json\n" + withFields(t, map[string]any{
		"recommend_status": " bad_boring ",
		"reading_ability":  []string{"spot", "SPOT", "cat_hat"},
		"hue_map":          map[string]float64{"HUE10_INSPIRING": 0.6, "hue13_straightforward": 0.2, "hue13_informative": 0.4},
		"series_number":    nil, "series": "", "min_age": 0, "max_age": 3,
		"genres": nil, "extra_field": "ignored",
	}) + "\n```"
	l, err := parseAnswer(content)
	if err != nil {
		t.Fatalf("parseAnswer: %v", err)
	}
	p := l.patch()
	if *p.RecommendStatus != catalog.RecommendBadBoring {
		t.Errorf("status = %q, want BAD_BORING", *p.RecommendStatus)
	}
	if strings.Join(p.ReadingAbilityKeys, ",") != "SPOT,CAT_HAT" {
		t.Errorf("reading abilities = %q, want SPOT, CAT_HAT upper-cased and deduplicated", p.ReadingAbilityKeys)
	}
	// The legacy key merges into its canonical one, keeping the larger weight.
	if *p.HuePrimaryKey != "hue10_inspiring" || *p.HueSecondaryKey != "hue13_informative" || p.HueTertiaryKey != nil {
		t.Errorf("hues = %s", show(p))
	}
	if *p.MinAge != 0 || *p.MaxAge != 3 {
		t.Errorf("ages = %d-%d, want 0-3", *p.MinAge, *p.MaxAge)
	}
	info, _ := json.Marshal(p.Info)
	for _, want := range []string{`"series":null`, `"series_number":null`, `"genres":[]`, `"hue_map":{"hue10_inspiring":0.6,"hue13_informative":0.4}`} {
		if !strings.Contains(string(info), want) {
			t.Errorf("info %s lacks %s", info, want)
		}
	}
	if strings.Contains(string(info), "extra_field") {
		t.Errorf("info %s carries an unknown answer field", info)
	}
}

func TestCapText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"short kept", "  a book  ", "a book"},
		{"exactly the cap", strings.Repeat("x", maxTextChars), strings.Repeat("x", maxTextChars)},
		{"bytes cut at a character", strings.Repeat("日", maxTextChars+1), strings.Repeat("日", maxTextChars)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := capText(tc.in)
			if got != tc.want || !utf8.ValidString(got) {
				t.Errorf("capText = %d characters %q…, want %d", utf8.RuneCountInString(got), got[:min(len(got), 12)], utf8.RuneCountInString(tc.want))
			}
		})
	}
}

func TestUserMessageOmitsEmpty(t *testing.T) {
	t.Parallel()
	msg, err := userMessage(Input{WorkID: 1, DisplayTitle: "Only a title", ShortSummaries: []string{"", "  "}, MedianPages: -3})
	if err != nil {
		t.Fatal(err)
	}
	if msg != `{"title":"Only a title"}` {
		t.Errorf("user message = %s, want only the title", msg)
	}
}
