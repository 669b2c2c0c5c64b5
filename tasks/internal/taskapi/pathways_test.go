package taskapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/tasks/jobs"
)

// pathwaysSeed is the seed pathways_export_test.go pins.
const pathwaysSeed = "pathways-test-seed"

// labelled creates a work with one covered edition and a labelset: reading
// abilities, hue keys, ages and recommend status; it returns work and ISBN.
func (f pefx) labelled(title string, abilities, hues []string, minAge, maxAge int, status string) (int64, string) {
	f.t.Helper()
	work, isbn := f.book(title)
	var ls int64
	f.scan(&ls, `INSERT INTO labelsets (work_id, min_age, max_age, recommend_status, huey_summary, checked)
		VALUES ($1, $2, $3, $4, 'A summary', true) RETURNING id`, work, minAge, maxAge, status)
	f.exec(`INSERT INTO labelset_reading_ability_association (labelset_id, reading_ability_id)
		SELECT $1, r.id FROM reading_abilities r WHERE r.key = ANY ($2)`, ls, abilities)
	f.exec(`INSERT INTO labelset_hue_association (labelset_id, hue_id, ordinal)
		SELECT $1, h.id, (ARRAY['PRIMARY', 'SECONDARY', 'TERTIARY'])[x.n]::ordinal
		FROM unnest($2::text[]) WITH ORDINALITY AS x(key, n) JOIN hues h ON h.key = x.key`, ls, hues)
	return work, isbn
}

// seededOrder is the works in the order the pinned seed gives them, cut to limit.
func (f pefx) seededOrder(works []int64, limit int) []int64 {
	f.t.Helper()
	rows, err := f.env.super.Query(f.t.Context(), `SELECT w FROM unnest($1::int[]) AS w
		ORDER BY md5(w::text || $2), w LIMIT $3`, works, pathwaysSeed, limit)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var w int64
		if err := rows.Scan(&w); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

// pathwayLists returns the user's lists by name, failing on a repeated name.
func (f pefx) pathwayLists(user uuid.UUID) map[string]uuid.UUID {
	f.t.Helper()
	rows, err := f.env.super.Query(f.t.Context(), `SELECT id, name, type::text, sharing::text, school_id IS NULL, info
		FROM book_lists WHERE user_id = $1`, user)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]uuid.UUID{}
	for rows.Next() {
		var (
			id              uuid.UUID
			name, typ, shar string
			noSchool        bool
			info            []byte
		)
		if err := rows.Scan(&id, &name, &typ, &shar, &noSchool, &info); err != nil {
			f.t.Fatal(err)
		}
		if _, dup := out[name]; dup {
			f.t.Errorf("list %q created twice", name)
		}
		out[name] = id
		want := map[string]string{"Books To Read Now": "A collection of books to enjoy today",
			"Books To Read Next": "A collection of books to enjoy tomorrow, or challenge your reading"}[name]
		var got map[string]any
		if err := json.Unmarshal(info, &got); err != nil {
			f.t.Fatal(err)
		}
		if typ != "PERSONAL" || shar != "PRIVATE" || !noSchool || got["description"] != want || len(got) != 4 {
			f.t.Errorf("list %q: %s %s school-less=%v info %s", name, typ, shar, noSchool, info)
		}
	}
	return out
}

func TestGenerateReadingPathways(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	reader := f.user("Nia Reader", "PUBLIC", "", "{}")
	funny := []string{"hue05_funny_comic"}
	isbnOf := map[int64]string{}
	var now, next []int64
	for _, title := range []string{"Now One", "Now Two", "Now Three", "Now Four"} {
		w, isbn := f.labelled(title, []string{"TREEHOUSE"}, funny, 6, 10, "GOOD")
		now, isbnOf[w] = append(now, w), isbn
	}
	// The legacy key hue13_straightforward names hue13_informative (DECISIONS §6).
	w, isbn := f.labelled("Now Informative", []string{"TREEHOUSE"}, []string{"hue13_informative"}, 6, 10, "GOOD")
	now, isbnOf[w] = append(now, w), isbn
	f.labelled("Too Old", []string{"TREEHOUSE"}, funny, 12, 14, "GOOD")
	f.labelled("Not Recommendable", []string{"TREEHOUSE"}, funny, 6, 10, "BAD_BORING")
	f.labelled("Other Hue", []string{"TREEHOUSE"}, []string{"hue01_dark_suspense"}, 6, 10, "GOOD")
	for _, title := range []string{"Next One", "Next Two", "Next Three"} {
		w, isbn := f.labelled(title, []string{"CHARLIE_CHOCOLATE"}, funny, 6, 12, "GOOD")
		next, isbnOf[w] = append(next, w), isbn
	}
	f.labelled("Beyond", []string{"HARRY_POTTER"}, funny, 6, 12, "GOOD")

	attrs := map[string]any{"reading_ability": []string{"TREEHOUSE", "SPOT"}, "age": 8,
		"hues": []string{"hue05_funny_comic", "hue13_straightforward"}, "goals": []string{"fun"}}
	payload := map[string]any{"user_id": reader.String(), "attributes": attrs, "limit": 4}
	task := env.enqueue(t, jobs.KindGenerateReadingPathways, payload, "pathways:"+reader.String())
	code, body := env.post(t, "/v1/generate-reading-pathways", payload, task)
	if code != http.StatusOK || string(body) != `{"msg":"ok"}` {
		t.Fatalf("%d %s", code, body)
	}

	lists := f.pathwayLists(reader)
	if len(lists) != 2 {
		t.Fatalf("lists %v, want read now and next", lists)
	}
	for name, works := range map[string][]int64{"Books To Read Now": f.seededOrder(now, 4), "Books To Read Next": f.seededOrder(next, 4)} {
		var want []string
		for _, w := range works {
			want = append(want, pefxItem(w, isbnOf[w]))
		}
		if got := f.listItems(lists[name]); !slices.Equal(got, want) {
			t.Errorf("%s items %v, want %v (seeded order)", name, got, want)
		}
	}
	if got := len(f.listItems(lists["Books To Read Now"])); got != 4 {
		t.Errorf("read now has %d items, want the limit 4", got)
	}

	// The event, attributed to the reader.
	var info []byte
	if err := env.super.QueryRow(t.Context(), `SELECT info FROM events WHERE title = 'Created reading pathway lists'
		AND user_id = $1 AND service_account_id IS NULL`, reader).Scan(&info); err != nil {
		t.Fatalf("event: %v", err)
	}
	var ev struct {
		Description   string         `json:"description"`
		ReadNowCount  int            `json:"read_now_count"`
		ReadNextCount int            `json:"read_next_count"`
		Attributes    map[string]any `json:"attributes"`
	}
	if err := json.Unmarshal(info, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Description != "Created Books To Read Now and Books To Read Later" || ev.ReadNowCount != 4 || ev.ReadNextCount != 3 {
		t.Errorf("event info %s", info)
	}
	if hues, _ := json.Marshal(ev.Attributes["hues"]); string(hues) != `["hue05_funny_comic","hue13_informative"]` {
		t.Errorf("recorded hues %s", hues)
	}

	// Redelivered, the task answers the same and creates nothing more (F-T6).
	code, again := env.post(t, "/v1/generate-reading-pathways", payload, task)
	var answer map[string]string
	if err := json.Unmarshal(again, &answer); code != http.StatusOK || err != nil || len(answer) != 1 || answer["msg"] != "ok" {
		t.Errorf("redelivery: %d %s, want the same answer %s", code, again, body)
	}
	if n := env.count(t, `SELECT count(*) FROM book_lists WHERE user_id = $1`, reader); n != 2 {
		t.Errorf("%d lists after redelivery, want 2", n)
	}
	if n := env.count(t, `SELECT count(*) FROM events WHERE title = 'Created reading pathway lists'`); n != 1 {
		t.Errorf("%d pathway events after redelivery, want 1", n)
	}
	if n := env.count(t, `SELECT count(*) FROM task_queue WHERE id = $1 AND status = 'done'`, task); n != 1 {
		t.Error("the task is not marked done")
	}
}

// HARRY_POTTER is the last reading ability: "next" stays there, so both
// lists come from the same candidates; the default limit is 10.
func TestGenerateReadingPathwaysSaturates(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	reader := f.user("Hana Reader", "PUBLIC", "", "{}")
	for _, title := range []string{"HP One", "HP Two"} {
		f.labelled(title, []string{"HARRY_POTTER"}, []string{"hue10_inspiring"}, 10, 14, "GOOD")
	}
	f.labelled("Charlie", []string{"CHARLIE_CHOCOLATE"}, []string{"hue10_inspiring"}, 10, 14, "GOOD")
	code, body := env.post(t, "/v1/generate-reading-pathways", map[string]any{"user_id": reader.String(),
		"attributes": map[string]any{"reading_ability": []string{"HARRY_POTTER"}}}, "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	lists := f.pathwayLists(reader)
	nowItems, nextItems := f.listItems(lists["Books To Read Now"]), f.listItems(lists["Books To Read Next"])
	if len(nowItems) != 2 || !slices.Equal(nowItems, nextItems) {
		t.Errorf("read now %v, read next %v: want the same two Harry Potter books", nowItems, nextItems)
	}
}

func TestGenerateReadingPathwaysRefusals(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	reader := f.user("Ora Reader", "PUBLIC", "", "{}")
	f.labelled("Some Book", []string{"SPOT"}, []string{"hue05_funny_comic"}, 2, 5, "GOOD")
	unknown := uuid.New()
	attrs := map[string]any{"reading_ability": []string{"SPOT"}}
	type request struct {
		name string
		body any
		want int
		in   string
	}
	cases := []request{
		{"unknown user", map[string]any{"user_id": unknown.String(), "attributes": attrs}, http.StatusNotFound,
			`{"detail":"User ` + unknown.String() + ` not found"}`},
		{"malformed JSON", []byte(`{"user_id": `), http.StatusUnprocessableEntity, `"json_invalid"`},
		{"no user", map[string]any{"attributes": attrs}, http.StatusUnprocessableEntity, `"missing"`},
		{"bad user id", map[string]any{"user_id": "x", "attributes": attrs}, http.StatusUnprocessableEntity, `"uuid_parsing"`},
		{"no attributes", map[string]any{"user_id": reader.String()}, http.StatusUnprocessableEntity, `"attributes"`},
		{"unknown reading ability", map[string]any{"user_id": reader.String(),
			"attributes": map[string]any{"reading_ability": []string{"HOBBIT"}}}, http.StatusUnprocessableEntity, `"enum"`},
		{"unknown hue", map[string]any{"user_id": reader.String(),
			"attributes": map[string]any{"reading_ability": []string{"SPOT"}, "hues": []string{"hue99"}}}, http.StatusUnprocessableEntity, `"enum"`},
		{"bad birthdate", map[string]any{"user_id": reader.String(),
			"attributes": map[string]any{"birthdate": "yesterday"}}, http.StatusUnprocessableEntity, `"string_pattern_mismatch"`},
		{"age not a number", map[string]any{"user_id": reader.String(),
			"attributes": map[string]any{"age": "eight"}}, http.StatusUnprocessableEntity, `"json_invalid"`},
		{"limit zero", map[string]any{"user_id": reader.String(), "attributes": attrs, "limit": 0},
			http.StatusUnprocessableEntity, `"limit"`},
	}
	// The group returns once its parallel cases are done.
	t.Run("requests", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				code, body := env.post(t, "/v1/generate-reading-pathways", tc.body, "")
				if code != tc.want || !strings.Contains(string(body), tc.in) {
					t.Errorf("%d %s, want %d containing %s", code, body, tc.want, tc.in)
				}
			})
		}
		t.Run("empty reading ability", func(t *testing.T) {
			t.Parallel()
			code, body := env.post(t, "/v1/generate-reading-pathways", map[string]any{"user_id": reader.String(),
				"attributes": map[string]any{"age": 4, "reading_ability": []string{}}, "limit": 5}, "")
			if code != http.StatusOK || string(body) != `{"msg":"ok"}` {
				t.Errorf("%d %s", code, body)
			}
		})
	})
	// Refused or empty, no request created a list or recorded an event.
	if n := env.count(t, `SELECT count(*) FROM book_lists`); n != 0 {
		t.Errorf("%d lists created", n)
	}
	if n := env.count(t, `SELECT count(*) FROM events`); n != 0 {
		t.Errorf("%d events recorded", n)
	}
}
