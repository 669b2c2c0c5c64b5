package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wriveted/huey-api/schema/catalog/hydrate"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/server/internal/api"
)

// stubHydrator answers GET /hydrate/{isbn} from a table: a record or an error.
type stubHydrator map[string]struct {
	data hydrate.HydratedBookData
	err  error
}

func (s stubHydrator) Hydrate(_ context.Context, isbn string) (hydrate.HydratedBookData, error) {
	a, ok := s[isbn]
	if !ok {
		return hydrate.HydratedBookData{}, fmt.Errorf("stub: %w", hydrate.ErrNotFound)
	}
	return a.data, a.err
}

// withHydrator rebuilds v's API with h as its metadata provider.
func withHydrator(t testing.TB, v *env, h api.Hydrator) {
	t.Helper()
	v.e = api.New(api.Options{
		Pool:     v.db.Pool(t, dbtest.RoleAPI),
		Logger:   slog.New(slog.NewJSONHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError})),
		Policies: testEngine, Tokens: v.tokens, PrincipalCacheTTL: 5 * time.Second, ClassCodeRate: 600,
		Hydrator: h,
	})
}

const (
	hyTreehouse = "9780143782797"
	hySpot      = "9780723263661"
	hyLimited   = "9780306406157"
	hyDown      = "9781861972712"
	hyBroken    = "9780330404143"
)

func hydrationStub() stubHydrator {
	str := func(s string) *string { return &s }
	age := func(n int) *int { return &n }
	on := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	return stubHydrator{
		hyTreehouse: {data: hydrate.HydratedBookData{ISBN: hyTreehouse, OtherISBNs: []string{}, Title: str("13-Storey Treehouse"),
			LeadingArticle: str("The"), Authors: []hydrate.Contributor{{FirstName: str("Andy"), LastName: "Griffiths"}},
			Illustrators: []hydrate.Contributor{{FirstName: str("Terry"), LastName: "Denton"}},
			CoverURL:     str("https://covers.example.org/b/isbn/" + hyTreehouse + "-L.jpg"), DatePublished: age(2011),
			Info: map[string]any{"pages": "256", "cbmccode": "C"},
			Labelset: &hydrate.EstimatedLabelSet{Hues: []string{}, ReadingAbilities: []string{"TREEHOUSE"},
				ReadingAbilityOrigin: str("PREDICTED_NIELSEN"), MinAge: age(7), MaxAge: age(9), AgeOrigin: str("NIELSEN_CBMC"),
				RecommendStatus: str("GOOD"), RecommendStatusOrigin: str("PREDICTED_NIELSEN")},
			HydratedOn: &on, Raw: map[string]string{"ISBN13": hyTreehouse}}},
		hyLimited: {err: fmt.Errorf("fetch: %w", hydrate.ErrRateLimited)},
		hyDown:    {err: fmt.Errorf("fetch: %w", hydrate.ErrUnavailable)},
		hyBroken:  {err: fmt.Errorf("fetch: %w: credentials rejected", hydrate.ErrProvider)},
	}
}

func TestHydrationRoutesAreAdminOnly(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	withHydrator(t, c.v, hydrationStub())
	c.run(t, http.MethodPost, fixed("/v1/hydrate"), []string{hyTreehouse}, adminWants)
	c.run(t, http.MethodGet, fixed("/v1/hydrate/"+hyTreehouse), nil, adminWants)
	rec := c.v.do(http.MethodPost, "/v1/hydrate", c.tokens["educator A"], []string{hyTreehouse})
	if d := decode[map[string]any](t, rec)["detail"]; d != "Insufficient privileges" {
		t.Errorf("educator: %v", d)
	}
	// Two callers were allowed: two tasks, nothing from the refused ones.
	if n := c.v.count(`SELECT count(*) FROM task_queue WHERE kind = 'hydrate-bulk'`); n != 2 {
		t.Errorf("%d tasks queued", n)
	}
}

func TestPostHydrateQueuesTasks(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	isbns := make([]string, 1200)
	for i := range isbns {
		isbns[i] = fmt.Sprintf("isbn-%04d", i) // passed on as given: the task normalises
	}
	rec := v.do(http.MethodPost, "/v1/hydrate", admin, isbns)
	wantStatus(t, rec, http.StatusOK)
	want := "Started hydration of 1200 editions. Check the logs (https://console.cloud.google.com/logs/query;query=%22hydrate-bulk%22) " +
		"and events (http://example.com/v1/events?match_prefix=true&query=Hydration) to track progress."
	if got := decode[string](t, rec); got != want {
		t.Errorf("answer %q", got)
	}
	rows, err := v.super.Query(context.Background(), `SELECT payload FROM task_queue WHERE kind = 'hydrate-bulk'
		ORDER BY payload->>0`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var payload []string
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		got = append(got, payload...)
		if len(payload) > 500 {
			t.Errorf("a task of %d ISBNs", len(payload))
		}
	}
	if rows.Err() != nil || !reflect.DeepEqual(got, isbns) {
		t.Errorf("queued %d ISBNs (%v), want the 1200 in order", len(got), rows.Err())
	}
	if n := v.count(`SELECT count(*) FROM task_queue WHERE kind = 'hydrate-bulk'`); n != 3 {
		t.Errorf("%d tasks, want 3", n)
	}

	for _, bad := range []struct{ path, body string }{
		{"/v1/hydrate", `[true, false]`}, {"/v1/hydrate", `{"isbns": []}`}, {"/v1/hydrate?limit=x", ``}, {"/v1/hydrate?limit=-1", ``},
	} {
		var body any
		if bad.body != "" {
			body = bad.body
		}
		if rec := v.do(http.MethodPost, bad.path, admin, body); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s %s: %d %s", bad.path, bad.body, rec.Code, rec.Body)
		}
	}
}

// Without ISBNs, the unhydrated editions most held in collections are
// chosen (the original's constant-false filter fixed), leaving out those the
// provider recently did not know.
func TestPostHydrateSelectsByCollectionCount(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	var collections []string
	for i := range 4 {
		sch := v.school(fmt.Sprintf("Hydrate %d", i), "ACTIVE")
		var id string
		if err := v.super.QueryRow(context.Background(), `INSERT INTO collections (school_id, name) VALUES ($1, 'Books')
			RETURNING id::text`, sch.WID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		collections = append(collections, id)
	}
	editions := []struct {
		isbn     string
		held     int
		hydrated bool
		info     string
	}{
		{"9780000000101", 1, false, `{}`},
		{"9780000000202", 3, false, `null`},
		{"9780000000303", 0, false, `{}`},
		{"9780000000404", 4, true, `{}`}, // hydrated: never selected
		{"9780000000505", 4, false, `{"hydration": {"not_found_at": "` + time.Now().UTC().Format("2006-01-02T15:04:05") + `"}}`},
		{"9780000000606", 2, false, `{"hydration": {"not_found_at": "2020-01-01T00:00:00"}}`}, // tried long ago: again
	}
	for _, e := range editions {
		v.exec(`INSERT INTO editions (isbn, info, hydrated_at) VALUES ($1, $2::jsonb, CASE WHEN $3 THEN now() END)`, e.isbn, e.info, e.hydrated)
		for _, c := range collections[:e.held] {
			v.exec(`INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available) VALUES ($1, $2, 1, 1)`, c, e.isbn)
		}
	}
	payloads := func() [][]string {
		var out [][]string
		rows, err := v.super.Query(context.Background(), `SELECT payload FROM task_queue WHERE kind = 'hydrate-bulk' ORDER BY created_at, id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var p []string
			if err := rows.Scan(&p); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}

	rec := v.do(http.MethodPost, "/v1/hydrate?limit=3", admin, nil)
	wantStatus(t, rec, http.StatusOK)
	if got := decode[string](t, rec); !strings.HasPrefix(got, "Started hydration of 3 editions.") {
		t.Errorf("answer %q", got)
	}
	if got := payloads(); !reflect.DeepEqual(got, [][]string{{"9780000000202", "9780000000606", "9780000000101"}}) {
		t.Errorf("limit 3 queued %v", got)
	}
	v.exec(`DELETE FROM task_queue`)
	rec = v.do(http.MethodPost, "/v1/hydrate", admin, []string{}) // [] selects too, default limit
	wantStatus(t, rec, http.StatusOK)
	if got := payloads(); !reflect.DeepEqual(got, [][]string{{"9780000000202", "9780000000606", "9780000000101", "9780000000303"}}) {
		t.Errorf("default queued %v", got)
	}
	v.exec(`DELETE FROM task_queue`)
	rec = v.do(http.MethodPost, "/v1/hydrate?limit=0", admin, nil)
	wantStatus(t, rec, http.StatusOK)
	if got := decode[string](t, rec); !strings.HasPrefix(got, "Started hydration of 0 editions.") || len(payloads()) != 0 {
		t.Errorf("limit 0: %q, %d tasks", got, len(payloads()))
	}
}

func TestGetHydrate(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	rc := newResponseChecker(t, v)
	// No provider configured.
	rec := rc.do(http.MethodGet, "/v1/hydrate/"+hyTreehouse, admin, nil, http.StatusServiceUnavailable)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Nielsen API is unavailable" {
		t.Errorf("no provider: %v", d)
	}

	withHydrator(t, v, hydrationStub())
	rc = newResponseChecker(t, v)
	rec = rc.do(http.MethodGet, "/v1/hydrate/0-14-378279-7?use_cache=true", admin, nil, http.StatusOK)
	got := decode[map[string]any](t, rec)
	if got["isbn"] != hyTreehouse || got["title"] != "13-Storey Treehouse" || got["hydrated_on"] != "2026-03-04T05:06:07.123456" {
		t.Errorf("record %v", got)
	}
	if ls, _ := got["labelset"].(map[string]any); ls["min_age"] != 7.0 || ls["age_origin"] != "NIELSEN_CBMC" {
		t.Errorf("labelset %v", got["labelset"])
	}
	if n := v.count(`SELECT count(*) FROM editions`); n != 0 {
		t.Errorf("a dry run stored %d editions", n)
	}
	for isbn, want := range map[string]struct {
		status int
		detail string
	}{
		hySpot:      {http.StatusNotFound, "No results found"},
		hyLimited:   {http.StatusTooManyRequests, "Nielsen API rate limit reached"},
		hyDown:      {http.StatusServiceUnavailable, "Nielsen API is unavailable"},
		hyBroken:    {http.StatusServiceUnavailable, "Something went wrong with the Nielsen API"},
		"978-bad-1": {http.StatusUnprocessableEntity, "Invalid isbn"},
	} {
		rec := rc.do(http.MethodGet, "/v1/hydrate/"+isbn, admin, nil, want.status)
		if d := decode[map[string]any](t, rec)["detail"]; d != want.detail {
			t.Errorf("%s: %v, want %q", isbn, d, want.detail)
		}
	}
	rc.do(http.MethodGet, "/v1/hydrate/"+hyTreehouse+"?dry=perhaps", admin, nil, http.StatusUnprocessableEntity)

	// dry=false stores the edition through the single upsert: the work, its
	// author and illustrator, the estimated labels.
	rc.do(http.MethodGet, "/v1/hydrate/"+hyTreehouse+"?dry=false", admin, nil, http.StatusOK)
	var title, cover, workTitle, ageOrigin string
	var minAge int
	if err := v.super.QueryRow(context.Background(), `SELECT e.edition_title, e.cover_url, w.title, l.min_age, l.age_origin::text
		FROM editions e JOIN works w ON w.id = e.work_id JOIN labelsets l ON l.work_id = w.id
		WHERE e.isbn = $1 AND e.hydrated_at IS NOT NULL`, hyTreehouse).Scan(&title, &cover, &workTitle, &minAge, &ageOrigin); err != nil {
		t.Fatal(err)
	}
	if title != "13-Storey Treehouse" || workTitle != "13-Storey Treehouse" || minAge != 7 || ageOrigin != "NIELSEN_CBMC" ||
		!strings.HasSuffix(cover, hyTreehouse+"-L.jpg") {
		t.Errorf("stored %q %q %q %d %s", title, cover, workTitle, minAge, ageOrigin)
	}
	if n := v.count(`SELECT count(*) FROM illustrator_edition_association ie JOIN illustrators i ON i.id = ie.illustrator_id
		WHERE i.last_name = 'Denton'`); n != 1 {
		t.Errorf("%d illustrator links", n)
	}
	rec = rc.do(http.MethodGet, "/v1/hydrate/"+hyTreehouse+"?dry=false", admin, nil, http.StatusConflict)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Edition already exists with ISBN "+hyTreehouse+". Use the PATCH method to update." {
		t.Errorf("again: %v", d)
	}
}

// The route with the real client against a loopback provider (what main wires).
func TestGetHydrateWithTheProviderClient(t *testing.T) {
	t.Parallel()
	record, err := os.ReadFile("../../../schema/catalog/hydrate/testdata/record.xml")
	if err != nil {
		t.Fatal(err)
	}
	var password string
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/cover/") {
			return // 200: a cover exists
		}
		password = r.URL.Query().Get("password")
		_, _ = w.Write(record)
	}))
	t.Cleanup(provider.Close)
	v := newEnv(t)
	withHydrator(t, v, &hydrate.Client{BaseURL: provider.URL, ClientID: "huey", Password: "pw-secret",
		CoverURL: provider.URL + "/cover/%s", HTTP: provider.Client()})
	rec := v.do(http.MethodGet, "/v1/hydrate/"+hyTreehouse, oaAdmin(v), nil)
	wantStatus(t, rec, http.StatusOK)
	var got struct {
		ISBN       string          `json:"isbn"`
		CoverURL   string          `json:"cover_url"`
		HydratedOn string          `json:"hydrated_on"`
		Labelset   json.RawMessage `json:"labelset"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.ISBN != hyTreehouse || got.CoverURL != provider.URL+"/cover/"+hyTreehouse || password != "pw-secret" ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$`).MatchString(got.HydratedOn) ||
		!strings.Contains(string(got.Labelset), `"age_origin":"NIELSEN_CBMC"`) {
		t.Errorf("record %s", rec.Body)
	}
}
