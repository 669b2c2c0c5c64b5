package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// Booklists (api.md §2.12): scenario tables over every caller, and behaviour.

// blWork creates a work with an author and an edition; returns its id.
func blWork(t *testing.T, v *env, title string) int64 {
	t.Helper()
	var id int64
	if err := v.super.QueryRow(context.Background(),
		`INSERT INTO works (type, title) VALUES ('BOOK', $1) RETURNING id`, title).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var author int64
	if err := v.super.QueryRow(context.Background(),
		`INSERT INTO authors (first_name, last_name) VALUES ('Ann', $1) RETURNING id`, title+" Author").Scan(&author); err != nil {
		t.Fatal(err)
	}
	v.exec(`INSERT INTO author_work_association (work_id, author_id) VALUES ($1, $2)`, id, author)
	v.exec(`INSERT INTO editions (work_id, isbn, edition_title, cover_url) VALUES ($1, $2, $3, 'https://example.org/c.jpg')`,
		id, fmt.Sprintf("978%010d", id), title)
	return id
}

// blList creates a list as a superuser, with works in order.
func blList(t *testing.T, v *env, name, typ, sharing string, user *uuid.UUID, school *int64, slug *string, works ...int64) uuid.UUID {
	t.Helper()
	id := uuid.New()
	v.exec(`INSERT INTO book_lists (id, name, type, sharing, user_id, school_id, slug) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, name, typ, sharing, user, school, slug)
	for i, w := range works {
		v.exec(`INSERT INTO book_list_works (booklist_id, work_id, order_id) VALUES ($1, $2, $3)`, id, w, i)
	}
	return id
}

func blPtr[T any](v T) *T { return &v }

// blOrder is the list's work ids by order_id.
func blOrder(t *testing.T, v *env, list uuid.UUID) []int64 {
	t.Helper()
	rows, err := v.super.Query(context.Background(),
		`SELECT work_id, order_id FROM book_list_works WHERE booklist_id = $1 ORDER BY order_id`, list)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	want := int64(0)
	for rows.Next() {
		var w, o int64
		if err := rows.Scan(&w, &o); err != nil {
			t.Fatal(err)
		}
		if o != want {
			t.Errorf("order_ids not contiguous: work %d at %d, want %d", w, o, want)
		}
		want++
		out = append(out, w)
	}
	return out
}

type blFixture struct {
	*cast
	personal, school, hueyPrivate, hueyPublic uuid.UUID
	w1, w2                                    int64
}

func newBLFixture(t *testing.T) *blFixture {
	t.Helper()
	c := newCast(t)
	f := &blFixture{cast: c}
	f.w1, f.w2 = blWork(t, c.v, "First"), blWork(t, c.v, "Second")
	reader := c.ids["public reader"]
	f.personal = blList(t, c.v, "Reader's", "PERSONAL", "PRIVATE", &reader, nil, nil, f.w1)
	f.school = blList(t, c.v, "School A's", "SCHOOL", "PRIVATE", nil, &c.a.ID, nil, f.w1, f.w2)
	f.hueyPrivate = blList(t, c.v, "Huey draft", "HUEY", "PRIVATE", nil, nil, blPtr("draft"), f.w2)
	f.hueyPublic = blList(t, c.v, "Huey summer", "HUEY", "PUBLIC", nil, nil, blPtr("summer"), f.w1, f.w2)
	return f
}

func TestBooklistReadScenarios(t *testing.T) {
	t.Parallel()
	f := newBLFixture(t)
	path := func(id uuid.UUID) func() string { return func() string { return "/v1/list/" + id.String() } }
	f.run(t, http.MethodGet, path(f.personal), nil, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "public reader": 200}))
	f.run(t, http.MethodGet, path(f.school), nil, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "educator A": 200, "student A": 200,
		"lms linked A": 200, "school sa A": 200}))
	f.run(t, http.MethodGet, path(f.hueyPublic), nil, statuses(http.StatusOK, map[string]int{"anonymous": 401}))
	f.run(t, http.MethodGet, path(uuid.New()), nil, statuses(http.StatusNotFound, map[string]int{"anonymous": 401}))
}

// F19: a private Huey (or Regional) list is not readable by every account.
func TestF19PrivateHueyListNotReadableByEveryone(t *testing.T) {
	t.Parallel()
	f := newBLFixture(t)
	f.run(t, http.MethodGet, func() string { return "/v1/list/" + f.hueyPrivate.String() }, nil,
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200}))
	regional := blList(t, f.v, "Regional", "REGION", "RESTRICTED", nil, nil, nil)
	f.run(t, http.MethodGet, func() string { return "/v1/list/" + regional.String() }, nil,
		statuses(http.StatusOK, map[string]int{"anonymous": 401}))
	// Not listed either.
	got := decode[map[string]any](t, f.v.do(http.MethodGet, "/v1/lists", f.tokens["public reader"], nil))
	for _, d := range got["data"].([]any) {
		if d.(map[string]any)["id"] == f.hueyPrivate.String() {
			t.Errorf("private Huey list listed for a reader")
		}
	}
}

// F14: GET /lists pages what the caller may read and counts only that.
func TestF14BooklistListingCountsOnlyReadable(t *testing.T) {
	t.Parallel()
	f := newBLFixture(t)
	f.run(t, http.MethodGet, func() string { return "/v1/lists?limit=1" }, nil,
		statuses(http.StatusOK, map[string]int{"anonymous": 401}))
	want := map[string]int{"admin": 4, "backend": 4, "public reader": 2, "schooladmin A": 2, "educator A": 2,
		"student A": 2, "lms linked A": 2, "school sa A": 2, "schooladmin B": 1, "educator B": 1, "parent": 1,
		"supporter": 1, "lms unlinked": 1, "kiosk": 1}
	for who, n := range want {
		got := decode[map[string]any](t, f.v.do(http.MethodGet, "/v1/lists?limit=1", f.tokens[who], nil))
		total := got["pagination"].(map[string]any)["total"]
		if total != float64(n) || len(got["data"].([]any)) != 1 {
			t.Errorf("%s: total %v (data %d), want %d", who, total, len(got["data"].([]any)), n)
		}
	}
	got := decode[map[string]any](t, f.v.do(http.MethodGet, "/v1/lists?list_type=Huey&sharing_type=PUBLIC", f.tokens["admin"], nil))
	if data := got["data"].([]any); len(data) != 1 || data[0].(map[string]any)["slug"] != "summer" {
		t.Errorf("filtered lists: %v", got)
	}
	wantStatus(t, f.v.do(http.MethodGet, "/v1/lists?list_type=regional", f.tokens["admin"], nil), 422)
}

func TestBooklistCreateScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	// Personal without user_id: users own it; service accounts must name one.
	c.run(t, http.MethodPost, func() string { return "/v1/list" }, map[string]any{"name": "Mine", "type": "personal"},
		statuses(http.StatusOK, map[string]int{"anonymous": 401, "backend": 422, "lms linked A": 422,
			"lms unlinked": 422, "school sa A": 422, "kiosk": 422}))
	// F3 on create: only admins create Huey, Regional and Other lists.
	for _, typ := range []string{"Huey", "REGION", "Other"} {
		c.run(t, http.MethodPost, func() string { return "/v1/list" }, map[string]any{"name": "Staff pick", "type": typ},
			statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200}))
	}
	// School lists need `update` on the school.
	c.run(t, http.MethodPost, func() string { return "/v1/list" },
		map[string]any{"name": "Class reads", "type": "School", "school_id": c.a.WID.String()},
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200,
			"schooladmin A": 200, "lms linked A": 200, "school sa A": 200}))
	rec := c.v.do(http.MethodPost, "/v1/list", c.tokens["educator A"], map[string]any{"name": "x", "type": "School"})
	wantStatus(t, rec, 403)
	if got := decode[map[string]any](t, rec)["detail"]; got != "Only school admin accounts may create school book lists" {
		t.Errorf("detail %v", got)
	}
	rec = c.v.do(http.MethodPost, "/v1/list", c.tokens["kiosk"], map[string]any{"name": "x", "type": "School"})
	wantStatus(t, rec, 422)
	// Personal lists for another user need `update` on it.
	rec = c.v.do(http.MethodPost, "/v1/list", c.tokens["supporter"],
		map[string]any{"name": "x", "type": "Personal", "user_id": c.ids["public reader"].String()})
	wantStatus(t, rec, 403)
	if got := decode[map[string]any](t, rec)["detail"]; got != "You lack the permission to create book lists for other users" {
		t.Errorf("detail %v", got)
	}
	wantStatus(t, c.v.do(http.MethodPost, "/v1/list", c.tokens["admin"],
		map[string]any{"name": "x", "type": "Personal", "user_id": uuid.NewString()}), 404)
	// The event.
	if n := c.v.scalar(`SELECT count(*) FROM events WHERE title = 'Booklist created'`); n.(int64) < 10 {
		t.Errorf("%v Booklist created events", n)
	}
}

func TestBooklistCreateValidation(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	reader, admin := c.tokens["public reader"], c.tokens["admin"]
	for _, tc := range []struct {
		tok    string
		body   map[string]any
		status int
		detail any
	}{
		{reader, map[string]any{"name": "x", "type": "regional"}, 422, nil},
		{reader, map[string]any{"type": "Personal"}, 422, nil},
		{reader, map[string]any{"name": "x", "type": "Personal", "slug": "s"}, 422, "A slug can only be provided for a Huey list"},
		{admin, map[string]any{"name": "x", "type": "Huey", "sharing": "public"}, 422, "A slug must be provided for a Public Huey list"},
		{reader, map[string]any{"name": "x", "type": "Personal", "items": []any{map[string]any{"work_id": 999999}}}, 422, "Couldn't create booklist"},
		{admin, map[string]any{"name": "x", "type": "Huey", "school_id": "abc"}, 422, "Couldn't create booklist"},
		{admin, map[string]any{"name": "x", "type": "School", "school_id": uuid.NewString()}, 404, nil},
	} {
		rec := c.v.do(http.MethodPost, "/v1/list", tc.tok, tc.body)
		if rec.Code != tc.status {
			t.Errorf("%v: status %d, want %d: %s", tc.body, rec.Code, tc.status, rec.Body)
			continue
		}
		if tc.detail != nil {
			if got := decode[map[string]any](t, rec)["detail"]; got != tc.detail {
				t.Errorf("%v: detail %v, want %v", tc.body, got, tc.detail)
			}
		}
	}
	// Nothing half-written: the refused creations left no list.
	if n := c.v.scalar(`SELECT count(*) FROM book_lists`); n.(int64) != 0 {
		t.Errorf("%v lists after refused creations", n)
	}
}

func TestBooklistCreateShape(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	w1, w2, w3 := blWork(t, c.v, "A"), blWork(t, c.v, "B"), blWork(t, c.v, "C")
	rec := c.v.do(http.MethodPost, "/v1/list", c.tokens["public reader"], map[string]any{
		"name": "Mine", "type": "Personal", "info": map[string]any{"description": "d", "other": "dropped"},
		"items": []any{map[string]any{"work_id": w1}, map[string]any{"work_id": w2},
			map[string]any{"work_id": w3, "order_id": 0}, map[string]any{"work_id": w1}}})
	wantStatus(t, rec, 200)
	got := decode[map[string]any](t, rec)
	if got["type"] != "Personal" || got["sharing"] != "private" || got["book_count"] != float64(3) || got["name"] != "Mine" {
		t.Errorf("brief %v", got)
	}
	info, _ := got["info"].(map[string]any)
	if len(info) != 4 || info["description"] != "d" || info["colour"] != nil {
		t.Errorf("info %v", info)
	}
	if u, _ := got["user"].(map[string]any); u["id"] != c.ids["public reader"].String() {
		t.Errorf("user %v", got["user"])
	}
	id := uuid.MustParse(got["id"].(string))
	if order := blOrder(t, c.v, id); !slices.Equal(order, []int64{w3, w1, w2}) {
		t.Errorf("order %v", order)
	}
	// Detail: items by order, a page, total = book_count; enriched adds the edition.
	d := decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/list/"+id.String()+"?skip=1&limit=1", c.tokens["public reader"], nil))
	data := d["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["work_id"] != float64(w1) ||
		d["pagination"].(map[string]any)["total"] != float64(3) {
		t.Errorf("detail %v", d)
	}
	work := data[0].(map[string]any)["work"].(map[string]any)
	if work["title"] != "A" || work["cover_url"] != nil || len(work["authors"].([]any)) != 1 {
		t.Errorf("work %v", work)
	}
	d = decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/list/"+id.String()+"?enriched=true", c.tokens["public reader"], nil))
	for _, it := range d["data"].([]any) {
		if ed, _ := it.(map[string]any)["edition"].(map[string]any); ed["isbn"] == nil {
			t.Errorf("enriched item without edition: %v", it)
		}
	}
}

// Ordering per domain.md §9.2: add at a position, move up and down, remove.
func TestBooklistOrdering(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	w := []int64{blWork(t, c.v, "W1"), blWork(t, c.v, "W2"), blWork(t, c.v, "W3"), blWork(t, c.v, "W4")}
	owner := c.ids["public reader"]
	list := blList(t, c.v, "Ordered", "PERSONAL", "PRIVATE", &owner, nil, nil, w[0], w[1], w[2])
	tok := c.tokens["public reader"]
	patch := func(items ...map[string]any) {
		t.Helper()
		wantStatus(t, c.v.do(http.MethodPatch, "/v1/list/"+list.String(), tok, map[string]any{"items": items}), 200)
	}
	check := func(want ...int64) {
		t.Helper()
		if got := blOrder(t, c.v, list); !slices.Equal(got, want) {
			t.Errorf("order %v, want %v", got, want)
		}
	}
	patch(map[string]any{"action": "add", "work_id": w[3], "order_id": 1})
	check(w[0], w[3], w[1], w[2])
	patch(map[string]any{"action": "update", "work_id": w[2], "order_id": 0}) // move up
	check(w[2], w[0], w[3], w[1])
	patch(map[string]any{"action": "update", "work_id": w[2], "order_id": 2}) // move down
	check(w[0], w[3], w[2], w[1])
	patch(map[string]any{"action": "remove", "work_id": w[0]}) // remove shifts the rest
	check(w[3], w[2], w[1])
	// Several changes in order in one request; duplicates and missing works ignored.
	patch(map[string]any{"action": "add", "work_id": w[0]},
		map[string]any{"action": "add", "work_id": w[1]},
		map[string]any{"action": "remove", "work_id": 424242},
		map[string]any{"action": "update", "work_id": 424242, "order_id": 0},
		map[string]any{"action": "update", "work_id": w[0], "order_id": 0, "info": map[string]any{"note": "n"}})
	check(w[0], w[3], w[2], w[1])
	patch(map[string]any{"action": "update", "work_id": w[0], "info": map[string]any{"feedback": "GOOD"}})
	info := c.v.scalar(`SELECT info::text FROM book_list_works WHERE booklist_id = $1 AND work_id = $2`, list, w[0])
	if info != `{"feedback":"GOOD","note":"n"}` {
		t.Errorf("merged info %v", info)
	}
	// Reorder everything: reverse.
	patch(map[string]any{"action": "update", "work_id": w[1], "order_id": 0},
		map[string]any{"action": "update", "work_id": w[2], "order_id": 1},
		map[string]any{"action": "update", "work_id": w[3], "order_id": 2})
	check(w[1], w[2], w[3], w[0])
}

func TestBooklistPatchNothingHalfWritten(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	w1 := blWork(t, c.v, "Kept")
	owner := c.ids["public reader"]
	list := blList(t, c.v, "Before", "PERSONAL", "PRIVATE", &owner, nil, nil, w1)
	rec := c.v.do(http.MethodPatch, "/v1/list/"+list.String(), c.tokens["public reader"], map[string]any{
		"name": "After", "items": []any{map[string]any{"action": "remove", "work_id": w1},
			map[string]any{"action": "add", "work_id": 999999}}})
	wantStatus(t, rec, 422)
	if got := decode[map[string]any](t, rec)["detail"]; got != "Booklist update wasn't possible" {
		t.Errorf("detail %v", got)
	}
	if name := c.v.scalar(`SELECT name FROM book_lists WHERE id = $1`, list); name != "Before" {
		t.Errorf("name %v", name)
	}
	if order := blOrder(t, c.v, list); !slices.Equal(order, []int64{w1}) {
		t.Errorf("items %v", order)
	}
	wantStatus(t, c.v.do(http.MethodPatch, "/v1/list/"+list.String(), c.tokens["public reader"],
		map[string]any{"items": []any{map[string]any{"action": "move", "work_id": w1}}}), 422)
	wantStatus(t, c.v.do(http.MethodPatch, "/v1/list/"+uuid.NewString(), c.tokens["admin"], map[string]any{"name": "x"}), 404)
	wantStatus(t, c.v.do(http.MethodPatch, "/v1/list/not-a-uuid", c.tokens["admin"], map[string]any{"name": "x"}), 422)
}

func TestBooklistPatchScenarios(t *testing.T) {
	t.Parallel()
	f := newBLFixture(t)
	f.run(t, http.MethodPatch, func() string { return "/v1/list/" + f.personal.String() }, map[string]any{"name": "Renamed"},
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200, "public reader": 200}))
	f.run(t, http.MethodPatch, func() string { return "/v1/list/" + f.school.String() }, map[string]any{"name": "Renamed"},
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200,
			"schooladmin A": 200, "educator A": 200, "lms linked A": 200, "school sa A": 200}))
	// Only admins change a Huey list.
	f.run(t, http.MethodPatch, func() string { return "/v1/list/" + f.hueyPublic.String() }, map[string]any{"name": "Renamed"},
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200}))
}

// F3: only admins publish; a PATCH cannot turn a list into a public Huey list.
func TestF3OnlyAdminsPublish(t *testing.T) {
	t.Parallel()
	f := newBLFixture(t)
	publish := map[string]any{"type": "Huey", "sharing": "public", "slug": "mine"}
	owner := f.ids["public reader"]
	table := blList(t, f.v, "Table", "PERSONAL", "PRIVATE", &owner, nil, nil)
	// Admins may (the first one publishes it); everyone else is refused.
	f.run(t, http.MethodPatch, func() string { return "/v1/list/" + table.String() }, publish,
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200}))
	wantStatus(t, f.v.do(http.MethodPatch, "/v1/list/"+table.String(), f.tokens["admin"],
		map[string]any{"type": "Personal", "sharing": "private", "slug": nil}), 200)
	rec := f.v.do(http.MethodPatch, "/v1/list/"+f.personal.String(), f.tokens["public reader"], publish)
	if got := decode[map[string]any](t, rec)["detail"]; got != "Only admin users may create that type of book list" {
		t.Errorf("detail %v", got)
	}
	rec = f.v.do(http.MethodPatch, "/v1/list/"+f.school.String(), f.tokens["schooladmin A"], map[string]any{"type": "Regional"})
	wantStatus(t, rec, 403)
	// Publicity is validated on the resulting values (stored values no longer win).
	rec = f.v.do(http.MethodPatch, "/v1/list/"+f.personal.String(), f.tokens["public reader"], map[string]any{"slug": "mine"})
	wantStatus(t, rec, 422)
	if got := decode[map[string]any](t, rec)["detail"]; got != "A slug can only be provided for a Huey list" {
		t.Errorf("detail %v", got)
	}
	rec = f.v.do(http.MethodPatch, "/v1/list/"+f.hueyPrivate.String(), f.tokens["admin"], map[string]any{"slug": nil, "sharing": "public"})
	wantStatus(t, rec, 422)
	wantStatus(t, f.v.do(http.MethodGet, "/v1/public-list/mine", "", nil), 404)
	if typ := f.v.scalar(`SELECT type::text FROM book_lists WHERE id = $1`, f.personal); typ != "PERSONAL" {
		t.Errorf("type %v", typ)
	}
	// Every other caller is refused too (the owner above; the rest cannot update it at all).
	for _, who := range everyCaller {
		if who == "admin" || who == "backend" || who == "anonymous" {
			continue
		}
		wantStatus(t, f.v.do(http.MethodPatch, "/v1/list/"+f.personal.String(), f.tokens[who], publish), 403)
	}
	// An admin publishes.
	wantStatus(t, f.v.do(http.MethodPatch, "/v1/list/"+f.personal.String(), f.tokens["admin"], publish), 200)
	wantStatus(t, f.v.do(http.MethodGet, "/v1/public-list/mine", "", nil), 200)
}

func TestBooklistDeleteScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	want := statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200,
		"schooladmin A": 200, "educator A": 200, "lms linked A": 200, "school sa A": 200})
	for _, who := range everyCaller {
		list := blList(t, c.v, "Doomed", "SCHOOL", "PRIVATE", nil, &c.a.ID, nil)
		rec := c.v.do(http.MethodDelete, "/v1/list/"+list.String(), c.tokens[who], nil)
		if rec.Code != want[who] {
			t.Errorf("DELETE as %s: status %d, want %d: %s", who, rec.Code, want[who], rec.Body)
		}
		gone := c.v.scalar(`SELECT count(*) FROM book_lists WHERE id = $1`, list).(int64) == 0
		if gone != (rec.Code == 200) {
			t.Errorf("DELETE as %s: gone=%v after %d", who, gone, rec.Code)
		}
		if rec.Code == 200 && decode[map[string]any](t, rec)["name"] != "Doomed" {
			t.Errorf("DELETE as %s: body %s", who, rec.Body)
		}
	}
	rec := c.v.do(http.MethodDelete, "/v1/list/"+uuid.New().String(), c.tokens["admin"], nil)
	wantStatus(t, rec, 404)
}

// Public lists are readable without credentials, by slug.
func TestPublicBooklistsWithoutToken(t *testing.T) {
	t.Parallel()
	f := newBLFixture(t)
	odd := blList(t, f.v, "Odd", "PERSONAL", "PUBLIC", nil, nil, blPtr("odd"))
	_ = odd
	f.run(t, http.MethodGet, func() string { return "/v1/public-list/summer" }, nil, statuses(http.StatusOK, nil))
	f.run(t, http.MethodGet, func() string { return "/v1/public-lists" }, nil, statuses(http.StatusOK, nil))

	got := decode[map[string]any](t, f.v.do(http.MethodGet, "/v1/public-list/summer?enriched=true", "", nil))
	data := got["data"].([]any)
	if got["name"] != "Huey summer" || len(data) != 2 || got["pagination"].(map[string]any)["total"] != float64(2) {
		t.Fatalf("public list %v", got)
	}
	first := data[0].(map[string]any)
	if first["work"].(map[string]any)["title"] != "First" || len(first["work"].(map[string]any)["authors"].([]any)) != 1 ||
		first["edition"].(map[string]any)["isbn"] == nil {
		t.Errorf("public item %v", first)
	}
	lists := decode[map[string]any](t, f.v.do(http.MethodGet, "/v1/public-lists", "", nil))
	if lists["pagination"].(map[string]any)["total"] != float64(1) || len(lists["data"].([]any)) != 1 {
		t.Errorf("public lists %v", lists)
	}
	for slug, want := range map[string]struct {
		status int
		detail string
	}{
		"nope":  {404, "Booklist not found"},
		"draft": {404, "Booklist not found"},
		"odd":   {403, "Booklist is not a public Huey booklist"},
	} {
		rec := f.v.do(http.MethodGet, "/v1/public-list/"+slug, "", nil)
		if rec.Code != want.status || decode[map[string]any](t, rec)["detail"] != want.detail {
			t.Errorf("%s: %d %s, want %d %s", slug, rec.Code, rec.Body, want.status, want.detail)
		}
	}
	// Anonymous callers read nothing else: not the private list's works, not other lists.
	wantStatus(t, f.v.do(http.MethodGet, "/v1/list/"+f.hueyPublic.String(), "", nil), 401)
}

func TestBooklistImageDataURIRefused(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	rec := c.v.do(http.MethodPost, "/v1/list", c.tokens["public reader"], map[string]any{
		"name": "x", "type": "Personal", "info": map[string]any{"image_url": "data:image/png;base64,AAAA"}})
	wantStatus(t, rec, 422)
}

// R8 (issue 12; the F3 rule for delete): an admin's Huey, Regional or Other
// list that carries a school's id is not its educators' or linked accounts'
// to delete or change; the admins' it stays.
func TestHardening_R8_SchoolCannotDeleteAdminLists(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	w := blWork(t, c.v, "Kept")
	admin := c.ids["admin"]
	for _, typ := range []string{"HUEY", "REGION", "OTHER_LIST"} {
		list := blList(t, c.v, "Admin's "+typ, typ, "RESTRICTED", &admin, &c.a.ID, nil, w)
		for _, who := range []string{"schooladmin A", "educator A", "lms linked A", "school sa A"} {
			wantStatus(t, c.v.do(http.MethodDelete, "/v1/list/"+list.String(), c.tokens[who], nil), http.StatusForbidden)
			wantStatus(t, c.v.do(http.MethodPatch, "/v1/list/"+list.String(), c.tokens[who],
				map[string]any{"name": "Announcement"}), http.StatusForbidden)
		}
		if n := c.v.scalar(`SELECT count(*) FROM book_lists WHERE id = $1 AND name = $2`, list, "Admin's "+typ).(int64); n != 1 {
			t.Fatalf("%s list changed or deleted by the school", typ)
		}
		if n := c.v.scalar(`SELECT count(*) FROM book_list_works WHERE booklist_id = $1`, list).(int64); n != 1 {
			t.Fatalf("%s list's items changed by the school", typ)
		}
		wantStatus(t, c.v.do(http.MethodDelete, "/v1/list/"+list.String(), c.tokens["admin"], nil), http.StatusOK)
	}
	// the school's own lists stay theirs
	own := blList(t, c.v, "Ours", "SCHOOL", "PRIVATE", nil, &c.a.ID, nil, w)
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/list/"+own.String(), c.tokens["educator A"], nil), http.StatusOK)
}
