package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
)

// Catalogue routes (api.md §2.7–§2.10): F8 scenario tables and behaviour.

var isbnSeq atomic.Int64

// newISBN returns a fresh valid ISBN-13 (978 + 9 digits + check digit).
func newISBN() string {
	n := 100000000 + isbnSeq.Add(1)*7919%800000000
	body := "978" + strconv.FormatInt(n, 10)
	sum := 0
	for i, r := range body {
		w := 1
		if i%2 == 1 {
			w = 3
		}
		sum += w * int(r-'0')
	}
	return body + strconv.Itoa((10-sum%10)%10)
}

func (v *env) work(title string) int64 {
	v.t.Helper()
	var id int64
	if err := v.super.QueryRow(context.Background(),
		`INSERT INTO works (type, title, info) VALUES ('BOOK', $1, '{}') RETURNING id`, title).Scan(&id); err != nil {
		v.t.Fatal(err)
	}
	return id
}

func (v *env) edition(isbn string, workID int64, cover *string) int64 {
	v.t.Helper()
	var id int64
	var w *int64
	if workID != 0 {
		w = &workID
	}
	if err := v.super.QueryRow(context.Background(),
		`INSERT INTO editions (isbn, work_id, cover_url, info) VALUES ($1, $2, $3, '{}') RETURNING id`, isbn, w, cover).Scan(&id); err != nil {
		v.t.Fatal(err)
	}
	return id
}

func (v *env) author(first, last string, works ...int64) int64 {
	v.t.Helper()
	var id int64
	if err := v.super.QueryRow(context.Background(),
		`INSERT INTO authors (first_name, last_name, info) VALUES ($1, $2, '{}') RETURNING id`, first, last).Scan(&id); err != nil {
		v.t.Fatal(err)
	}
	for _, w := range works {
		v.exec(`INSERT INTO author_work_association (work_id, author_id) VALUES ($1, $2)`, w, id)
	}
	return id
}

func (v *env) count(sql string, args ...any) int64 {
	v.t.Helper()
	n, _ := v.scalar(sql, args...).(int64)
	return n
}

// editors are the callers F8 lets create and patch; everyone else signed in gets 403.
var editorWants = statuses(http.StatusForbidden, map[string]int{
	"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "schooladmin B": 200,
	"educator A": 200, "educator B": 200, "lms linked A": 200, "lms unlinked": 200, "school sa A": 200,
})

var adminWants = statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200})

var readWants = statuses(http.StatusOK, map[string]int{"anonymous": 401})

// runEach is cast.run with a path and body per caller (writes that cannot repeat).
func (c *cast) runEach(t *testing.T, method string, path func(who string) string, body func(who string) any, want map[string]int) {
	t.Helper()
	for _, who := range everyCaller {
		if _, ok := want[who]; !ok {
			t.Fatalf("scenario table lacks caller %q", who)
		}
	}
	for _, who := range everyCaller {
		var b any
		if body != nil {
			b = body(who)
		}
		rec := c.v.do(method, path(who), c.tokens[who], b)
		if rec.Code != want[who] {
			t.Errorf("%s %s as %s: status %d, want %d: %s", method, path(who), who, rec.Code, want[who], rec.Body)
		}
		if rec.Code == http.StatusForbidden && who != "anonymous" {
			d := decode[map[string]any](t, rec)["detail"]
			if d != "Insufficient permissions" && d != "Insufficient privileges" {
				t.Errorf("%s as %s: 403 detail %v", method, who, d)
			}
		}
	}
}

func fixed(p string) func() string { return func() string { return p } }

func fixedFor(p string) func(string) string { return func(string) string { return p } }

func TestF8CatalogueReadScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	w := c.v.work("Readable")
	isbn := newISBN()
	c.v.edition(isbn, w, nil)
	a := c.v.author("Ann", "Reader", w)
	for _, p := range []string{"/v1/authors", "/v1/authors/" + strconv.FormatInt(a, 10), "/v1/illustrators",
		"/v1/works", fmt.Sprintf("/v1/work/%d", w), fmt.Sprintf("/v1/work/%d?full_detail=false", w),
		"/v1/editions", "/v1/editions?work_id=" + strconv.FormatInt(w, 10), "/v1/edition/" + isbn} {
		c.run(t, http.MethodGet, fixed(p), nil, readWants)
	}
	c.run(t, http.MethodPost, fixed("/v1/editions/compare"), []string{isbn}, readWants)
}

func TestF8CatalogueWriteScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	v := c.v
	isbns := map[string]string{}
	for _, who := range everyCaller {
		isbns[who] = newISBN()
	}
	t.Run("POST /edition", func(t *testing.T) {
		c.runEach(t, http.MethodPost, fixedFor("/v1/edition"), func(who string) any {
			return map[string]any{"isbn": isbns[who], "title": "Book of " + who, "hydrated": true,
				"authors": []any{map[string]any{"first_name": "F8", "last_name": "Writer"}}}
		}, editorWants)
	})
	t.Run("PATCH /edition", func(t *testing.T) {
		shared := newISBN()
		v.edition(shared, 0, nil)
		c.run(t, http.MethodPatch, fixed("/v1/edition/"+shared), map[string]any{"edition_title": "Patched"}, editorWants)
	})
	t.Run("POST /editions", func(t *testing.T) {
		c.runEach(t, http.MethodPost, fixedFor("/v1/editions"), func(who string) any {
			return []any{map[string]any{"isbn": newISBN()}}
		}, editorWants)
	})
	t.Run("POST /work", func(t *testing.T) {
		c.runEach(t, http.MethodPost, fixedFor("/v1/work"), func(who string) any {
			return map[string]any{"title": "Work of " + who, "authors": []any{}, "editions": []any{}}
		}, editorWants)
	})
	t.Run("PATCH /work", func(t *testing.T) {
		w := v.work("Patchable")
		c.run(t, http.MethodPatch, fixed(fmt.Sprintf("/v1/work/%d", w)), map[string]any{"subtitle": "Again"}, editorWants)
	})
	t.Run("DELETE /work", func(t *testing.T) {
		works := map[string]int64{}
		for _, who := range everyCaller {
			works[who] = v.work("Deletable " + who)
		}
		c.runEach(t, http.MethodDelete, func(who string) string { return fmt.Sprintf("/v1/work/%d", works[who]) }, nil, adminWants)
		if n := v.count(`SELECT count(*) FROM works WHERE title LIKE 'Deletable %'`); n != int64(len(everyCaller)-2) {
			t.Errorf("%d deletable works left, want %d", n, len(everyCaller)-2)
		}
	})
	t.Run("POST /work/{id}/generate-labels", func(t *testing.T) {
		w := v.work("Labellable")
		c.run(t, http.MethodPost, fixed(fmt.Sprintf("/v1/work/%d/generate-labels", w)), nil, adminWants)
		rec := v.do(http.MethodPost, fmt.Sprintf("/v1/work/%d/generate-labels", w), c.tokens["educator A"], nil)
		if d := decode[map[string]any](t, rec)["detail"]; d != "Insufficient privileges" {
			t.Errorf("educator: %v", d)
		}
	})
	t.Run("PATCH /labelsets", func(t *testing.T) {
		body := []any{map[string]any{"isbn": newISBN(), "patch_data": map[string]any{}, "huey_pick": false}}
		c.run(t, http.MethodPatch, fixed("/v1/labelsets"), body, adminWants)
		rec := v.do(http.MethodPatch, "/v1/labelsets", c.tokens["lms linked A"], body)
		if d := decode[map[string]any](t, rec)["detail"]; d != "Insufficient privileges" {
			t.Errorf("lms: %v", d)
		}
	})
}

func TestEditionCreateAndLookupAnyFormat(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	body := map[string]any{"isbn": "0-00-745357-4", "hydrated": true, "title": "The Treehouse",
		"authors":      []any{map[string]any{"first_name": "Andy", "last_name": "Griffiths"}},
		"illustrators": []any{map[string]any{"first_name": "Terry", "last_name": "Denton"}},
		"cover_url":    "https://example.org/c.jpg", "date_published": 2011,
		"info": map[string]any{"pages": 256, "genres": []any{map[string]any{"name": "Humour", "source": "BIC"}}}}
	rec := v.do(http.MethodPost, "/v1/edition", admin, body)
	wantStatus(t, rec, 200)
	got := decode[map[string]any](t, rec)
	if got["isbn"] != "9780007453573" || got["title"] != "The Treehouse" || got["work_id"] == nil {
		t.Errorf("created %v", got)
	}
	if a := got["authors"].([]any); len(a) != 1 || a[0].(map[string]any)["last_name"] != "Griffiths" {
		t.Errorf("authors %v", a)
	}
	if il := got["illustrators"].([]any); len(il) != 1 || il[0].(map[string]any)["last_name"] != "Denton" {
		t.Errorf("illustrators %v", il)
	}
	if info := got["info"].(map[string]any); info["pages"] != "256" {
		t.Errorf("pages not coerced: %v", info["pages"])
	}
	for _, form := range []string{"0007453574", "9780007453573", "978-0-00-745357-3", "0-00-745357-4"} {
		rec := v.do(http.MethodGet, "/v1/edition/"+form, admin, nil)
		wantStatus(t, rec, 200)
		if g := decode[map[string]any](t, rec); g["isbn"] != "9780007453573" {
			t.Errorf("%s → %v", form, g["isbn"])
		}
	}
	rec = v.do(http.MethodGet, "/v1/edition/12345", admin, nil)
	wantStatus(t, rec, 422)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Invalid isbn" {
		t.Errorf("detail %v", d)
	}
	missing := newISBN()
	rec = v.do(http.MethodGet, "/v1/edition/"+missing, admin, nil)
	wantStatus(t, rec, 404)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Edition with ISBN "+missing+" not found." {
		t.Errorf("detail %v", d)
	}
	// Re-creating a hydrated edition is a conflict; nothing changes.
	body["title"] = "Changed"
	rec = v.do(http.MethodPost, "/v1/edition", admin, body)
	wantStatus(t, rec, 409)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Edition already exists with ISBN 9780007453573. Use the PATCH method to update." {
		t.Errorf("detail %v", d)
	}
	if g := decode[map[string]any](t, v.do(http.MethodGet, "/v1/edition/9780007453573", admin, nil)); g["title"] != "The Treehouse" {
		t.Errorf("after 409: %v", g["title"])
	}
	rec = v.do(http.MethodPost, "/v1/edition", admin, map[string]any{"isbn": "not-an-isbn"})
	wantStatus(t, rec, 422)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Invalid ISBN" {
		t.Errorf("detail %v", d)
	}
	wantStatus(t, v.do(http.MethodPost, "/v1/edition", admin, map[string]any{"title": "no isbn"}), 422)
	wantStatus(t, v.do(http.MethodPost, "/v1/edition", admin, map[string]any{"isbn": newISBN(),
		"cover_url": "data:image/png;base64,AAAA"}), 422)
	wantStatus(t, v.do(http.MethodPost, "/v1/edition", admin, map[string]any{"isbn": newISBN(),
		"labelset": map[string]any{"age_origin": "NOT_AN_ORIGIN"}}), 422)
}

func TestBulkEditionsCountCreatedRows(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	body := []any{
		map[string]any{"isbn": "9780143782797", "hydrated": true, "title": "The 13-Storey Treehouse",
			"authors":     []any{map[string]any{"first_name": "Andy", "last_name": "Griffiths"}},
			"series_name": "Treehouse", "series_number": 1, "date_published": 2011,
			"labelset": map[string]any{"min_age": 6, "max_age": 10, "age_origin": "HUMAN"}},
		map[string]any{"isbn": "0007453574"},
		map[string]any{"isbn": "not-an-isbn"},
	}
	rec := v.do(http.MethodPost, "/v1/editions", admin, body)
	wantStatus(t, rec, 200)
	if m := decode[map[string]any](t, rec)["msg"]; m != "Bulk load of 2 editions complete. Created 2 new editions." {
		t.Errorf("first: %v", m)
	}
	rec = v.do(http.MethodPost, "/v1/editions", admin, body)
	wantStatus(t, rec, 200)
	if m := decode[map[string]any](t, rec)["msg"]; m != "Bulk load of 2 editions complete. Created 0 new editions." {
		t.Errorf("repeat: %v", m)
	}
	if n := v.count(`SELECT count(*) FROM editions WHERE isbn IN ('9780143782797', '9780007453573')`); n != 2 {
		t.Errorf("%d editions", n)
	}
	if n := v.count(`SELECT count(*) FROM events WHERE title = 'Bulk editions added'`); n != 2 {
		t.Errorf("%d events", n)
	}
	if got := v.scalar(`SELECT info->>'created' FROM events WHERE title = 'Bulk editions added' ORDER BY timestamp LIMIT 1`); got != "2" {
		t.Errorf("event info created %v", got)
	}
	w := decode[map[string]any](t, v.do(http.MethodGet, "/v1/edition/9780143782797", admin, nil))
	work := decode[map[string]any](t, v.do(http.MethodGet, "/v1/work/"+w["work_id"].(string), admin, nil))
	if ls, _ := work["labelset"].(map[string]any); ls == nil || ls["min_age"] != 6.0 || ls["age_origin"] != "HUMAN" {
		t.Errorf("labelset %v", work["labelset"])
	}
	wantStatus(t, v.do(http.MethodPost, "/v1/editions", admin, map[string]any{"isbn": "x"}), 422)
	wantStatus(t, v.do(http.MethodPost, "/v1/editions", admin, []any{map[string]any{"title": "no isbn"}}), 422)
}

func TestEditionsCompareCounts(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	w := v.work("Tagged")
	v.edition("9780007453573", w, nil)
	v.exec(`INSERT INTO labelsets (work_id, checked) VALUES ($1, true)`, w)
	other := newISBN()
	v.edition(other, 0, nil)
	rec := v.do(http.MethodPost, "/v1/editions/compare", admin,
		[]any{"0007453574", "978-0-00-745357-3", other, newISBN(), "garbage"})
	wantStatus(t, rec, 200)
	got := decode[map[string]float64](t, rec)
	if got["num_provided"] != 5 || got["num_valid"] != 3 || got["num_known"] != 2 || got["num_fully_tagged"] != 1 {
		t.Errorf("counts %v", got)
	}
}

func TestWorkCreateAdoptsEditions(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	oldWork := v.work("Old home")
	moved := newISBN()
	v.edition(moved, oldWork, nil)
	existing := v.author("C.S.", "Lewis")
	fresh := newISBN()
	rec := v.do(http.MethodPost, "/v1/work", admin, map[string]any{"title": "New home", "type": "BOOK",
		"authors":  []any{existing, map[string]any{"first_name": "C S", "last_name": "Lewis"}, map[string]any{"last_name": "Other"}},
		"editions": []any{moved[:3] + "-" + moved[3:], fresh, "bad"}, "info": map[string]any{"genres": []any{}}})
	wantStatus(t, rec, 200)
	got := decode[map[string]any](t, rec)
	if got["title"] != "New home" || got["type"] != "book" {
		t.Errorf("work %v", got)
	}
	if a := got["authors"].([]any); len(a) != 2 {
		t.Errorf("authors %v (C.S. Lewis = C S Lewis)", a)
	}
	if e := got["editions"].([]any); len(e) != 2 {
		t.Errorf("editions %v", e)
	}
	if n := v.count(`SELECT count(*) FROM editions WHERE work_id = $1`, oldWork); n != 0 {
		t.Errorf("old work still has %d editions", n)
	}
	if d := v.scalar(`SELECT info->>'description' FROM events WHERE title = 'Work created'`); d != "'New home' created with 3 editions" {
		t.Errorf("event %v", d)
	}
	// An unknown author id: 422, nothing written.
	works := v.count(`SELECT count(*) FROM works`)
	rec = v.do(http.MethodPost, "/v1/work", admin, map[string]any{"title": "Nope", "authors": []any{999999}, "editions": []any{newISBN()}})
	wantStatus(t, rec, 422)
	if n := v.count(`SELECT count(*) FROM works`); n != works {
		t.Errorf("works %d → %d after a failed create", works, n)
	}
	wantStatus(t, v.do(http.MethodPost, "/v1/work", admin, map[string]any{"title": "No lists"}), 422)
	wantStatus(t, v.do(http.MethodPost, "/v1/work", admin, map[string]any{"title": "T", "type": "film", "authors": []any{}, "editions": []any{}}), 422)
}

func TestWorkPatchAppliesOriginRules(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	w := v.work("Before")
	path := fmt.Sprintf("/v1/work/%d", w)
	rec := v.do(http.MethodPatch, path, admin, map[string]any{"title": "After", "labelset": map[string]any{
		"min_age": 5, "max_age": 9, "age_origin": "HUMAN", "hue_primary_key": "hue05_funny_comic", "hue_origin": "HUMAN",
		"reading_ability_keys": []any{"TREEHOUSE"}, "reading_ability_origin": "HUMAN", "checked": true}})
	wantStatus(t, rec, 200)
	got := decode[map[string]any](t, rec)
	ls := got["labelset"].(map[string]any)
	if got["title"] != "After" || ls["min_age"] != 5.0 || ls["checked"] != true || len(ls["hues"].([]any)) != 1 ||
		len(ls["reading_abilities"].([]any)) != 1 || ls["work_id"] != strconv.FormatInt(w, 10) {
		t.Errorf("patched %v", got)
	}
	// A weaker origin does not overwrite ages.
	rec = v.do(http.MethodPatch, path, admin, map[string]any{"labelset": map[string]any{"min_age": 1, "age_origin": "NIELSEN_RA"}})
	wantStatus(t, rec, 200)
	if ls := decode[map[string]any](t, rec)["labelset"].(map[string]any); ls["min_age"] != 5.0 {
		t.Errorf("weaker origin overwrote min_age: %v", ls["min_age"])
	}
	var changes map[string]any
	if err := v.super.QueryRow(context.Background(), `SELECT info->'changes' FROM events WHERE title = 'Work updated'
		ORDER BY timestamp LIMIT 1`).Scan(&changes); err != nil {
		t.Fatal(err)
	}
	if tc, _ := changes["title"].([]any); len(tc) != 2 || tc[0] != "Before" || tc[1] != "After" {
		t.Errorf("changes %v", changes)
	}
	if _, ok := changes["labelset"].(map[string]any); !ok {
		t.Errorf("changes lack labelset: %v", changes)
	}
	if d := v.scalar(`SELECT info->>'description' FROM events WHERE title = 'Work updated' ORDER BY timestamp LIMIT 1`); d != "Made a change to 'After'" {
		t.Errorf("description %v", d)
	}
	wantStatus(t, v.do(http.MethodPatch, "/v1/work/999999", admin, map[string]any{"title": "x"}), 404)
	wantStatus(t, v.do(http.MethodPatch, path, admin, map[string]any{"labelset": map[string]any{"hue_origin": "WHO"}}), 422)
	if g := decode[map[string]any](t, v.do(http.MethodGet, path, admin, nil)); g["title"] != "After" {
		t.Errorf("after failed patch: %v", g["title"])
	}
}

func TestWorkDeleteDetachesEditions(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	v, admin := c.v, c.tokens["admin"]
	w := v.work("Doomed")
	isbn := newISBN()
	v.edition(isbn, w, nil)
	v.author("Some", "Author", w)
	path := fmt.Sprintf("/v1/work/%d", w)
	wantStatus(t, v.do(http.MethodDelete, path, c.tokens["educator A"], nil), 403)
	rec := v.do(http.MethodDelete, path, admin, nil)
	wantStatus(t, rec, 200)
	got := decode[map[string]any](t, rec)
	if got["title"] != "Doomed" || len(got["editions"].([]any)) != 1 || len(got["authors"].([]any)) != 1 {
		t.Errorf("deleted %v", got)
	}
	wantStatus(t, v.do(http.MethodGet, path, admin, nil), 404)
	wantStatus(t, v.do(http.MethodDelete, path, admin, nil), 404)
	ed := decode[map[string]any](t, v.do(http.MethodGet, "/v1/edition/"+isbn, admin, nil))
	if ed["work_id"] != nil {
		t.Errorf("edition still on work %v", ed["work_id"])
	}
	if d := v.scalar(`SELECT info->>'description' FROM events WHERE title = 'Work deleted'`); d != "Deleted work 'Doomed'" {
		t.Errorf("event %v", d)
	}
}

func TestGetWorkBackfillsInfoWithoutWriting(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	w := v.work("Info")
	v.exec(`UPDATE works SET info = '{"other": {"a": 1}}' WHERE id = $1`, w)
	withCover, without := newISBN(), newISBN()
	v.edition(without, w, nil)
	cover := "https://example.org/x.jpg"
	v.edition(withCover, w, &cover)
	got := decode[map[string]any](t, v.do(http.MethodGet, fmt.Sprintf("/v1/work/%d", w), admin, nil))
	info := got["info"].(map[string]any)
	if g, ok := info["genres"].([]any); !ok || len(g) != 0 || info["other"].(map[string]any)["a"] != 1.0 {
		t.Errorf("info %v", info)
	}
	if eds := got["editions"].([]any); eds[0].(map[string]any)["isbn"] != withCover || got["cover_url"] != nil {
		t.Errorf("editions not cover-first or cover_url set: %v", got)
	}
	if stored := v.scalar(`SELECT info ? 'genres' FROM works WHERE id = $1`, w); stored != false {
		t.Error("GET wrote info")
	}
	enriched := decode[map[string]any](t, v.do(http.MethodGet, fmt.Sprintf("/v1/work/%d?full_detail=false", w), admin, nil))
	if enriched["cover_url"] != cover || enriched["editions"] != nil {
		t.Errorf("enriched %v", enriched)
	}
	// GET /editions: the work's editions, cover first; unknown work 404; title search.
	eds := decode[[]map[string]any](t, v.do(http.MethodGet, fmt.Sprintf("/v1/editions?work_id=%d", w), admin, nil))
	if len(eds) != 2 || eds[0]["isbn"] != withCover {
		t.Errorf("editions %v", eds)
	}
	wantStatus(t, v.do(http.MethodGet, "/v1/editions?work_id=999999", admin, nil), 404)
	wantStatus(t, v.do(http.MethodGet, "/v1/editions?work_id=abc", admin, nil), 422)
	if got := decode[[]map[string]any](t, v.do(http.MethodGet, "/v1/editions?query=info", admin, nil)); len(got) != 2 {
		t.Errorf("title search %v", got)
	}
	works := decode[[]map[string]any](t, v.do(http.MethodGet, "/v1/works?query=inf", admin, nil))
	if len(works) != 1 || works[0]["id"] != strconv.FormatInt(w, 10) {
		t.Errorf("works %v", works)
	}
	if got := decode[[]map[string]any](t, v.do(http.MethodGet, "/v1/works?isbn="+without, admin, nil)); len(got) != 1 {
		t.Errorf("works by isbn %v", got)
	}
	v.work("No editions")
	if got := decode[[]map[string]any](t, v.do(http.MethodGet, "/v1/works?query=editions", admin, nil)); len(got) != 0 {
		t.Errorf("a work without editions listed: %v", got)
	}
	wantStatus(t, v.do(http.MethodGet, "/v1/works?type=film", admin, nil), 422)
	wantStatus(t, v.do(http.MethodGet, "/v1/works?type=PODCAST", admin, nil), 200)
}

func TestAuthorsAndIllustrators(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	w1, w2 := v.work("One"), v.work("Two")
	a := v.author("C.S.", "Lewis", w1, w2)
	got := decode[map[string]any](t, v.do(http.MethodGet, fmt.Sprintf("/v1/authors/%d", a), admin, nil))
	if got["book_count"] != 2.0 || got["id"] != strconv.FormatInt(a, 10) || got["first_name"] != "C.S." {
		t.Errorf("author %v", got)
	}
	if l := decode[[]map[string]any](t, v.do(http.MethodGet, "/v1/authors?query=lewis", admin, nil)); len(l) != 1 {
		t.Errorf("authors %v", l)
	}
	if l := decode[[]map[string]any](t, v.do(http.MethodGet, "/v1/authors?query=nobody", admin, nil)); len(l) != 0 {
		t.Errorf("authors %v", l)
	}
	var il int64
	if err := v.super.QueryRow(context.Background(), `INSERT INTO illustrators (first_name, last_name) VALUES ('Terry', 'Denton') RETURNING id`).Scan(&il); err != nil {
		t.Fatal(err)
	}
	g := decode[map[string]any](t, v.do(http.MethodGet, fmt.Sprintf("/v1/illustrators/%d", il), admin, nil))
	if g["id"] != float64(il) || g["last_name"] != "Denton" {
		t.Errorf("illustrator %v", g)
	}
	for path, want := range map[string]string{
		"/v1/authors/999999": "Author with id 999999 not found.", "/v1/illustrators/999999": "Illustrator with id 999999 not found.",
		"/v1/work/999999": "Work with id 999999 not found",
	} {
		rec := v.do(http.MethodGet, path, admin, nil)
		wantStatus(t, rec, 404)
		if d := decode[map[string]any](t, rec)["detail"]; d != want {
			t.Errorf("%s: %v", path, d)
		}
	}
	for _, path := range []string{"/v1/authors/abc", "/v1/illustrators/1.5", "/v1/work/abc", "/v1/work/x/generate-labels"} {
		method := http.MethodGet
		if path == "/v1/work/x/generate-labels" {
			method = http.MethodPost
		}
		wantStatus(t, v.do(method, path, admin, nil), 422)
	}
	wantStatus(t, v.do(http.MethodDelete, "/v1/work/abc", admin, nil), 422)
	wantStatus(t, v.do(http.MethodGet, "/v1/work/99999999999", admin, nil), 404)
}

func TestPatchEdition(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	rec := v.do(http.MethodPost, "/v1/edition", admin, map[string]any{"isbn": "0007453574", "title": "Illustrated",
		"illustrators": []any{map[string]any{"first_name": "Terry", "last_name": "Denton"}}, "info": map[string]any{"a": 1, "b": map[string]any{"c": 1}}})
	wantStatus(t, rec, 200)
	path := "/v1/edition/0-00-745357-4"
	// Illustrators absent: left as they are (the original cleared them).
	rec = v.do(http.MethodPatch, path, admin, map[string]any{"edition_title": "Renamed", "date_published": "2020"})
	wantStatus(t, rec, 200)
	got := decode[map[string]any](t, rec)
	if got["title"] != "Renamed" || got["date_published"] != 2020.0 || len(got["illustrators"].([]any)) != 1 {
		t.Errorf("patched %v", got)
	}
	denton := int64(got["illustrators"].([]any)[0].(map[string]any)["id"].(float64))
	// A new illustrator whose name exists: 409, nothing changed.
	rec = v.do(http.MethodPatch, path, admin, map[string]any{"edition_title": "Never", "illustrators": []any{map[string]any{"first_name": "Terry", "last_name": "Denton"}}})
	wantStatus(t, rec, 409)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Illustrator Terry Denton already exists" {
		t.Errorf("detail %v", d)
	}
	rec = v.do(http.MethodPatch, path, admin, map[string]any{"illustrators": []any{999999}})
	wantStatus(t, rec, 404)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Illustrator with id 999999 not found." {
		t.Errorf("detail %v", d)
	}
	if g := decode[map[string]any](t, v.do(http.MethodGet, path, admin, nil)); g["title"] != "Renamed" {
		t.Errorf("after failed patches: %v", g["title"])
	}
	// Replace with a new one plus the old one by id; merge info.
	rec = v.do(http.MethodPatch, path+"?merge_dicts=true", admin, map[string]any{
		"illustrators": []any{denton, map[string]any{"last_name": "Newcomer"}}, "info": map[string]any{"b": map[string]any{"d": 2}}})
	wantStatus(t, rec, 200)
	got = decode[map[string]any](t, rec)
	info := got["info"].(map[string]any)
	if len(got["illustrators"].([]any)) != 2 || info["a"] != 1.0 || info["b"].(map[string]any)["c"] != 1.0 || info["b"].(map[string]any)["d"] != 2.0 {
		t.Errorf("merged %v", got)
	}
	rec = v.do(http.MethodPatch, path, admin, map[string]any{"illustrators": []any{}, "info": map[string]any{"z": 1}})
	wantStatus(t, rec, 200)
	got = decode[map[string]any](t, rec)
	if len(got["illustrators"].([]any)) != 0 || got["info"].(map[string]any)["a"] != nil {
		t.Errorf("replaced %v", got)
	}
	if n := v.count(`SELECT count(*) FROM events WHERE title = 'Edition updated' AND info->>'isbn' = '9780007453573'`); n != 3 {
		t.Errorf("%d Edition updated events", n)
	}
	wantStatus(t, v.do(http.MethodPatch, path, admin, map[string]any{"date_published": "soon"}), 422)
	wantStatus(t, v.do(http.MethodPatch, "/v1/edition/123", admin, map[string]any{}), 422)
	wantStatus(t, v.do(http.MethodPatch, "/v1/edition/"+newISBN(), admin, map[string]any{}), 404)
	wantStatus(t, v.do(http.MethodPatch, path, admin, map[string]any{"work_id": 999999}), 404)
}

func TestPatchLabelSetsAndGenerateLabels(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	w := v.work("Labelled")
	isbn := newISBN()
	v.edition(isbn, w, nil)
	rec := v.do(http.MethodPatch, "/v1/labelsets", admin, []any{
		map[string]any{"isbn": isbn, "huey_pick": true, "patch_data": map[string]any{"huey_summary": "Fun", "summary_origin": "HUMAN"}},
		map[string]any{"isbn": newISBN(), "huey_pick": false, "patch_data": map[string]any{}},
	})
	wantStatus(t, rec, 200)
	if got := decode[map[string]float64](t, rec); got["patched"] != 1 || got["unknown"] != 1 || got["errors"] != 0 {
		t.Errorf("counts %v", got)
	}
	if s := v.scalar(`SELECT huey_summary FROM labelsets WHERE work_id = $1`, w); s != "Fun" {
		t.Errorf("summary %v", s)
	}
	wantStatus(t, v.do(http.MethodPatch, "/v1/labelsets", admin, []any{map[string]any{"isbn": isbn}}), 422)

	rec = v.do(http.MethodPost, fmt.Sprintf("/v1/work/%d/generate-labels", w), admin, nil)
	wantStatus(t, rec, 200)
	if got := decode[map[string]any](t, rec); got["status"] != "ok" {
		t.Errorf("body %v", got)
	}
	if n := v.count(`SELECT count(*) FROM task_queue WHERE kind = 'generate-labels' AND (payload->>'work_id')::int = $1`, w); n != 1 {
		t.Errorf("%d tasks", n)
	}
	wantStatus(t, v.do(http.MethodPost, "/v1/work/999999/generate-labels", admin, nil), 404)
}

// The catalogue's responses match the document.
func TestCatalogueResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	rc := newResponseChecker(t, v)
	admin := oaAdmin(v)
	student := v.userToken(v.user("Cat Reader", "PUBLIC", nil))
	rec := rc.do(http.MethodPost, "/v1/edition", admin, map[string]any{"isbn": "9780143782797", "hydrated": true,
		"title": "Treehouse", "authors": []any{map[string]any{"first_name": "Andy", "last_name": "Griffiths"}},
		"illustrators": []any{map[string]any{"last_name": "Denton"}}, "cover_url": "https://example.org/t.jpg",
		"labelset": map[string]any{"min_age": 6, "age_origin": "HUMAN", "hue_primary_key": "hue05_funny_comic", "hue_origin": "HUMAN"}}, 200)
	ed := decode[map[string]any](t, rec)
	wid := ed["work_id"].(string)
	aid := ed["authors"].([]any)[0].(map[string]any)["id"].(string)
	iid := int(ed["illustrators"].([]any)[0].(map[string]any)["id"].(float64))
	rc.do(http.MethodPost, "/v1/edition", admin, map[string]any{"isbn": "9780143782797", "hydrated": true}, 409)
	rc.do(http.MethodPost, "/v1/edition", admin, map[string]any{"isbn": "bad"}, 422)
	rc.do(http.MethodPost, "/v1/edition", student, map[string]any{"isbn": newISBN()}, 403)
	rc.do(http.MethodGet, "/v1/edition/9780143782797", admin, nil, 200)
	rc.do(http.MethodGet, "/v1/edition/bad", admin, nil, 422)
	rc.do(http.MethodGet, "/v1/edition/"+newISBN(), admin, nil, 404)
	rc.do(http.MethodPatch, "/v1/edition/9780143782797?merge_dicts=true", admin, map[string]any{"info": map[string]any{"x": 1}}, 200)
	rc.do(http.MethodPatch, "/v1/edition/9780143782797", admin, map[string]any{"illustrators": []any{map[string]any{"last_name": "Denton"}}}, 409)
	rc.do(http.MethodPost, "/v1/editions", admin, []any{map[string]any{"isbn": newISBN()}}, 200)
	rc.do(http.MethodPost, "/v1/editions/compare", student, []any{"9780143782797"}, 200)
	rc.do(http.MethodGet, "/v1/editions", student, nil, 200)
	rc.do(http.MethodGet, "/v1/editions?work_id="+wid, student, nil, 200)
	rc.do(http.MethodGet, "/v1/editions?query="+url.QueryEscape("treehouse"), student, nil, 200)
	rc.do(http.MethodGet, "/v1/editions?work_id=999999", student, nil, 404)
	rc.do(http.MethodGet, "/v1/works", student, nil, 200)
	rc.do(http.MethodGet, "/v1/work/"+wid, student, nil, 200)
	rc.do(http.MethodGet, "/v1/work/"+wid+"?full_detail=false", student, nil, 200)
	rc.do(http.MethodGet, "/v1/work/abc", student, nil, 422)
	rc.do(http.MethodGet, "/v1/authors", student, nil, 200)
	rc.do(http.MethodGet, "/v1/authors/"+aid, student, nil, 200)
	rc.do(http.MethodGet, "/v1/authors/999999", student, nil, 404)
	rc.do(http.MethodGet, "/v1/illustrators", student, nil, 200)
	rc.do(http.MethodGet, fmt.Sprintf("/v1/illustrators/%d", iid), student, nil, 200)
	rc.do(http.MethodPatch, "/v1/work/"+wid, admin, map[string]any{"subtitle": "Sub", "labelset": map[string]any{"checked": true}}, 200)
	rc.do(http.MethodPatch, "/v1/work/"+wid, student, map[string]any{"subtitle": "Sub"}, 403)
	created := rc.do(http.MethodPost, "/v1/work", admin, map[string]any{"title": "Made", "authors": []any{map[string]any{"last_name": "M"}}, "editions": []any{newISBN()}}, 200)
	rc.do(http.MethodPost, "/v1/work/"+wid+"/generate-labels", admin, nil, 200)
	rc.do(http.MethodPost, "/v1/work/"+wid+"/generate-labels", student, nil, 403)
	rc.do(http.MethodPatch, "/v1/labelsets", admin, []any{map[string]any{"isbn": "9780143782797", "huey_pick": true, "patch_data": map[string]any{"min_age": 7, "age_origin": "HUMAN"}}}, 200)
	if id, _ := decode[map[string]any](t, created)["id"].(string); id != "" {
		rc.do(http.MethodDelete, "/v1/work/"+id, admin, nil, 200)
		rc.do(http.MethodDelete, "/v1/work/"+id, admin, nil, 404)
	}
	rc.do(http.MethodDelete, "/v1/work/"+wid, student, nil, 403)
}

// Every catalogue route is in the document (the document-wide check is
// TestOpenAPIDocumentMatchesRoutes).
func TestCatalogueRoutesAreDocumented(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	doc := fetchDocument(t, v, "/openapi.json")
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/authors"}, {"GET", "/v1/authors/{author_id}"}, {"GET", "/v1/illustrators"},
		{"GET", "/v1/illustrators/{illustrator_id}"}, {"GET", "/v1/works"}, {"GET", "/v1/work/{work_id}"},
		{"POST", "/v1/work/{work_id}/generate-labels"}, {"POST", "/v1/work"}, {"PATCH", "/v1/work/{work_id}"},
		{"DELETE", "/v1/work/{work_id}"}, {"GET", "/v1/editions"}, {"POST", "/v1/editions/compare"},
		{"GET", "/v1/edition/{isbn}"}, {"POST", "/v1/edition"}, {"PATCH", "/v1/edition/{isbn}"},
		{"POST", "/v1/editions"}, {"PATCH", "/v1/labelsets"},
	} {
		item := doc.Paths.Value(r.path)
		if item == nil || item.GetOperation(r.method) == nil {
			t.Errorf("%s %s is not documented", r.method, r.path)
		}
	}
}
