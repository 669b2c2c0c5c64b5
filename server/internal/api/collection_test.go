package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/benchdata"
)

// isbn13 is a valid ISBN-13 built from n (978 + nine digits + check digit).
func isbn13(n int) string { return benchdata.ISBN(n) }

// collection creates a collection as a superuser: for a school, or a user.
func (v *env) collection(sch *school, user *uuid.UUID, name string) uuid.UUID {
	v.t.Helper()
	var id uuid.UUID
	var swid *uuid.UUID
	if sch != nil {
		swid = &sch.WID
	}
	if err := v.super.QueryRow(context.Background(), `INSERT INTO collections (school_id, user_id, name)
		VALUES ($1, $2, $3) RETURNING id`, swid, user, name).Scan(&id); err != nil {
		v.t.Fatal(err)
	}
	return id
}

// item adds an edition (bare, unless it exists) and an item to collection id.
func (v *env) item(id uuid.UUID, isbn string, total, available int, info string) int64 {
	v.t.Helper()
	v.exec(`INSERT INTO editions (isbn) VALUES ($1) ON CONFLICT DO NOTHING`, isbn)
	var itemID int64
	if err := v.super.QueryRow(context.Background(), `INSERT INTO collection_items
		(collection_id, edition_isbn, copies_total, copies_available, info) VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id`,
		id, isbn, total, available, info).Scan(&itemID); err != nil {
		v.t.Fatal(err)
	}
	return itemID
}

func TestF2CollectionReadScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	coll := c.v.collection(&c.a, nil, "A books")
	c.v.item(coll, isbn13(1), 1, 1, `{}`)
	want := statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200,
		"lms linked A": 200, "school sa A": 200, // F2: linked accounts only; lms unlinked 403
	})
	for _, p := range []string{"", "/items", "/info", "/" + isbn13(1)} {
		c.run(t, http.MethodGet, func() string { return "/v1/collection/" + coll.String() + p }, nil, want)
	}
	// A user collection: its owner (and admins).
	own := c.v.collection(nil, ptr(c.ids["public reader"]), "Mine")
	c.run(t, http.MethodGet, func() string { return "/v1/collection/" + own.String() }, nil,
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200, "public reader": 200}))
	// Missing: 404 for everyone signed in.
	c.run(t, http.MethodGet, func() string { return "/v1/collection/" + uuid.NewString() }, nil,
		statuses(http.StatusNotFound, map[string]int{"anonymous": 401}))
}

func ptr[T any](v T) *T { return &v }

func TestF2CollectionWriteScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	coll := c.v.collection(&c.a, nil, "A books")
	body := map[string]any{"items": []any{map[string]any{"action": "add", "edition_isbn": isbn13(7)}}}
	want := statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "lms linked A": 200,
	})
	c.run(t, http.MethodPatch, func() string { return "/v1/collection/" + coll.String() }, body, want)
	c.run(t, http.MethodPut, func() string { return "/v1/collection/" + coll.String() + "/items" },
		[]any{map[string]any{"edition_isbn": isbn13(8)}}, want)
	// Deletion: each allowed caller deletes a fresh collection.
	for _, who := range everyCaller {
		id := c.v.collection(&c.a, nil, "to delete "+who)
		rec := c.v.do(http.MethodDelete, "/v1/collection/"+id.String(), c.tokens[who], nil)
		exp, ok := want[who]
		if !ok {
			exp = http.StatusForbidden
		}
		if rec.Code != exp {
			t.Errorf("DELETE as %s: %d, want %d: %s", who, rec.Code, exp, rec.Body)
		}
		if exp == 200 && c.v.scalar(`SELECT count(*) FROM collections WHERE id = $1`, id).(int64) != 0 {
			t.Errorf("DELETE as %s left the collection", who)
		}
		c.v.exec(`DELETE FROM collections WHERE id = $1`, id)
	}
}

func TestCollectionCreateScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	body := map[string]any{"name": "A books", "school_id": c.a.WID.String(),
		"items": []any{map[string]any{"edition_isbn": "0-7475-3269-9"}, map[string]any{"info": map[string]any{"title": "Zine"}}}}
	// The first allowed caller creates it; the others find it (409); the rest are refused (401, F15).
	c.run(t, http.MethodPost, func() string { return "/v1/collection" }, body, statuses(http.StatusUnauthorized, map[string]int{
		"admin": 200, "backend": 409, "schooladmin A": 409, "lms linked A": 409,
	}))
	rec := c.v.do(http.MethodPost, "/v1/collection", c.tokens["schooladmin A"], body)
	wantStatus(t, rec, http.StatusConflict)
	got := decode[map[string]map[string]any](t, rec)
	id, _ := got["detail"]["collection_id"].(string)
	if _, err := uuid.Parse(id); err != nil || got["detail"]["msg"] == nil {
		t.Fatalf("409 body %s", rec.Body)
	}
	if n := c.v.scalar(`SELECT count(*) FROM collection_items WHERE collection_id = $1::uuid`, id).(int64); n != 2 {
		t.Errorf("items %d, want 2", n)
	}
	if n := c.v.scalar(`SELECT count(*) FROM events WHERE title = 'Unknown Book added to Collection'`).(int64); n != 1 {
		t.Errorf("unknown book events %d, want 1", n)
	}
	// User collections: oneself (and admins); validation after the checks.
	reader := c.ids["public reader"]
	rec = c.v.do(http.MethodPost, "/v1/collection", c.tokens["public reader"], map[string]any{"name": "Mine", "user_id": reader.String()})
	wantStatus(t, rec, http.StatusOK)
	if out := decode[map[string]any](t, rec); out["user_id"] != reader.String() || out["book_count"] != 0.0 {
		t.Errorf("created %v", out)
	}
	rec = c.v.do(http.MethodPost, "/v1/collection", c.tokens["parent"], map[string]any{"name": "Not mine", "user_id": reader.String()})
	wantStatus(t, rec, http.StatusUnauthorized)
	rec = c.v.do(http.MethodPost, "/v1/collection", c.tokens["admin"], map[string]any{"name": "x", "user_id": uuid.NewString()})
	wantStatus(t, rec, http.StatusNotFound)
	rec = c.v.do(http.MethodPost, "/v1/collection", c.tokens["admin"], map[string]any{"name": "x"})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	rec = c.v.do(http.MethodPost, "/v1/collection", c.tokens["admin"], map[string]any{"name": "x",
		"school_id": c.b.WID.String(), "user_id": reader.String()})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
}

func TestF16CollectionReplaceRechecksOwnership(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	coll := c.v.collection(&c.a, nil, "A books")
	c.v.item(coll, isbn13(1), 1, 1, `{}`)
	// F16: the owner named by the body is checked like a create.
	for _, who := range []string{"schooladmin A", "lms linked A"} {
		rec := c.v.do(http.MethodPut, "/v1/collection/"+coll.String(), c.tokens[who],
			map[string]any{"name": "Stolen", "school_id": c.b.WID.String()})
		wantStatus(t, rec, http.StatusUnauthorized)
	}
	rec := c.v.do(http.MethodPut, "/v1/collection/"+coll.String(), c.tokens["school sa A"],
		map[string]any{"name": "x", "school_id": c.a.WID.String()})
	wantStatus(t, rec, http.StatusForbidden)
	if n := c.v.scalar(`SELECT count(*) FROM collections WHERE id = $1`, coll).(int64); n != 1 {
		t.Fatal("a refused replace changed the collection")
	}
	rec = c.v.do(http.MethodPut, "/v1/collection/"+coll.String(), c.tokens["lms linked A"],
		map[string]any{"name": "New A", "school_id": c.a.WID.String(), "items": []any{map[string]any{"edition_isbn": isbn13(2)}}})
	wantStatus(t, rec, http.StatusOK)
	out := decode[map[string]any](t, rec)
	if out["id"] == coll.String() || out["name"] != "New A" || out["book_count"] != 1.0 {
		t.Errorf("replaced %v", out)
	}
	if n := c.v.scalar(`SELECT count(*) FROM collections WHERE school_id = $1`, c.a.WID).(int64); n != 1 {
		t.Errorf("school has %d collections", n)
	}
}

func TestCollectionBatchUpdateLMS(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	coll := c.v.collection(&c.a, nil, "A books")
	keep := c.v.item(coll, "9780141321288", 1, 1, `{"title": "Keep"}`)
	shelf := c.v.item(coll, isbn13(3), 1, 1, `{"title": "Shelf", "other": {"room": "12"}}`)
	c.v.item(coll, "9780008197049", 1, 1, `{}`)
	lms := c.tokens["lms linked A"]
	body := map[string]any{"items": []any{
		map[string]any{"action": "add", "edition_isbn": "0-7475-3269-9", "copies_total": 3, "copies_available": 2},
		map[string]any{"action": "update", "edition_isbn": "978-0-14-132128-8", "copies_total": 5},
		map[string]any{"action": "update", "id": shelf, "info": map[string]any{"other": map[string]any{"shelf": "B3"}}},
		map[string]any{"action": "remove", "edition_isbn": "9780008197049"},
		map[string]any{"action": "add", "info": map[string]any{"title": "Our Class Zine", "author": "Room 12"}},
	}}
	rec := c.v.do(http.MethodPatch, "/v1/collection/"+coll.String()+"?ignore_conflicts=true", lms, body)
	wantStatus(t, rec, http.StatusOK)
	if got := decode[map[string]any](t, rec); got["msg"] != "updated" || got["collection_size"] != 4.0 {
		t.Fatalf("response %v", got)
	}
	check := func(sql string, want any, args ...any) {
		t.Helper()
		if got := c.v.scalar(sql, args...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", sql, got, want)
		}
	}
	check(`SELECT copies_total || '/' || copies_available FROM collection_items WHERE collection_id = $1 AND edition_isbn = '9780747532699'`, "3/2", coll)
	check(`SELECT copies_total || '/' || copies_available || ' ' || (info ->> 'title') FROM collection_items WHERE id = $1`, "5/1 Keep", keep)
	check(`SELECT info::text FROM collection_items WHERE id = $1`, `{"other": {"room": "12", "shelf": "B3"}, "title": "Shelf"}`, shelf)
	check(`SELECT count(*) FROM collection_items WHERE edition_isbn = '9780008197049'`, 0)
	check(`SELECT count(*) FROM editions WHERE isbn = '9780747532699'`, 1)
	check(`SELECT count(*) FROM events WHERE title = 'Collection Update'`, 2)
	check(`SELECT count(*) FROM events WHERE title = 'Unknown Book added to Collection' AND level = 'WARNING'`, 1)

	// An add on conflict merges info with ignore_conflicts (the default).
	rec = c.v.do(http.MethodPatch, "/v1/collection/"+coll.String(), lms, map[string]any{"name": "Renamed",
		"items": []any{map[string]any{"edition_isbn": "9780141321288", "copies_total": 2, "info": map[string]any{"author": "A"}}}})
	wantStatus(t, rec, http.StatusOK)
	check(`SELECT copies_total || '/' || copies_available || ' ' || (info ->> 'title') || (info ->> 'author') FROM collection_items WHERE id = $1`, "2/2 KeepA", keep)
	check(`SELECT name FROM collections WHERE id = $1`, "Renamed", coll)

	// ignore_conflicts=false: a held ISBN is 409 and nothing of the request is applied.
	before := c.v.scalar(`SELECT string_agg(id || ':' || coalesce(edition_isbn, '-') || ':' || copies_total || ':' || info::text, ',' ORDER BY id)
		FROM collection_items WHERE collection_id = $1`, coll)
	rec = c.v.do(http.MethodPatch, "/v1/collection/"+coll.String()+"?ignore_conflicts=false", lms, map[string]any{"name": "Nope",
		"items": []any{
			map[string]any{"action": "add", "edition_isbn": isbn13(99)},
			map[string]any{"action": "remove", "id": keep},
			map[string]any{"action": "add", "edition_isbn": "9780141321288"},
		}})
	wantStatus(t, rec, http.StatusConflict)
	check(`SELECT string_agg(id || ':' || coalesce(edition_isbn, '-') || ':' || copies_total || ':' || info::text, ',' ORDER BY id)
		FROM collection_items WHERE collection_id = $1`, before, coll)
	check(`SELECT name FROM collections WHERE id = $1`, "Renamed", coll)

	// Only invalid ISBNs among the adds: 422, nothing applied.
	rec = c.v.do(http.MethodPatch, "/v1/collection/"+coll.String(), lms, map[string]any{
		"items": []any{map[string]any{"action": "remove", "id": keep}, map[string]any{"edition_isbn": "not-an-isbn"}}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	check(`SELECT count(*) FROM collection_items WHERE id = $1`, 1, keep)

	// An unlinked LMS account is refused.
	rec = c.v.do(http.MethodPatch, "/v1/collection/"+coll.String(), c.tokens["lms unlinked"], body)
	wantStatus(t, rec, http.StatusForbidden)
}

func TestCollectionSetItems(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	coll := c.v.collection(&c.a, nil, "A books")
	c.v.item(coll, isbn13(1), 4, 4, `{"title": "Old"}`)
	admin := c.tokens["schooladmin A"]
	rec := c.v.do(http.MethodPut, "/v1/collection/"+coll.String()+"/items", admin, []any{
		map[string]any{"edition_isbn": isbn13(1), "copies_total": 2},
		map[string]any{"edition_isbn": "0-7475-3269-9"},
		map[string]any{"edition_isbn": "0747532699", "copies_total": 6}, // the later duplicate wins
		map[string]any{"edition_isbn": "bad"},
		map[string]any{"info": map[string]any{"title": "no isbn"}},
	})
	wantStatus(t, rec, http.StatusOK)
	if got := decode[map[string]any](t, rec); got["msg"] != "Collection set. Total editions: 2" || got["collection_size"] != 2.0 {
		t.Fatalf("response %v", got)
	}
	if got := c.v.scalar(`SELECT string_agg(edition_isbn || ':' || copies_total || '/' || copies_available || ':' || info::text, ',' ORDER BY edition_isbn)
		FROM collection_items WHERE collection_id = $1`, coll); got != isbn13(1)+":2/2:{},9780747532699:6/6:{}" {
		t.Errorf("items %v", got)
	}
	// No valid ISBN: 422, and the reset is rolled back with it.
	rec = c.v.do(http.MethodPut, "/v1/collection/"+coll.String()+"/items", admin, []any{map[string]any{"edition_isbn": "bad"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if n := c.v.scalar(`SELECT count(*) FROM collection_items WHERE collection_id = $1`, coll).(int64); n != 2 {
		t.Errorf("a failed set left %d items", n)
	}
	// An empty list empties the collection.
	rec = c.v.do(http.MethodPut, "/v1/collection/"+coll.String()+"/items", admin, []any{})
	wantStatus(t, rec, http.StatusOK)
	if n := c.v.scalar(`SELECT count(*) FROM events WHERE title = 'Collection Reset'`).(int64); n != 2 {
		t.Errorf("reset events %d", n)
	}
}

func TestCollectionItemsListing(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	coll := c.v.collection(&c.a, nil, "A books")
	titles := []string{"Cats at sea", "Dogs in space", "Cats in hats"}
	ids := make([]int64, len(titles))
	for i, title := range titles {
		isbn := isbn13(10 + i)
		ids[i] = c.v.item(coll, isbn, 1, 1, `{}`)
		c.v.exec(`UPDATE editions SET edition_title = $2, title = $2 WHERE isbn = $1`, isbn, title)
	}
	c.v.item(coll, isbn13(20), 1, 1, `{}`) // no title: last
	student := c.ids["student A"]
	// Two activity rows on one item by the same reader: still one row (the defect fixed).
	c.v.exec(`INSERT INTO collection_item_activity_log (collection_item_id, reader_id, status, "timestamp")
		VALUES ($1, $2, 'READING', now() - interval '1 day'), ($1, $2, 'READ', now()), ($3, $2, 'TO_READ', now())`,
		ids[0], student, ids[1])
	admin := c.tokens["schooladmin A"]
	base := "/v1/collection/" + coll.String() + "/items"
	type page struct {
		Data []struct {
			ID      int64          `json:"id"`
			Edition map[string]any `json:"edition"`
		} `json:"data"`
		Pagination struct {
			Total int64 `json:"total"`
			Page  int   `json:"page"`
		} `json:"pagination"`
	}
	get := func(q string) page {
		rec := c.v.do(http.MethodGet, base+q, admin, nil)
		wantStatus(t, rec, http.StatusOK)
		return decode[page](t, rec)
	}
	p := get("")
	if p.Pagination.Total != 4 || len(p.Data) != 4 || p.Data[0].Edition["title"] != "Cats at sea" || p.Data[3].Edition["title"] != nil {
		t.Errorf("all: %+v", p)
	}
	if p = get("?skip=1&limit=2"); p.Pagination.Total != 4 || len(p.Data) != 2 || p.Data[0].Edition["title"] != "Cats in hats" || p.Pagination.Page != 1 {
		t.Errorf("page: %+v", p)
	}
	if p = get("?query=cats"); p.Pagination.Total != 2 {
		t.Errorf("query: %+v", p)
	}
	if p = get("?reader_id=" + student.String()); p.Pagination.Total != 2 || len(p.Data) != 2 {
		t.Errorf("reader: %+v", p)
	}
	if p = get("?reader_id=" + student.String() + "&read_status=READ"); p.Pagination.Total != 1 || p.Data[0].ID != ids[0] {
		t.Errorf("reader + status: %+v", p)
	}
	if p = get("?read_status=READING"); p.Pagination.Total != 0 { // not the latest status
		t.Errorf("status: %+v", p)
	}
	wantStatus(t, c.v.do(http.MethodGet, base+"?read_status=nope", admin, nil), http.StatusUnprocessableEntity)
	wantStatus(t, c.v.do(http.MethodGet, base+"?reader_id=nope", admin, nil), http.StatusUnprocessableEntity)

	// Info counters and item by ISBN.
	rec := c.v.do(http.MethodGet, "/v1/collection/"+coll.String()+"/info", admin, nil)
	wantStatus(t, rec, http.StatusOK)
	if got := decode[map[string]int](t, rec); got["total_editions"] != 0 || got["hydrated"] != 0 {
		t.Errorf("info %v (bare editions have no work)", got)
	}
	rec = c.v.do(http.MethodGet, "/v1/collection/"+coll.String()+"/"+isbn13(10), admin, nil)
	wantStatus(t, rec, http.StatusOK)
	if got := decode[map[string]any](t, rec); got["id"] != float64(ids[0]) {
		t.Errorf("by isbn %v", got)
	}
	wantStatus(t, c.v.do(http.MethodGet, "/v1/collection/"+coll.String()+"/not-an-isbn", admin, nil), http.StatusUnprocessableEntity)
	wantStatus(t, c.v.do(http.MethodGet, "/v1/collection/"+coll.String()+"/"+isbn13(555), admin, nil), http.StatusNotFound)
	c.v.exec(`INSERT INTO editions (isbn) VALUES ($1)`, isbn13(556))
	rec = c.v.do(http.MethodGet, "/v1/collection/"+coll.String()+"/"+isbn13(556), admin, nil)
	wantStatus(t, rec, http.StatusNotFound)
	if got := decode[map[string]any](t, rec); got["detail"] != fmt.Sprintf("Collection %s does not contain edition %s", coll, isbn13(556)) {
		t.Errorf("404 %v", got)
	}
}
