package taskapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wriveted/huey-api/schema/catalog/hydrate"
	"github.com/wriveted/huey-api/tasks/internal/taskapi"
)

// ISBN-13s of the fixtures (valid check digits).
const (
	isbnTreehouse = "9780143782797" // the record of testdata/record.xml, with a cover
	isbnSpot      = "9780723263661" // a second record, without a cover
	isbnUnknown   = "9780000000002" // the provider has no record
	isbnLimited   = "9780306406157" // the provider answers "rate limit reached"
	isbnDown      = "9781861972712" // the provider answers "unavailable"
)

// fakeNielsen is a loopback metadata provider answering per ISBN (value0),
// and an open-cover server answering 200 for the ISBNs that have a cover.
type fakeNielsen struct {
	provider, covers *httptest.Server
	mu               sync.Mutex
	asked            []string
}

func newFakeNielsen(t *testing.T) *fakeNielsen {
	t.Helper()
	raw, err := os.ReadFile("../../../schema/catalog/hydrate/testdata/record.xml")
	if err != nil {
		t.Fatal(err)
	}
	record := string(raw)
	envelope := func(code, hits, fields string) string {
		return `<?xml version="1.0" encoding="ISO-8859-1"?><NielsenBookDataResponse><resultCode>` + code + `</resultCode>` +
			hits + `<data><data><record>` + fields + `</record></data></data></NielsenBookDataResponse>`
	}
	answers := map[string]string{
		isbnTreehouse: record,
		isbnSpot: envelope("00", "<hits>1</hits>", `<ISBN13>`+isbnSpot+`</ISBN13><TL>Where's Spot?</TL>
			<CNF1>Eric Hill</CNF1><CR1>A01</CR1><ICFN1>Eric</ICFN1><ICKN1>Hill</ICKN1><PAGNUM>22</PAGNUM>
			<PUBPD>1980</PUBPD><CBMCCODE>A</CBMCCODE><PRODCC>Y1.1</PRODCC>
			<AUSFSD>Lift the flaps to find Spot the puppy.</AUSFSD><IMAGFLAG>N</IMAGFLAG>`),
		isbnUnknown: envelope("00", "<hits>0</hits>", ""),
		isbnLimited: envelope("50", "", ""),
		isbnDown:    envelope("01", "", ""),
	}
	f := &fakeNielsen{}
	f.provider = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isbn := r.URL.Query().Get("value0")
		f.mu.Lock()
		f.asked = append(f.asked, isbn)
		f.mu.Unlock()
		body, ok := answers[isbn]
		if !ok {
			body = envelope("03", "", "")
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(f.provider.Close)
	f.covers = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/b/isbn/"+isbnTreehouse+"-L.jpg" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte("jpeg"))
	}))
	t.Cleanup(f.covers.Close)
	return f
}

func (f *fakeNielsen) client() *hydrate.Client {
	return &hydrate.Client{BaseURL: f.provider.URL + "/api", ClientID: "huey", Password: "pw",
		CoverURL: f.covers.URL + "/b/isbn/%s-L.jpg"}
}

func (f *fakeNielsen) coverURL(isbn string) string {
	return f.covers.URL + "/b/isbn/" + isbn + "-L.jpg"
}

func (f *fakeNielsen) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

// eventInfo returns the info of the only event with the title.
func (e *taskEnv) eventInfo(t *testing.T, title string) (level string, info map[string]any) {
	t.Helper()
	var raw []byte
	if err := e.super.QueryRow(t.Context(), `SELECT level::text, info FROM events WHERE title = $1 AND service_account_id = $2`,
		title, actorID).Scan(&level, &raw); err != nil {
		t.Fatalf("event %q: %v", title, err)
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	return level, info
}

func TestHydrateBulkSavesEditionsAndLabels(t *testing.T) {
	t.Parallel()
	f := newFakeNielsen(t)
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	env := newTaskEnv(t, func(o *taskapi.Options) {
		o.Hydrator = f.client()
		o.Now = func() time.Time { return now }
	})
	ctx := t.Context()
	// A bare edition to be hydrated, and one the provider does not know.
	for _, isbn := range []string{isbnTreehouse, isbnUnknown} {
		if _, err := env.super.Exec(ctx, `INSERT INTO editions (isbn) VALUES ($1)`, isbn); err != nil {
			t.Fatal(err)
		}
	}
	// Spot's work exists, human-labelled and checked: hydration finds it by
	// title and author, adds what it may and keeps the rest.
	var spotWork int64
	if err := env.super.QueryRow(ctx, `WITH w AS (INSERT INTO works (type, title) VALUES ('BOOK', 'Where''s Spot?') RETURNING id),
		a AS (INSERT INTO authors (first_name, last_name, info) VALUES ('Eric', 'Hill', '{}') RETURNING id),
		aw AS (INSERT INTO author_work_association (work_id, author_id) SELECT w.id, a.id FROM w, a)
		SELECT id FROM w`).Scan(&spotWork); err != nil {
		t.Fatal(err)
	}
	if _, err := env.super.Exec(ctx, `INSERT INTO labelsets (work_id, min_age, max_age, age_origin, checked)
		VALUES ($1, 1, 3, 'HUMAN', true)`, spotWork); err != nil {
		t.Fatal(err)
	}

	input := []string{"978-0-14-378279-7", isbnSpot, isbnUnknown, "not-an-isbn", isbnTreehouse}
	code, body := env.post(t, "/v1/hydrate-bulk", input, "")
	if code != http.StatusOK || !jsonIs(body, `{"msg":"ok"}`) {
		t.Fatalf("%d %s", code, body)
	}
	if got := f.requests(); !reflect.DeepEqual(got, []string{isbnTreehouse, isbnSpot, isbnUnknown}) {
		t.Errorf("provider asked for %v", got)
	}

	// The Treehouse: the bare edition hydrated, its work created from the
	// record, its labelset estimated, its cover kept.
	var title, cover, workTitle string
	var published int
	var work int64
	var hydrated bool
	if err := env.super.QueryRow(ctx, `SELECT e.edition_title, e.cover_url, e.date_published, e.hydrated_at IS NOT NULL,
		w.id, w.title FROM editions e JOIN works w ON w.id = e.work_id WHERE e.isbn = $1`, isbnTreehouse).
		Scan(&title, &cover, &published, &hydrated, &work, &workTitle); err != nil {
		t.Fatal(err)
	}
	if title != "13-Storey Treehouse" || cover != f.coverURL(isbnTreehouse) || published != 20110301 || !hydrated ||
		workTitle != "13-Storey Treehouse" {
		t.Errorf("treehouse edition %q %q %d %v %q", title, cover, published, hydrated, workTitle)
	}
	// "Australian Geographic" has only a first name in the record: stored as the last name.
	if got := env.texts(t, `SELECT concat_ws(' ', a.first_name, a.last_name) FROM author_work_association aw
		JOIN authors a ON a.id = aw.author_id WHERE aw.work_id = $1 ORDER BY 1`, work); !reflect.DeepEqual(got,
		[]string{"Andy Griffiths", "Australian Geographic"}) {
		t.Errorf("authors %v", got)
	}
	var minAge, maxAge int
	var ageOrigin, by string
	var checked *bool
	if err := env.super.QueryRow(ctx, `SELECT min_age, max_age, age_origin::text, labelled_by_sa_id::text, checked
		FROM labelsets WHERE work_id = $1`, work).Scan(&minAge, &maxAge, &ageOrigin, &by, &checked); err != nil {
		t.Fatal(err)
	}
	if minAge != 7 || maxAge != 9 || ageOrigin != "NIELSEN_CBMC" || by != actorID.String() || checked != nil {
		t.Errorf("treehouse labelset %d-%d %s %s %v", minAge, maxAge, ageOrigin, by, checked)
	}

	// Spot: a new edition on the existing work; the human ages stay, the
	// summary is added, checked stays true; no cover, so no labelling queued.
	var spotEditionWork int64
	var spotCover *string
	if err := env.super.QueryRow(ctx, `SELECT work_id, cover_url FROM editions WHERE isbn = $1 AND hydrated_at IS NOT NULL`,
		isbnSpot).Scan(&spotEditionWork, &spotCover); err != nil {
		t.Fatal(err)
	}
	var summary, summaryOrigin string
	if err := env.super.QueryRow(ctx, `SELECT min_age, max_age, age_origin::text, huey_summary, summary_origin::text, checked
		FROM labelsets WHERE work_id = $1`, spotWork).Scan(&minAge, &maxAge, &ageOrigin, &summary, &summaryOrigin, &checked); err != nil {
		t.Fatal(err)
	}
	if spotEditionWork != spotWork || spotCover != nil || minAge != 1 || maxAge != 3 || ageOrigin != "HUMAN" ||
		summary != "Lift the flaps to find Spot the puppy." || summaryOrigin != "PREDICTED_NIELSEN" || checked == nil || !*checked {
		t.Errorf("spot: work %d cover %v labelset %d-%d %s %q %s %v", spotEditionWork, spotCover, minAge, maxAge, ageOrigin,
			summary, summaryOrigin, checked)
	}

	// generate-labels queued for the work with a cover only, keyed per day.
	got := env.texts(t, `SELECT idempotency_key || ' ' || payload::text FROM task_queue WHERE kind = 'generate-labels'`)
	want := []string{fmt.Sprintf(`generate-labels-after-hydration:%d:2026-03-04 {"work_id": %d}`, work, work)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("queued %v, want %v", got, want)
	}

	// The unknown ISBN: marked as tried, still unhydrated.
	var notFoundAt *string
	if err := env.super.QueryRow(ctx, `SELECT info #>> '{hydration,not_found_at}' FROM editions WHERE isbn = $1 AND hydrated_at IS NULL`,
		isbnUnknown).Scan(&notFoundAt); err != nil || notFoundAt == nil || !strings.HasPrefix(*notFoundAt, "20") {
		t.Errorf("not-found marker %v %v", notFoundAt, err)
	}

	// Events: begin (debug) and finish (debug) with the counts.
	if level, info := env.eventInfo(t, "Hydration: Begin batch"); level != "DEBUG" || info["total"] != float64(5) {
		t.Errorf("begin %s %v", level, info)
	}
	level, info := env.eventInfo(t, "Hydration: Finish")
	wantInfo := map[string]any{"description": "Hydration service has completed, enriching 2 / 5 editions.",
		"total": 5.0, "processed": 3.0, "hydrated": 2.0, "with_labelset": 2.0, "errors": 0.0, "combined_editions": 0.0,
		"not_found": 1.0, "invalid": 1.0}
	if level != "DEBUG" || !reflect.DeepEqual(info, wantInfo) {
		t.Errorf("finish %s %v", level, info)
	}

	// Hydrating again: the editions are already hydrated; nothing new is
	// created, the day's labelling is not queued twice.
	if code, body := env.post(t, "/v1/hydrate-bulk", []string{isbnTreehouse}, ""); code != http.StatusOK {
		t.Fatalf("again: %d %s", code, body)
	}
	if n := env.count(t, `SELECT count(*) FROM works WHERE title = '13-Storey Treehouse'`); n != 1 {
		t.Errorf("%d treehouse works", n)
	}
	if n := env.count(t, `SELECT count(*) FROM task_queue WHERE kind = 'generate-labels'`); n != 1 {
		t.Errorf("%d generate-labels tasks", n)
	}
}

func TestHydrateBulkStopsWhenRateLimited(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, isbn, title, reason string
	}{
		{"rate limit", isbnLimited, "Hydration: Nielsen rate limit error", "Nielsen API rate limit reached"},
		{"unavailable", isbnDown, "Hydration: Nielsen API error", "Nielsen API is unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeNielsen(t)
			env := newTaskEnv(t, func(o *taskapi.Options) { o.Hydrator = f.client() })
			code, body := env.post(t, "/v1/hydrate-bulk", []string{isbnTreehouse, tc.isbn, isbnSpot}, "")
			if code != http.StatusOK || !jsonIs(body, `{"msg":"ok"}`) {
				t.Fatalf("%d %s", code, body)
			}
			// The chunk so far is saved; nothing after the stop is asked for.
			if n := env.count(t, `SELECT count(*) FROM editions WHERE isbn = $1 AND hydrated_at IS NOT NULL`, isbnTreehouse); n != 1 {
				t.Errorf("the treehouse was not saved")
			}
			if n := env.count(t, `SELECT count(*) FROM editions WHERE isbn = $1`, isbnSpot); n != 0 {
				t.Errorf("spot was hydrated after the stop")
			}
			if got := f.requests(); !reflect.DeepEqual(got, []string{isbnTreehouse, tc.isbn}) {
				t.Errorf("asked %v", got)
			}
			level, info := env.eventInfo(t, tc.title)
			stats, _ := info["stats"].(map[string]any)
			if level != "WARNING" || info["isbn"] != tc.isbn || !reflect.DeepEqual(info["remaining"], []any{tc.isbn, isbnSpot}) ||
				stats["hydrated"] != 1.0 || !strings.HasPrefix(info["description"].(string), tc.reason) {
				t.Errorf("warning %s %v", level, info)
			}
			if n := env.count(t, `SELECT count(*) FROM events WHERE title = 'Hydration: Finish'`); n != 0 {
				t.Errorf("a stopped batch recorded Finish")
			}
		})
	}
}

func TestHydrateBulkWithoutProviderOrInput(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t) // no Hydrator: NIELSEN_API_URL unset
	if code, body := env.post(t, "/v1/hydrate-bulk", []string{isbnTreehouse}, ""); code != http.StatusServiceUnavailable ||
		!jsonIs(body, `{"detail":"Nielsen API is unavailable"}`) {
		t.Errorf("no provider: %d %s", code, body)
	}
	for _, in := range []any{[]string{}, []byte(""), []byte("null")} {
		if code, body := env.post(t, "/v1/hydrate-bulk", in, ""); code != http.StatusOK || !jsonIs(body, `{"msg":"ok"}`) {
			t.Errorf("empty %v: %d %s", in, code, body)
		}
	}
	if code, _ := env.post(t, "/v1/hydrate-bulk", []byte(`{"isbns": []}`), ""); code != http.StatusUnprocessableEntity {
		t.Errorf("an object: %d", code)
	}
	if n := env.count(t, `SELECT count(*) FROM events`); n != 0 {
		t.Errorf("%d events for nothing to do", n)
	}
}

// stubHydrator answers from a map; other ISBNs are not found.
type stubHydrator map[string]hydrate.HydratedBookData

func (s stubHydrator) Hydrate(_ context.Context, isbn string) (hydrate.HydratedBookData, error) {
	d, ok := s[isbn]
	if !ok {
		return hydrate.HydratedBookData{}, fmt.Errorf("stub: %w", hydrate.ErrNotFound)
	}
	return d, nil
}

// A record naming other ISBNs of its work attaches them to the work and
// skips them when they come up later in the list (combined_editions); a
// record that cannot be saved counts as an error without losing the others;
// with LabelAfterHydration off nothing is queued.
func TestHydrateBulkCombinesEditionsAndSurvivesBadRecords(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	cover := "https://covers.example.org/x.jpg"
	big := 1 << 40
	stub := stubHydrator{
		isbnTreehouse: {ISBN: isbnTreehouse, OtherISBNs: []string{"978-0-7232-6366-1"}, Title: str("Tree Book"),
			Authors: []hydrate.Contributor{{LastName: "Griffiths"}}, CoverURL: &cover,
			Info: map[string]any{"cbmccode": "B", "pages": "120"}},
		isbnUnknown: {ISBN: isbnUnknown, Title: str("Broken"), DatePublished: &big}, // out of int4: refused
	}
	env := newTaskEnv(t, func(o *taskapi.Options) {
		o.Hydrator = stub
		o.LabelAfterHydration = false
	})
	code, body := env.post(t, "/v1/hydrate-bulk", []string{isbnTreehouse, isbnUnknown, isbnSpot}, "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	if n := env.count(t, `SELECT count(*) FROM editions e JOIN works w ON w.id = e.work_id
		WHERE w.title = 'Tree Book' AND e.isbn IN ($1, $2)`, isbnTreehouse, isbnSpot); n != 2 {
		t.Errorf("%d editions on the work, want the record's and its other ISBN", n)
	}
	if n := env.count(t, `SELECT count(*) FROM editions WHERE isbn = $1`, isbnUnknown); n != 0 {
		t.Errorf("the bad record was saved")
	}
	_, info := env.eventInfo(t, "Hydration: Finish")
	for k, want := range map[string]float64{"total": 3, "processed": 2, "hydrated": 1, "with_labelset": 1, "errors": 1,
		"combined_editions": 1, "not_found": 0} {
		if info[k] != want {
			t.Errorf("%s = %v, want %v (%v)", k, info[k], want, info)
		}
	}
	if n := env.count(t, `SELECT count(*) FROM task_queue`); n != 0 {
		t.Errorf("%d tasks queued with LabelAfterHydration off", n)
	}
}
