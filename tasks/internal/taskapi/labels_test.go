package taskapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/tasks/internal/taskapi"
	"github.com/wriveted/huey-api/tasks/jobs"
	"github.com/wriveted/huey-api/tasks/labels"
)

// labelFixture is a work with an author and two editions titled like the
// work (the richer one first once sorted) plus one titled otherwise.
func labelFixture(t *testing.T, env *taskEnv) int64 {
	t.Helper()
	ctx := t.Context()
	var work, author int64
	if err := env.super.QueryRow(ctx, `INSERT INTO works (type, title, leading_article) VALUES ('BOOK', '13-Storey Treehouse', 'The')
		RETURNING id`).Scan(&work); err != nil {
		t.Fatal(err)
	}
	if err := env.super.QueryRow(ctx, `INSERT INTO authors (first_name, last_name, info) VALUES ('Andy', 'Griffiths', '{}')
		RETURNING id`).Scan(&author); err != nil {
		t.Fatal(err)
	}
	if _, err := env.super.Exec(ctx, `INSERT INTO author_work_association (work_id, author_id) VALUES ($1, $2)`, work, author); err != nil {
		t.Fatal(err)
	}
	rich := `{"cbmccode": "C", "pages": "256", "prodcc": "Y2.1", "prodct": "Children's Fiction",
		"cbmctext": "Fiction 7-9", "keywords": "treehouse; humour", "summary_short": "Andy and Terry live in a treehouse.",
		"summary_long": "A much longer synopsis of the book.",
		"genres": [{"name": "Humorous stories", "source": "BIC", "code": "YFQ"}]}`
	for _, e := range []struct{ isbn, title, info string }{
		{"9780143782797", "13-Storey Treehouse", rich},
		{"9780330404143", "13-Storey Treehouse", `{"pages": 300, "summary_short": "Second edition blurb.", "genres": [{"name": "Adventure"}]}`},
		{"9780330404150", "A Different Title", `{"pages": 999, "summary_short": "Not this one."}`},
	} {
		if _, err := env.super.Exec(ctx, `INSERT INTO editions (isbn, work_id, edition_title, info) VALUES ($1, $2, $3, $4::jsonb)`,
			e.isbn, work, e.title, e.info); err != nil {
			t.Fatal(err)
		}
	}
	return work
}

// jsonIs reports whether body is the JSON value want.
func jsonIs(body []byte, want string) bool {
	var a, b any
	return json.Unmarshal(body, &a) == nil && json.Unmarshal([]byte(want), &b) == nil && reflect.DeepEqual(a, b)
}

// texts runs a query returning one text column as the superuser.
func (e *taskEnv) texts(t *testing.T, sql string, args ...any) []string {
	t.Helper()
	rows, err := e.super.Query(t.Context(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateLabelsRuleBasedDefault(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t) // Labeller nil: the rule-based default
	work := labelFixture(t, env)
	if _, err := env.super.Exec(t.Context(), `INSERT INTO labelsets (work_id, checked) VALUES ($1, true)`, work); err != nil {
		t.Fatal(err)
	}

	code, body := env.post(t, "/v1/generate-labels", map[string]any{"work_id": work}, "")
	if code != http.StatusOK || !jsonIs(body, `{"msg":"ok"}`) {
		t.Fatalf("%d %s", code, body)
	}
	var minAge, maxAge int
	var ageOrigin, summary, summaryOrigin, status, statusOrigin, by string
	var checked *bool
	if err := env.super.QueryRow(t.Context(), `SELECT min_age, max_age, age_origin::text, huey_summary, summary_origin::text,
		recommend_status::text, recommend_status_origin::text, labelled_by_sa_id::text, checked
		FROM labelsets WHERE work_id = $1 ORDER BY id DESC LIMIT 1`, work).
		Scan(&minAge, &maxAge, &ageOrigin, &summary, &summaryOrigin, &status, &statusOrigin, &by, &checked); err != nil {
		t.Fatal(err)
	}
	// The richest edition titled like the work: CBMC "C" (7–9), 256 pages.
	if minAge != 7 || maxAge != 9 || ageOrigin != "NIELSEN_CBMC" || summary != "Andy and Terry live in a treehouse." ||
		summaryOrigin != "PREDICTED_NIELSEN" || status != "GOOD" || statusOrigin != "PREDICTED_NIELSEN" || by != actorID.String() {
		t.Errorf("labelset %d-%d %s %q %s %s %s %s", minAge, maxAge, ageOrigin, summary, summaryOrigin, status, statusOrigin, by)
	}
	if checked == nil || !*checked {
		t.Errorf("checked = %v: a machine labeller must not clear a human's check", checked)
	}
	got := env.texts(t, `SELECT r.key FROM labelset_reading_ability_association lr
		JOIN reading_abilities r ON r.id = lr.reading_ability_id
		JOIN labelsets l ON l.id = lr.labelset_id WHERE l.work_id = $1 ORDER BY r.key`, work)
	if !reflect.DeepEqual(got, []string{"CHARLIE_CHOCOLATE", "HARRY_POTTER"}) {
		t.Errorf("reading abilities %v", got)
	}
	var desc, info string
	if err := env.super.QueryRow(t.Context(), `SELECT info->>'description', info::text FROM events
		WHERE title = 'Work updated' AND service_account_id = $1 AND (info->>'work_id')::int = $2`, actorID, work).
		Scan(&desc, &info); err != nil {
		t.Fatalf("event: %v", err)
	}
	if desc != "Made a change to '13-Storey Treehouse'" || !strings.Contains(info, `"min_age": [null, 7]`) {
		t.Errorf("event %q %s", desc, info)
	}

	// A work without editions has nothing to infer from: logged, {"msg":"error"}.
	var bare int64
	if err := env.super.QueryRow(t.Context(), `INSERT INTO works (type, title) VALUES ('BOOK', 'Bare') RETURNING id`).Scan(&bare); err != nil {
		t.Fatal(err)
	}
	if code, body := env.post(t, "/v1/generate-labels", map[string]any{"work_id": bare}, ""); code != http.StatusOK || !jsonIs(body, `{"msg":"error"}`) {
		t.Errorf("bare work: %d %s", code, body)
	}
	if n := env.count(t, `SELECT count(*) FROM labelsets WHERE work_id = $1`, bare); n != 0 {
		t.Errorf("bare work got %d labelsets", n)
	}

	// Unknown work: 404; malformed input: 422.
	if code, body := env.post(t, "/v1/generate-labels", map[string]any{"work_id": 987654}, ""); code != http.StatusNotFound ||
		!jsonIs(body, `{"detail":"Work with id 987654 not found"}`) {
		t.Errorf("unknown work: %d %s", code, body)
	}
	if code, _ := env.post(t, "/v1/generate-labels", map[string]any{}, ""); code != http.StatusUnprocessableEntity {
		t.Errorf("no work_id: %d", code)
	}
	if code, _ := env.post(t, "/v1/generate-labels", []byte(`{"work_id": "x"}`), ""); code != http.StatusUnprocessableEntity {
		t.Errorf("bad work_id: %d", code)
	}
}

func TestRuleBasedLabeller(t *testing.T) {
	t.Parallel()
	var l taskapi.RuleBasedLabeller
	for name, info := range map[string]map[string]any{
		"no info":        nil,
		"nothing usable": {"country": "Australia", "genres": []any{}},
	} {
		if _, err := l.Label(context.Background(), labels.Input{WorkID: 1, MainEditionInfo: info}); !errors.Is(err, taskapi.ErrNothingToInfer) ||
			!strings.Contains(err.Error(), "nothing to infer labels from") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A reference book: only the status is inferred, which is enough.
	p, err := l.Label(context.Background(), labels.Input{MainEditionInfo: map[string]any{"prodcc": "Y5.1"}})
	if err != nil || p.RecommendStatus == nil || *p.RecommendStatus != catalog.RecommendBadReference ||
		p.RecommendStatusOrigin == nil || *p.RecommendStatusOrigin != catalog.OriginPredictedNielsen ||
		p.HueOrigin != nil || p.AgeOrigin != nil || p.Checked != nil {
		t.Errorf("reference book: %+v %v", p, err)
	}
	// Interest age text: ages from the text, origin NIELSEN_IA.
	p, err = l.Label(context.Background(), labels.Input{MainEditionInfo: map[string]any{"interest_age": "From 5 years"}})
	if err != nil || *p.MinAge != 5 || *p.MaxAge != 7 || *p.AgeOrigin != catalog.OriginNielsenIA {
		t.Errorf("interest age: %+v %v", p, err)
	}
}

// fakeChat is a loopback OpenAI-compatible chat-completions server.
type fakeChat struct {
	status int
	answer string
	mu     sync.Mutex
	users  []string // the user messages received
}

func (f *fakeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages []struct{ Role, Content string } `json:"messages"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	for _, m := range req.Messages {
		if m.Role == "user" {
			f.users = append(f.users, m.Content)
			break
		}
	}
	f.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(`{"error": {"type": "server_error", "code": null}}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{
		"message": map[string]any{"role": "assistant", "content": f.answer}}}})
}

func (f *fakeChat) firstUser() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.users) == 0 {
		return ""
	}
	return f.users[0]
}

func chatEnv(t *testing.T, f *fakeChat) *taskEnv {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return newTaskEnv(t, func(o *taskapi.Options) {
		o.Labeller = &labels.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-test", Model: "test-model", HTTP: srv.Client()}
	})
}

func TestGenerateLabelsWithOpenAIProvider(t *testing.T) {
	t.Parallel()
	answer, _ := json.Marshal(map[string]any{
		"reading_ability": []string{"TREEHOUSE"},
		"hue_map":         map[string]float64{"hue05_funny_comic": 0.7, "hue12_funny_quirky": 0.4, "hue07_silly_charming": 0.2},
		"min_age":         6, "max_age": 10, "short_summary": "Two friends build a silly treehouse.",
		"long_summary": "Long.", "recommend_status": "GOOD", "genres": []string{"Humour"},
	})
	f := &fakeChat{answer: string(answer)}
	env := chatEnv(t, f)
	work := labelFixture(t, env)
	id := env.enqueue(t, jobs.KindGenerateLabels, map[string]any{"work_id": work}, "")

	for range 2 { // redelivered: applied once, the stored result answered
		if code, body := env.post(t, "/v1/generate-labels", map[string]any{"work_id": work}, id); code != http.StatusOK ||
			!jsonIs(body, `{"msg":"ok"}`) {
			t.Fatalf("%d %s", code, body)
		}
	}
	user := f.firstUser()
	for _, want := range []string{"The 13-Storey Treehouse", "Andy Griffiths", "Andy and Terry live in a treehouse.",
		"Second edition blurb.", "A much longer synopsis", "Fiction 7-9", "Adventure"} {
		if !strings.Contains(user, want) {
			t.Errorf("request lacks %q: %s", want, user)
		}
	}
	if strings.Contains(user, "Not this one.") {
		t.Errorf("request includes an edition with another title: %s", user)
	}
	var minAge, maxAge int
	var origins, summary, by string
	var checked bool
	if err := env.super.QueryRow(t.Context(), `SELECT min_age, max_age,
		concat_ws(',', hue_origin, age_origin, reading_ability_origin, summary_origin, recommend_status_origin),
		huey_summary, labelled_by_sa_id::text, checked FROM labelsets WHERE work_id = $1`, work).
		Scan(&minAge, &maxAge, &origins, &summary, &by, &checked); err != nil {
		t.Fatal(err)
	}
	if minAge != 6 || maxAge != 10 || origins != "VERTEXAI,VERTEXAI,VERTEXAI,VERTEXAI,VERTEXAI" ||
		summary != "Two friends build a silly treehouse." || by != actorID.String() || !checked {
		t.Errorf("labelset %d-%d %s %q %s %v", minAge, maxAge, origins, summary, by, checked)
	}
	hues := env.texts(t, `SELECT h.key || ':' || lh.ordinal FROM labelset_hue_association lh JOIN hues h ON h.id = lh.hue_id
		JOIN labelsets l ON l.id = lh.labelset_id WHERE l.work_id = $1 ORDER BY lh.ordinal`, work)
	if !reflect.DeepEqual(hues, []string{"hue05_funny_comic:PRIMARY", "hue12_funny_quirky:SECONDARY", "hue07_silly_charming:TERTIARY"}) {
		t.Errorf("hues %v", hues)
	}
	if n := env.count(t, `SELECT count(*) FROM events WHERE title = 'Work updated' AND service_account_id = $1`, actorID); n != 1 {
		t.Errorf("%d Work updated events, want 1", n)
	}
	if n := env.count(t, `SELECT count(*) FROM task_queue WHERE id = $1 AND status = 'done' AND result = '{"msg": "ok"}'`, id); n != 1 {
		t.Errorf("the task is not done with its result")
	}
}

func TestGenerateLabelsFailingProviderAnswersError(t *testing.T) {
	t.Parallel()
	env := chatEnv(t, &fakeChat{status: http.StatusInternalServerError})
	work := labelFixture(t, env)
	id := env.enqueue(t, jobs.KindGenerateLabels, map[string]any{"work_id": work}, "")
	if code, body := env.post(t, "/v1/generate-labels", map[string]any{"work_id": work}, id); code != http.StatusOK ||
		!jsonIs(body, `{"msg":"error"}`) {
		t.Fatalf("%d %s", code, body)
	}
	if n := env.count(t, `SELECT count(*) FROM labelsets WHERE work_id = $1`, work); n != 0 {
		t.Errorf("%d labelsets after a failed labelling", n)
	}
	if n := env.count(t, `SELECT count(*) FROM events WHERE title = 'Work updated'`); n != 0 {
		t.Errorf("%d events after a failed labelling", n)
	}
	// Not retried: the task is done with the error result.
	if n := env.count(t, `SELECT count(*) FROM task_queue WHERE id = $1 AND status = 'done' AND result = '{"msg": "error"}'`, id); n != 1 {
		t.Errorf("the failed task is not done")
	}

	// An invalid answer (no valid JSON object, even after the retries) is a failure too.
	env2 := chatEnv(t, &fakeChat{answer: "not json"})
	work2 := labelFixture(t, env2)
	if code, body := env2.post(t, "/v1/generate-labels", map[string]any{"work_id": work2}, ""); code != http.StatusOK ||
		!jsonIs(body, `{"msg":"error"}`) {
		t.Fatalf("invalid answer: %d %s", code, body)
	}
}
