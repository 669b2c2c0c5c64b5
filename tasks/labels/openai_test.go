package labels

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wriveted/huey-api/schema/catalog"
)

const testKey = "sk-test-secret-key-0123456789"

// fakeOpenAI is a loopback OpenAI-compatible chat-completions server. It
// checks every request and answers with the scripted contents in turn (the
// last one repeats).
type fakeOpenAI struct {
	t       testing.TB
	model   string   // expected model
	answers []string // message contents to answer with

	mu       sync.Mutex
	requests []chatRequest
}

// newFake starts a fake server expecting model and answering answers; it is
// closed when the test ends.
func newFake(t testing.TB, model string, answers ...string) (*fakeOpenAI, *httptest.Server) {
	t.Helper()
	f := &fakeOpenAI{t: t, model: model, answers: answers}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.t.Errorf("request %s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
		f.t.Errorf("Authorization = %q, want the bearer key", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		f.t.Errorf("Content-Type = %q", got)
	}
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("decode request: %v", err)
	}
	if req.Model != f.model {
		f.t.Errorf("model = %q, want %q", req.Model, f.model)
	}
	if req.ResponseFormat.Type != "json_object" {
		f.t.Errorf("response_format = %+v, want json_object", req.ResponseFormat)
	}
	if len(req.Messages) < 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
		f.t.Errorf("messages do not start with system, user: %+v", req.Messages)
	}
	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, req)
	f.mu.Unlock()

	content := f.answers[min(n, len(f.answers)-1)]
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "model": req.Model,
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content},
		}},
	})
}

// seen returns the requests received so far.
func (f *fakeOpenAI) seen() []chatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func provider(srv *httptest.Server) *OpenAI {
	return &OpenAI{BaseURL: srv.URL + "/v1", APIKey: testKey, HTTP: srv.Client()}
}

// answerJSON encodes an answer object for the fake to return.
func answerJSON(t testing.TB, a map[string]any) string {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// validAnswer is a complete valid answer; tests override fields.
func validAnswer() map[string]any {
	return map[string]any{
		"reading_ability": []string{"TREEHOUSE", "CHARLIE_CHOCOLATE"},
		"hue_map": map[string]float64{
			"hue05_funny_comic":    0.5,
			"hue12_funny_quirky":   0.3,
			"hue01_dark_suspense":  0.3, // ties with hue12: the smaller key ranks first
			"hue11_realistic_hope": 0.2, // fourth: no slot left
			"hue10_inspiring":      0.1, // not above the threshold
		},
		"min_age":              7,
		"max_age":              11,
		"short_summary":        "A boy and his dog solve silly mysteries.",
		"long_summary":         "A longer description.",
		"recommend_status":     "GOOD",
		"genres":               []string{"Humour", "Mystery"},
		"styles":               []string{"illustrated"},
		"characters":           []string{"Tom", "Rex"},
		"series":               "Tom and Rex",
		"series_number":        2,
		"gender":               "male",
		"awards":               []string{},
		"notes":                nil,
		"controversial_themes": []string{},
	}
}

// show renders a patch readably (pointers dereferenced) for failure messages.
func show(p catalog.LabelSetPatch) string {
	b, _ := json.Marshal(p)
	return string(b)
}

func TestLabelMapsValidAnswer(t *testing.T) {
	t.Parallel()
	fake, srv := newFake(t, "gpt-4", answerJSON(t, validAnswer()))
	long := strings.Repeat("é", 2000) // multi-byte: the cap counts characters
	var summaries []string
	for range 25 {
		summaries = append(summaries, long)
	}
	in := Input{
		WorkID: 42, DisplayTitle: "The Title", Authors: "Ann Author, Bob Writer",
		HueySummary: long, ShortSummaries: summaries, Genres: []string{"Humour", long},
		MedianPages: 120, LongSummary: long, Keywords: long, CBMCText: long, ProdCT: long,
	}

	got, err := provider(srv).Label(context.Background(), in)
	if err != nil {
		t.Fatalf("Label: %v", err)
	}

	reqs := fake.seen()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	if n := len(reqs[0].Messages); n != 2 {
		t.Fatalf("%d messages, want system and user", n)
	}
	for _, want := range []string{"hue04_joyful_charming", "Charming/Courageous", "hue13_informative", "SPOT", "CAT_HAT",
		"TREEHOUSE", "CHARLIE_CHOCOLATE", "HARRY_POTTER", "BAD_CONTROVERSIAL", `"hue_map"`, `"short_summary"`} {
		if !strings.Contains(reqs[0].Messages[0].Content, want) {
			t.Errorf("system prompt lacks %q", want)
		}
	}
	var sent request
	if err := json.Unmarshal([]byte(reqs[0].Messages[1].Content), &sent); err != nil {
		t.Fatalf("user message is not the JSON request: %v", err)
	}
	capped := strings.Repeat("é", maxTextChars)
	for name, s := range map[string]string{"existing_summary": sent.HueySummary, "long_summary": sent.LongSummary,
		"keywords": sent.Keywords, "cbmctext": sent.CBMCText, "prodct": sent.ProdCT, "genre": sent.Genres[1]} {
		if s != capped {
			t.Errorf("%s has %d characters, want the first %d", name, utf8.RuneCountInString(s), maxTextChars)
		}
	}
	if len(sent.ShortSummaries) != maxShortSummaries {
		t.Errorf("%d short summaries sent, want %d", len(sent.ShortSummaries), maxShortSummaries)
	}
	for i, s := range sent.ShortSummaries {
		if s != capped {
			t.Errorf("short summary %d has %d characters", i, utf8.RuneCountInString(s))
		}
	}
	if sent.Title != "The Title" || sent.Authors != "Ann Author, Bob Writer" || sent.MedianPages != 120 || sent.Genres[0] != "Humour" {
		t.Errorf("request = %+v, want the input's title, authors, pages and genres", sent)
	}

	v := catalog.OriginVertexAI
	want := catalog.LabelSetPatch{
		HuePrimaryKey:         ptr("hue05_funny_comic"),
		HueSecondaryKey:       ptr("hue01_dark_suspense"),
		HueTertiaryKey:        ptr("hue12_funny_quirky"),
		HueOrigin:             &v,
		MinAge:                ptr(7),
		MaxAge:                ptr(11),
		AgeOrigin:             &v,
		ReadingAbilityKeys:    []string{"TREEHOUSE", "CHARLIE_CHOCOLATE"},
		ReadingAbilityOrigin:  &v,
		HueySummary:           ptr("A boy and his dog solve silly mysteries."),
		SummaryOrigin:         &v,
		RecommendStatus:       ptr(catalog.RecommendGood),
		RecommendStatusOrigin: &v,
		Checked:               ptr(true),
		Info: map[string]any{
			"long_summary": "A longer description.",
			"genres":       []string{"Humour", "Mystery"},
			"styles":       []string{"illustrated"},
			"characters":   []string{"Tom", "Rex"},
			"hue_map": map[string]float64{"hue05_funny_comic": 0.5, "hue12_funny_quirky": 0.3,
				"hue01_dark_suspense": 0.3, "hue11_realistic_hope": 0.2, "hue10_inspiring": 0.1},
			"series":               "Tom and Rex",
			"series_number":        2,
			"gender":               "male",
			"awards":               []string{},
			"notes":                nil,
			"controversial_themes": []string{},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("patch\n got %s\nwant %s", show(got), show(want))
	}
}

func TestLabelRetriesInvalidAnswer(t *testing.T) {
	t.Parallel()
	badAbility := validAnswer()
	badAbility["reading_ability"] = []string{"GRUFFALO"}
	badAges := validAnswer()
	badAges["min_age"], badAges["max_age"] = 12, 8
	for _, tc := range []struct {
		name, bad, wantErr string
	}{
		{"unparsable", "Sure! Here are the labels.", "not a JSON object"},
		{"unknown reading ability", answerJSON(t, badAbility), `unknown key "GRUFFALO"`},
		{"min age above max age", answerJSON(t, badAges), "min_age 12, max_age 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, srv := newFake(t, "gpt-4o-mini", tc.bad, answerJSON(t, validAnswer()))
			p := provider(srv)
			p.Model = "gpt-4o-mini"

			got, err := p.Label(context.Background(), Input{WorkID: 1, DisplayTitle: "T"})
			if err != nil {
				t.Fatalf("Label: %v", err)
			}
			if got.HuePrimaryKey == nil || *got.HuePrimaryKey != "hue05_funny_comic" {
				t.Errorf("patch %s is not the second answer's", show(got))
			}
			reqs := fake.seen()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			first, retry := reqs[0].Messages, reqs[1].Messages
			if len(retry) != 4 || !reflect.DeepEqual(retry[:2], first) {
				t.Fatalf("retry messages %+v do not extend the first request's", retry)
			}
			if retry[2] != (chatMessage{Role: "assistant", Content: tc.bad}) {
				t.Errorf("retry message 3 = %+v, want the bad answer from the assistant", retry[2])
			}
			if retry[3].Role != "user" || !strings.Contains(retry[3].Content, tc.wantErr) {
				t.Errorf("retry message 4 = %+v, want a user message naming %q", retry[3], tc.wantErr)
			}
		})
	}
}

func TestLabelFailsAfterRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		retries      int
		wantRequests int
	}{
		{"default retries", 0, 3},
		{"one retry", 1, 2},
		{"four retries", 4, 5},
		{"no retries", -1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, srv := newFake(t, "gpt-4", `{"reading_ability": []}`)
			p := provider(srv)
			p.Retries = tc.retries

			_, err := p.Label(context.Background(), Input{WorkID: 9})
			if !errors.Is(err, ErrInvalidAnswer) {
				t.Fatalf("err = %v, want ErrInvalidAnswer", err)
			}
			if !strings.Contains(err.Error(), "reading_ability must list") || !strings.Contains(err.Error(), "work 9") {
				t.Errorf("err = %q, want the work and the last validation error", err)
			}
			if n := len(fake.seen()); n != tc.wantRequests {
				t.Errorf("%d requests, want %d", n, tc.wantRequests)
			}
		})
	}
}

func TestLabelServerErrorHidesKey(t *testing.T) {
	t.Parallel()
	requests := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		// A hostile or careless server echoing the key everywhere.
		_, _ = w.Write([]byte(`{"error": {"message": "bad key ` + testKey + `", "type": "server_error ` + testKey + `", "code": null}}`))
	}))
	t.Cleanup(srv.Close)

	_, err := provider(srv).Label(context.Background(), Input{WorkID: 3})
	if err == nil {
		t.Fatal("Label succeeded on a 500")
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error %q contains the API key", err)
	}
	if !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "server_error") {
		t.Errorf("error %q does not name the status and error type", err)
	}
	if errors.Is(err, ErrInvalidAnswer) {
		t.Errorf("a failed request is reported as an invalid answer: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 1 {
		t.Errorf("%d requests, want 1 (no retry after a failed request)", requests)
	}
}

func TestLabelTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select { // never answers
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets srv.Close finish
	p := provider(srv)
	p.Timeout = 50 * time.Millisecond

	start := time.Now()
	_, err := p.Label(context.Background(), Input{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Label took %v despite a 50ms timeout", d)
	}
}

func TestLabelHues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		hueMap  map[string]float64
		hues    []string
		want    [3]string // "" = absent slot
		wantMap map[string]float64
	}{
		{
			name:    "legacy aliases",
			hueMap:  map[string]float64{"hue08_charming_inspiring": 0.6, "hue13_straightforward": 0.3},
			want:    [3]string{"hue08_charming_courageous", "hue13_informative", ""},
			wantMap: map[string]float64{"hue08_charming_courageous": 0.6, "hue13_informative": 0.3},
		},
		{
			name:    "hues list when the map has one entry",
			hueMap:  map[string]float64{"hue10_inspiring": 0.9},
			hues:    []string{"hue02_beautiful_whimsical", "hue08_charming_inspiring"},
			want:    [3]string{"hue02_beautiful_whimsical", "hue08_charming_courageous", ""},
			wantMap: map[string]float64{"hue10_inspiring": 0.9},
		},
		{
			name:    "hues list when the map is empty, cut to three",
			hueMap:  map[string]float64{},
			hues:    []string{"hue03_dark_beautiful", "hue06_dark_gritty", "hue01_dark_suspense", "hue09_charming_playful"},
			want:    [3]string{"hue03_dark_beautiful", "hue06_dark_gritty", "hue01_dark_suspense"},
			wantMap: map[string]float64{},
		},
		{
			name:    "map wins over the list with two entries",
			hueMap:  map[string]float64{"hue07_silly_charming": 0.4, "hue09_charming_playful": 0.45},
			hues:    []string{"hue01_dark_suspense"},
			want:    [3]string{"hue09_charming_playful", "hue07_silly_charming", ""},
			wantMap: map[string]float64{"hue07_silly_charming": 0.4, "hue09_charming_playful": 0.45},
		},
		{
			name:    "a lone map entry without a list",
			hueMap:  map[string]float64{"hue04_joyful_charming": 0.8},
			want:    [3]string{"hue04_joyful_charming", "", ""},
			wantMap: map[string]float64{"hue04_joyful_charming": 0.8},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := validAnswer()
			a["hue_map"] = tc.hueMap
			if tc.hues != nil {
				a["hues"] = tc.hues
			}
			_, srv := newFake(t, "gpt-4", answerJSON(t, a))

			got, err := provider(srv).Label(context.Background(), Input{WorkID: 5})
			if err != nil {
				t.Fatalf("Label: %v", err)
			}
			slots := [3]string{}
			for i, k := range []*string{got.HuePrimaryKey, got.HueSecondaryKey, got.HueTertiaryKey} {
				if k != nil {
					slots[i] = *k
				}
			}
			if slots != tc.want {
				t.Errorf("hues = %q, want %q", slots, tc.want)
			}
			if got.HueOrigin == nil || *got.HueOrigin != catalog.OriginVertexAI {
				t.Errorf("hue origin = %v, want VERTEXAI", got.HueOrigin)
			}
			if !reflect.DeepEqual(got.Info["hue_map"], tc.wantMap) {
				t.Errorf("info.hue_map = %v, want %v", got.Info["hue_map"], tc.wantMap)
			}
		})
	}
}
