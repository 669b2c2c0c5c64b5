package api_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/google/uuid"
)

func TestCollectionItemReadScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	c.v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, c.ids["parent"], c.ids["public reader"])
	// A school item: admins and the school's staff (F5: the integer school id).
	school := c.v.item(c.v.collection(&c.a, nil, "A books"), isbn13(21), 2, 1, `{"shelf": "B3"}`)
	c.run(t, http.MethodGet, func() string { return "/v1/collection-item/" + strconv.FormatInt(school, 10) }, nil,
		statuses(http.StatusForbidden, map[string]int{
			"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "educator A": 200,
		}))
	// A user item: the owner and the owner's parents.
	own := c.v.item(c.v.collection(nil, ptr(c.ids["public reader"]), "Mine"), isbn13(22), 1, 1, `{}`)
	c.run(t, http.MethodGet, func() string { return "/v1/collection-item/" + strconv.FormatInt(own, 10) }, nil,
		statuses(http.StatusForbidden, map[string]int{
			"anonymous": 401, "admin": 200, "backend": 200, "public reader": 200, "parent": 200,
		}))
	// The body is CollectionItemDetail.
	rec := c.v.do(http.MethodGet, "/v1/collection-item/"+strconv.FormatInt(school, 10), c.tokens["educator A"], nil)
	wantStatus(t, rec, http.StatusOK)
	got := decode[map[string]any](t, rec)
	if got["id"] != float64(school) || got["copies_total"] != 2.0 || got["copies_available"] != 1.0 {
		t.Errorf("item %v", got)
	}
	if ed, _ := got["edition"].(map[string]any); ed == nil || ed["isbn"] != isbn13(21) {
		t.Errorf("edition %v", got["edition"])
	}
	if info, _ := got["info"].(map[string]any); info["shelf"] != "B3" {
		t.Errorf("info %v", got["info"])
	}
	// Missing: 404 for everyone signed in, with the original's message; out of int4 too.
	missing := map[string]int{"anonymous": 401}
	c.run(t, http.MethodGet, func() string { return "/v1/collection-item/2000000000" }, nil, statuses(http.StatusNotFound, missing))
	rec = c.v.do(http.MethodGet, "/v1/collection-item/2000000000", c.tokens["admin"], nil)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Collection Item with id 2000000000 not found." {
		t.Errorf("404 detail %v", d)
	}
	rec = c.v.do(http.MethodGet, "/v1/collection-item/99999999999", c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusNotFound)
	// Not an integer: 422.
	rec = c.v.do(http.MethodGet, "/v1/collection-item/abc", c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
}

func TestCollectionItemActivityScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	reader := c.ids["public reader"]
	c.v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, c.ids["parent"], reader)
	// A user item: admins and the collection's owner log; the owner's parent only reads (access.md §8).
	own := c.v.item(c.v.collection(nil, ptr(reader), "Mine"), isbn13(31), 1, 1, `{}`)
	body := map[string]any{"collection_item_id": own, "reader_id": reader.String(), "status": "READING"}
	c.run(t, http.MethodPost, func() string { return "/v1/collection-item-activity" }, body,
		statuses(http.StatusForbidden, map[string]int{
			"anonymous": 401, "admin": 200, "backend": 200, "public reader": 200,
		}))
	if n := c.v.scalar(`SELECT count(*) FROM collection_item_activity_log WHERE collection_item_id = $1 AND reader_id = $2
		AND status = 'READING'`, own, reader).(int64); n != 3 {
		t.Errorf("activity rows %d, want 3", n)
	}
	// A school item: the item ACL gives staff read only and students nothing, so only admins log (F5).
	student := c.ids["student A"]
	school := c.v.item(c.v.collection(&c.a, nil, "A books"), isbn13(32), 1, 1, `{}`)
	c.run(t, http.MethodPost, func() string { return "/v1/collection-item-activity" },
		map[string]any{"collection_item_id": school, "reader_id": student.String(), "status": "READ"},
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200}))

	// The response is CollectionItemActivityBrief; the event names the reader.
	rec := c.v.do(http.MethodPost, "/v1/collection-item-activity", c.tokens["public reader"],
		map[string]any{"collection_item_id": own, "reader_id": reader.String(), "status": "TO_READ"})
	wantStatus(t, rec, http.StatusOK)
	got := decode[map[string]any](t, rec)
	if got["collection_item_id"] != float64(own) || got["reader_id"] != reader.String() || got["status"] != "TO_READ" || got["timestamp"] == nil {
		t.Errorf("activity %v", got)
	}
	if d := c.v.scalar(`SELECT info->>'description' FROM events WHERE title = 'Collection item activity created'
		AND user_id = $1 ORDER BY timestamp DESC LIMIT 1`, reader); d != "Collection item activity 'CollectionItemReadStatus.TO_READ' created for collection item "+strconv.FormatInt(own, 10) {
		t.Errorf("event description %v", d)
	}

	post := func(who string, body map[string]any) *httptest.ResponseRecorder {
		return c.v.do(http.MethodPost, "/v1/collection-item-activity", c.tokens[who], body)
	}
	// 404: unknown reader (the original's message), unknown item.
	rec = post("admin", map[string]any{"collection_item_id": own, "reader_id": "9a1f3e0c-0000-4000-8000-000000000000", "status": "READ"})
	wantStatus(t, rec, http.StatusNotFound)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Resource User with id 9a1f3e0c-0000-4000-8000-000000000000 not found." {
		t.Errorf("404 detail %v", d)
	}
	rec = post("admin", map[string]any{"collection_item_id": 2000000000, "reader_id": reader.String(), "status": "READ"})
	wantStatus(t, rec, http.StatusNotFound)
	// 422: missing or invalid fields; a reader that is not a reader (the original's 500).
	for _, b := range []map[string]any{
		{"reader_id": reader.String(), "status": "READ"},
		{"collection_item_id": own, "reader_id": "nope", "status": "READ"},
		{"collection_item_id": own, "reader_id": reader.String(), "status": "SKIMMED"},
		{"collection_item_id": own, "reader_id": c.ids["educator A"].String(), "status": "READ"},
	} {
		if rec := post("admin", b); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d, want 422: %s", b, rec.Code, rec.Body)
		}
	}
}

func TestCollectionItemAddScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	reader, student := c.ids["public reader"], c.ids["student A"]
	c.v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, c.ids["parent"], reader)
	school := c.v.collection(&c.a, nil, "A books")
	own := c.v.collection(nil, ptr(reader), "Mine")
	n := 100
	fresh := func() string { n++; return isbn13(n) }
	path := func(id string) func(string) string {
		return func(string) string { return "/v1/collection/" + id + "/item" }
	}
	// No reader: whoever may update the collection.
	c.runEach(t, http.MethodPost, path(school.String()), func(string) any { return map[string]any{"edition_isbn": fresh()} },
		statuses(http.StatusForbidden, map[string]int{
			"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "lms linked A": 200,
		}))
	// A user collection with its owner as reader: the owner and its parent.
	c.runEach(t, http.MethodPost, path(own.String()), func(string) any {
		return map[string]any{"edition_isbn": fresh(), "reader_id": reader.String(), "read_status": "READ"}
	}, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "public reader": 200, "parent": 200,
	}))
	if got := c.v.scalar(`SELECT count(*) FROM collection_item_activity_log x JOIN collection_items i ON i.id = x.collection_item_id
		WHERE i.collection_id = $1 AND x.reader_id = $2 AND x.status = 'READ'`, own, reader).(int64); got != 4 {
		t.Errorf("activity rows %d, want 4", got)
	}
	// A school collection with a student of the school as reader (read through school:<integer id>, F5);
	// the linked LMS account may not update the student (403 with the reader message). Items without
	// ISBN, so one body serves every caller.
	c.run(t, http.MethodPost, fixed("/v1/collection/"+school.String()+"/item"),
		map[string]any{"info": map[string]any{"title": "Shelf"}, "reader_id": student.String(), "read_status": "READING"},
		statuses(http.StatusForbidden, map[string]int{
			"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "lms linked A": 403,
		}))
	if got := c.v.scalar(`SELECT count(*) FROM collection_item_activity_log WHERE reader_id = $1 AND status = 'READING'`, student).(int64); got != 3 {
		t.Errorf("student activity rows %d, want 3", got)
	}

	post := func(who string, coll uuid.UUID, body map[string]any) *httptest.ResponseRecorder {
		return c.v.do(http.MethodPost, "/v1/collection/"+coll.String()+"/item", c.tokens[who], body)
	}
	detail := func(rec *httptest.ResponseRecorder) any { return decode[map[string]any](t, rec)["detail"] }
	// The response is the new item (CollectionItemDetail), copies defaulting to 1.
	rec := post("schooladmin A", school, map[string]any{"edition_isbn": "0-7475-3269-9", "copies_total": 0, "info": map[string]any{"shelf": "C"}})
	wantStatus(t, rec, http.StatusOK)
	got := decode[map[string]any](t, rec)
	if ed, _ := got["edition"].(map[string]any); ed == nil || ed["isbn"] != "9780747532699" || got["copies_total"] != 1.0 || got["copies_available"] != 1.0 {
		t.Errorf("item %v", got)
	}
	// 409 on a duplicate ISBN.
	rec = post("schooladmin A", school, map[string]any{"edition_isbn": "9780747532699"})
	wantStatus(t, rec, http.StatusConflict)
	if d := detail(rec); d != "ISBN 9780747532699 already in collection" {
		t.Errorf("409 detail %v", d)
	}
	// An item without ISBN in a school collection: the new item, and the warning event.
	rec = post("schooladmin A", school, map[string]any{"info": map[string]any{"title": "Zine"}})
	wantStatus(t, rec, http.StatusOK)
	if got := decode[map[string]any](t, rec); got["edition"] != nil || got["info"].(map[string]any)["title"] != "Zine" {
		t.Errorf("bare item %v", got)
	}
	if n := c.v.scalar(`SELECT count(*) FROM events WHERE title = 'Unknown Book added to Collection' AND info->>'title' = 'Zine'`).(int64); n != 1 {
		t.Errorf("unknown book events %d, want 1", n)
	}
	// Reader errors.
	rec = post("schooladmin A", school, map[string]any{"edition_isbn": fresh(), "reader_id": reader.String(), "read_status": "READ"})
	wantStatus(t, rec, http.StatusForbidden)
	if d := detail(rec); d != "The current account is not allowed to perform an operation associated with that reader" {
		t.Errorf("403 detail %v", d)
	}
	rec = post("admin", school, map[string]any{"edition_isbn": fresh(), "reader_id": reader.String(), "read_status": "READ"})
	wantStatus(t, rec, http.StatusForbidden)
	if d := detail(rec); d != "The specified reader is not allowed to read that collection" {
		t.Errorf("403 detail %v", d)
	}
	rec = post("admin", school, map[string]any{"edition_isbn": fresh(), "reader_id": uuid.NewString(), "read_status": "READ"})
	wantStatus(t, rec, http.StatusNotFound)
	for _, b := range []map[string]any{
		{"edition_isbn": fresh(), "read_status": "READ"},
		{"edition_isbn": fresh(), "reader_id": student.String()},
	} {
		rec = post("admin", school, b)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if d, _ := detail(rec).([]any); len(d) != 1 || d[0].(map[string]any)["msg"] != "Value error, Must provide reader_id when providing read_status, and vice versa" {
			t.Errorf("422 detail %s", rec.Body)
		}
	}
	for _, b := range []map[string]any{
		{"edition_isbn": "not an isbn"},
		{"edition_isbn": fresh(), "copies_total": -1},
		{"edition_isbn": fresh(), "reader_id": student.String(), "read_status": "SKIMMED"},
	} {
		if rec := post("admin", school, b); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d, want 422: %s", b, rec.Code, rec.Body)
		}
	}
	// Unknown collection: 404.
	rec = post("admin", uuid.New(), map[string]any{"edition_isbn": fresh()})
	wantStatus(t, rec, http.StatusNotFound)
	// GET …/item is still the by-ISBN read (an invalid ISBN: 422).
	rec = c.v.do(http.MethodGet, "/v1/collection/"+school.String()+"/item", c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
}

func TestCollectionCompareWithBooklistScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	w1, w2, w3 := c.v.work("First"), c.v.work("Second"), c.v.work("Third")
	c.v.edition(isbn13(51), w1, nil)
	c.v.edition(isbn13(52), w1, nil)
	c.v.edition(isbn13(53), w3, nil)
	coll := c.v.collection(&c.a, nil, "A books")
	c.v.item(coll, isbn13(52), 1, 1, `{}`)
	c.v.item(coll, isbn13(51), 1, 1, `{}`)
	c.v.item(coll, isbn13(59), 1, 1, `{}`) // a bare edition: no work
	reader := c.ids["public reader"]
	huey := blList(t, c.v, "Huey summer", "HUEY", "PUBLIC", nil, nil, blPtr("summer"), w1, w2, w3)
	personal := blList(t, c.v, "Reader's", "PERSONAL", "PRIVATE", &reader, nil, nil, w1)
	path := func(coll, list uuid.UUID) func() string {
		return fixed("/v1/collection/" + coll.String() + "/compare-with-booklist/" + list.String())
	}
	// read on the collection and on the list.
	c.run(t, http.MethodGet, path(coll, huey), nil, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "lms linked A": 200, "school sa A": 200,
	}))
	c.run(t, http.MethodGet, path(coll, personal), nil, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200,
	}))
	// The rows: the list's works in order, with the collection's ISBNs of each; total = book_count.
	rec := c.v.do(http.MethodGet, path(coll, huey)(), c.tokens["schooladmin A"], nil)
	wantStatus(t, rec, http.StatusOK)
	got := decode[struct {
		Data []struct {
			InCollection bool           `json:"in_collection"`
			WorkID       string         `json:"work_id"`
			WorkBrief    map[string]any `json:"work_brief"`
			Editions     []string       `json:"editions_in_collection"`
		} `json:"data"`
		Pagination map[string]any `json:"pagination"`
	}](t, rec)
	if len(got.Data) != 3 || got.Pagination["total"] != 3.0 {
		t.Fatalf("compare %s", rec.Body)
	}
	first, second, third := got.Data[0], got.Data[1], got.Data[2]
	if !first.InCollection || first.WorkID != strconv.FormatInt(w1, 10) || first.WorkBrief["title"] != "First" ||
		len(first.Editions) != 2 || first.Editions[0] != isbn13(51) || first.Editions[1] != isbn13(52) {
		t.Errorf("first row %+v", first)
	}
	if second.InCollection || len(second.Editions) != 0 || second.WorkID != strconv.FormatInt(w2, 10) {
		t.Errorf("second row %+v", second)
	}
	if third.InCollection || third.WorkID != strconv.FormatInt(w3, 10) {
		t.Errorf("third row %+v", third)
	}
	// skip and limit page the list.
	rec = c.v.do(http.MethodGet, path(coll, huey)()+"?skip=1&limit=1", c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusOK)
	if d := decode[map[string]any](t, rec); len(d["data"].([]any)) != 1 ||
		d["data"].([]any)[0].(map[string]any)["work_id"] != strconv.FormatInt(w2, 10) || d["pagination"].(map[string]any)["total"] != 3.0 {
		t.Errorf("page %s", rec.Body)
	}
	if info := c.v.scalar(`SELECT info->>'items_in_common' FROM events WHERE title = 'Compared booklist and collection'
		AND user_id = $1`, c.ids["schooladmin A"]); info != "1" {
		t.Errorf("event items_in_common %v", info)
	}
	// 404 either; 422 for a malformed id.
	signedIn := map[string]int{"anonymous": 401}
	c.run(t, http.MethodGet, path(uuid.New(), huey), nil, statuses(http.StatusNotFound, signedIn))
	rec = c.v.do(http.MethodGet, path(coll, uuid.New())(), c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusNotFound)
	rec = c.v.do(http.MethodGet, "/v1/collection/"+coll.String()+"/compare-with-booklist/nope", c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
}
