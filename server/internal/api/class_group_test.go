package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// Classes (api.md §2.6) over every caller of the cast: school A is the
// subject (student A sits in its class "Class of student A"), school B
// another school.

// classHidden is the answer for an existing class the caller may not read:
// 403 (DECISIONS §4), the policy deciding on the attributes huey.class_attrs reads.
const classHidden = http.StatusForbidden

var joinCodeRE = regexp.MustCompile(`^[2346789BCDFGHJKMPQRTVWXY]{6}$`)

// classOf returns the class a student sits in.
func (c *cast) classOf(t *testing.T, student string) uuid.UUID {
	t.Helper()
	return classOfStudent(t, c.v, c.ids[student])
}

func classOfStudent(t *testing.T, v *env, student uuid.UUID) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := v.super.QueryRow(t.Context(), `SELECT class_group_id FROM students WHERE id = $1`, student).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// addClassStudent puts a new student of sch in class; it returns its id.
func (c *cast) addClassStudent(sch school, class uuid.UUID, first string) uuid.UUID {
	c.v.t.Helper()
	id := uuid.New()
	c.v.exec(`INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
		VALUES ($1, true, $2, $3, '{}', now(), now(), 'STUDENT')`, id, strings.ToLower(first)+"@example.org", first+" K")
	c.v.exec(`INSERT INTO readers (id, huey_attributes, first_name, last_name_initial) VALUES ($1, '{}', $2, 'K')`, id, first)
	c.v.exec(`INSERT INTO students (id, school_id, student_info, class_group_id, username) VALUES ($1, $2, '{}', $3, $4)`,
		id, sch.ID, class, first+"K11")
	return id
}

func classPath(id uuid.UUID) string { return "/v1/class/" + id.String() }

func classesOf(sch school) string { return "/v1/classes?school_id=" + sch.WID.String() }

// classNames lists the names of a page of ClassGroupBrief.
func classNames(t *testing.T, page map[string]any) []string {
	t.Helper()
	var out []string
	for _, r := range page["data"].([]any) {
		out = append(out, r.(map[string]any)["name"].(string))
	}
	return out
}

func TestF5ClassListScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	c.v.class(c.b, "B class")
	// With a school: the route ACL (admins, educators, students), then read
	// on the school (F6: its educators and students read it).
	c.run(t, http.MethodGet, func() string { return classesOf(c.a) }, nil, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "educator A": 200, "student A": 200,
	}))
	// Without one: admins only; the others allowed by the route ACL get the
	// original's message.
	c.run(t, http.MethodGet, func() string { return "/v1/classes" }, nil, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200,
	}))
	detail := func(who, path string) string {
		rec := c.v.do(http.MethodGet, path, c.tokens[who], nil)
		wantStatus(t, rec, http.StatusForbidden)
		d, _ := decode[map[string]any](t, rec)["detail"].(string)
		return d
	}
	for _, who := range []string{"schooladmin A", "educator A", "student A"} {
		if d := detail(who, "/v1/classes"); d != "The current account is not allowed to request all classes. Try filtering by your school." {
			t.Errorf("%s without school_id: %q", who, d)
		}
	}
	for _, who := range []string{"schooladmin B", "educator B"} {
		if d := detail(who, classesOf(c.a)); d != "The current account is not allowed to view classes associated with that school" {
			t.Errorf("%s on school A: %q", who, d)
		}
	}
	if d := detail("lms linked A", classesOf(c.a)); d != "Insufficient permissions" {
		t.Errorf("route ACL refusal: %q", d)
	}

	// Which rows: each school's own classes (F5), with student_count.
	list := func(who, path string) map[string]any {
		rec := c.v.do(http.MethodGet, path, c.tokens[who], nil)
		wantStatus(t, rec, http.StatusOK)
		return decode[map[string]any](t, rec)
	}
	for _, who := range []string{"admin", "schooladmin A", "educator A", "student A"} {
		page := list(who, classesOf(c.a))
		if got := classNames(t, page); !slices.Equal(got, []string{"Class of student A"}) {
			t.Errorf("%s, school A: %v", who, got)
		}
		row := page["data"].([]any)[0].(map[string]any)
		if row["school_id"] != c.a.WID.String() || row["id"] != c.classOf(t, "student A").String() {
			t.Errorf("%s: row %v", who, row)
		}
		if who != "student A" && row["student_count"] != 1.0 {
			t.Errorf("%s: student_count %v", who, row["student_count"])
		}
		for _, k := range []string{"id", "school_id", "name", "student_count", "updated_at"} {
			if _, ok := row[k]; !ok {
				t.Errorf("ClassGroupBrief lacks %q", k)
			}
		}
		pg := page["pagination"].(map[string]any)
		if pg["skip"] != 0.0 || pg["limit"] != 100.0 || pg["page"] != 1.0 || pg["total"] != nil {
			t.Errorf("pagination %v", pg)
		}
	}
	for _, who := range []string{"schooladmin B", "educator B", "admin"} {
		if got := classNames(t, list(who, classesOf(c.b))); !slices.Equal(got, []string{"B class"}) {
			t.Errorf("%s, school B: %v", who, got)
		}
	}
	if got := classNames(t, list("admin", "/v1/classes")); !slices.Equal(got, []string{"B class", "Class of student A"}) {
		t.Errorf("admin, every school: %v", got)
	}
	// query: a case-insensitive substring of the name, with LIKE characters literal.
	if got := classNames(t, list("educator A", classesOf(c.a)+"&query=CLASS%20OF")); len(got) != 1 {
		t.Errorf("query: %v", got)
	}
	for _, q := range []string{"nothing", "%25", "_"} {
		if got := classNames(t, list("educator A", classesOf(c.a)+"&query="+q)); len(got) != 0 {
			t.Errorf("query %q: %v", q, got)
		}
	}
	// Unknown school 404 (before the school decision); bad input 422.
	for _, who := range []string{"admin", "educator A"} {
		rec := c.v.do(http.MethodGet, "/v1/classes?school_id="+uuid.NewString(), c.tokens[who], nil)
		wantStatus(t, rec, http.StatusNotFound)
	}
	for _, q := range []string{"?school_id=nope", "?school_id=" + c.a.WID.String() + "&limit=x", "?skip=-1"} {
		wantStatus(t, c.v.do(http.MethodGet, "/v1/classes"+q, c.tokens["admin"], nil), http.StatusUnprocessableEntity)
	}
}

// F14: permission filtering happens before skip/limit, so every page is
// full of rows the caller may read and the pages add up to what it may read.
func TestF14ClassListPagesAfterFiltering(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	for i := range 7 {
		c.v.class(c.a, fmt.Sprintf("A-%02d", i))
	}
	for i := range 6 {
		c.v.class(c.b, fmt.Sprintf("B-%02d", i))
	}
	walk := func(who, base string, limit int) (sizes []int, names []string) {
		t.Helper()
		for skip := 0; ; skip += limit {
			rec := c.v.do(http.MethodGet, fmt.Sprintf("%s%sskip=%d&limit=%d", base, sep(base), skip, limit), c.tokens[who], nil)
			wantStatus(t, rec, http.StatusOK)
			page := decode[map[string]any](t, rec)
			if p := page["pagination"].(map[string]any)["page"]; p != float64(skip/limit+1) {
				t.Errorf("%s skip %d: page %v", who, skip, p)
			}
			got := classNames(t, page)
			if len(got) == 0 {
				return sizes, names
			}
			sizes, names = append(sizes, len(got)), append(names, got...)
		}
	}
	for _, tc := range []struct {
		who, base string
		limit     int
		sizes     []int
		prefix    string // every name starts with it, or is student A's class
	}{
		{"educator A", classesOf(c.a), 3, []int{3, 3, 2}, "A-"},
		{"schooladmin A", classesOf(c.a), 5, []int{5, 3}, "A-"},
		{"student A", classesOf(c.a), 3, []int{3, 3, 2}, "A-"},
		{"educator B", classesOf(c.b), 4, []int{4, 2}, "B-"},
		{"admin", "/v1/classes", 5, []int{5, 5, 4}, ""},
	} {
		sizes, names := walk(tc.who, tc.base, tc.limit)
		if !slices.Equal(sizes, tc.sizes) {
			t.Errorf("%s: page sizes %v, want %v", tc.who, sizes, tc.sizes)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				t.Errorf("%s: %q on two pages", tc.who, n)
			}
			seen[n] = true
			if !strings.HasPrefix(n, tc.prefix) && n != "Class of student A" {
				t.Errorf("%s sees %q", tc.who, n)
			}
		}
	}
	// School B's staff see nothing of school A, page or not.
	for _, who := range []string{"educator B", "schooladmin B"} {
		wantStatus(t, c.v.do(http.MethodGet, classesOf(c.a)+"&limit=1", c.tokens[who], nil), http.StatusForbidden)
	}
	// limit=0 answers an empty page 1.
	rec := c.v.do(http.MethodGet, classesOf(c.a)+"&limit=0", c.tokens["educator A"], nil)
	wantStatus(t, rec, http.StatusOK)
	if page := decode[map[string]any](t, rec); len(page["data"].([]any)) != 0 || page["pagination"].(map[string]any)["page"] != 1.0 {
		t.Errorf("limit 0: %v", page)
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

func TestF5ClassCreateScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	want := statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200,
	})
	for i, who := range everyCaller {
		rec := c.v.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", c.tokens[who],
			map[string]any{"name": fmt.Sprintf("New %d", i)})
		if rec.Code != want[who] {
			t.Errorf("POST class as %s: %d, want %d: %s", who, rec.Code, want[who], rec.Body)
		}
	}
	if n := c.v.scalar(`SELECT count(*) FROM class_groups WHERE school_id = $1 AND name LIKE 'New %'`, c.a.WID).(int64); n != 3 {
		t.Errorf("%d classes created, want 3", n)
	}
	if n := c.v.scalar(`SELECT count(*) FROM events WHERE title = 'New class created' AND school_id = $1`, c.a.ID).(int64); n != 3 {
		t.Errorf("%d 'New class created' events, want 3", n)
	}
	// School B's admin cannot add classes to school A, but can to its own.
	wantStatus(t, c.v.do(http.MethodPost, "/v1/school/"+c.b.WID.String()+"/class", c.tokens["schooladmin B"],
		map[string]any{"name": "Mine"}), http.StatusOK)
	wantStatus(t, c.v.do(http.MethodPost, "/v1/school/"+uuid.NewString()+"/class", c.tokens["admin"],
		map[string]any{"name": "Nowhere"}), http.StatusNotFound)
	wantStatus(t, c.v.do(http.MethodPost, "/v1/school/nope/class", c.tokens["admin"],
		map[string]any{"name": "Nowhere"}), http.StatusUnprocessableEntity)
}

func TestClassCreate(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	post := func(who string, body any) map[string]any {
		t.Helper()
		rec := c.v.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", c.tokens[who], body)
		wantStatus(t, rec, http.StatusOK)
		return decode[map[string]any](t, rec)
	}
	got := post("schooladmin A", map[string]any{"name": "Room 7"})
	if got["name"] != "Room 7" || got["school_id"] != c.a.WID.String() || got["student_count"] != 0.0 ||
		got["note"] != nil || !joinCodeRE.MatchString(fmt.Sprint(got["join_code"])) {
		t.Errorf("created %v", got)
	}
	for _, k := range []string{"id", "school_id", "name", "student_count", "updated_at", "join_code", "note"} {
		if _, ok := got[k]; !ok {
			t.Errorf("ClassGroupBriefWithJoiningCode lacks %q", k)
		}
	}
	if code := c.v.scalar(`SELECT join_code FROM class_groups WHERE id = $1`, uuid.MustParse(got["id"].(string))); code != got["join_code"] {
		t.Errorf("stored code %v, answered %v", code, got["join_code"])
	}
	if d := c.v.scalar(`SELECT info ->> 'description' FROM events WHERE title = 'New class created' AND school_id = $1`, c.a.ID); d != "schooladmin A created class 'Room 7'" {
		t.Errorf("event description %v", d)
	}
	// The code lets students register into the class (api.md §2.2).
	rec := c.v.do(http.MethodPost, "/v1/auth/register-student", "", map[string]any{"first_name": "Rua", "last_name_initial": "T",
		"school_id": c.a.WID.String(), "class_joining_code": got["join_code"]})
	wantStatus(t, rec, http.StatusOK)
	if n := c.v.scalar(`SELECT count(*) FROM students WHERE class_group_id = $1`, uuid.MustParse(got["id"].(string))).(int64); n != 1 {
		t.Errorf("%d students registered into the new class", n)
	}
	// The path's school wins over a body school_id (api.md §2.6 defect fixed).
	got = post("admin", map[string]any{"name": "Room 8", "school_id": c.b.WID.String()})
	if got["school_id"] != c.a.WID.String() {
		t.Errorf("created in %v, want the path's school", got["school_id"])
	}
	if n := c.v.scalar(`SELECT count(*) FROM class_groups WHERE school_id = $1`, c.b.WID).(int64); n != 0 {
		t.Errorf("school B has %d classes", n)
	}
	// Codes are generated per class, in the alphabet.
	codes := map[string]bool{}
	for i := range 20 {
		code := post("schooladmin A", map[string]any{"name": fmt.Sprintf("Many %d", i)})["join_code"].(string)
		if !joinCodeRE.MatchString(code) || codes[code] {
			t.Errorf("code %q (seen %v)", code, codes[code])
		}
		codes[code] = true
	}

	// Refusals write nothing: no class, no event.
	classes := func() int64 { return c.v.scalar(`SELECT count(*) FROM class_groups`).(int64) }
	events := func() int64 { return c.v.scalar(`SELECT count(*) FROM events`).(int64) }
	beforeC, beforeE := classes(), events()
	const msg = "Couldn't add class to school. It might already exist? Check the name."
	for name, body := range map[string]any{
		"duplicate name": map[string]any{"name": "Room 7"},
		"missing name":   map[string]any{"school_id": c.a.WID.String()},
		"null name":      map[string]any{"name": nil},
		"empty object":   map[string]any{},
	} {
		rec := c.v.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", c.tokens["schooladmin A"], body)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if d := decode[map[string]any](t, rec)["detail"]; d != msg {
			t.Errorf("%s: detail %v", name, d)
		}
	}
	for name, body := range map[string]any{
		"long name":      map[string]any{"name": strings.Repeat("é", 257)},
		"name not text":  map[string]any{"name": true},
		"bad school_id":  map[string]any{"name": "X", "school_id": "nope"},
		"not json":       "{nope",
		"empty body":     "",
		"body not obj":   []any{"x"},
		"school_id type": map[string]any{"name": "X", "school_id": 17},
	} {
		rec := c.v.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", c.tokens["schooladmin A"], body)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
			continue
		}
		if _, ok := decode[map[string]any](t, rec)["detail"].([]any); !ok {
			t.Errorf("%s: detail is not a validation list: %s", name, rec.Body)
		}
	}
	if classes() != beforeC || events() != beforeE {
		t.Errorf("refusals wrote %d classes and %d events", classes()-beforeC, events()-beforeE)
	}
	// 256 characters fit varchar(256).
	post("schooladmin A", map[string]any{"name": strings.Repeat("é", 256)})
	// Validation follows the decisions: a refused caller never learns about its body.
	wantStatus(t, c.v.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", c.tokens["educator A"], "{nope"), http.StatusForbidden)
	wantStatus(t, c.v.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", c.tokens["lms linked A"], "{nope"), http.StatusForbidden)
}

func TestF5ClassDetailScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	class := c.classOf(t, "student A")
	other := c.addClassStudent(c.a, class, "Ola")
	c.run(t, http.MethodGet, func() string { return classPath(class) }, nil, statuses(classHidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "educator A": 200, "student A": 200,
	}))
	// Which students: all of them for admins and the school's staff (F7);
	// a student sees itself.
	for who, want := range map[string][]uuid.UUID{
		"admin": {other, c.ids["student A"]}, "schooladmin A": {other, c.ids["student A"]},
		"educator A": {other, c.ids["student A"]}, "student A": {c.ids["student A"]},
	} {
		rec := c.v.do(http.MethodGet, classPath(class), c.tokens[who], nil)
		wantStatus(t, rec, http.StatusOK)
		got := decode[map[string]any](t, rec)
		if got["id"] != class.String() || got["name"] != "Class of student A" || got["school_id"] != c.a.WID.String() ||
			got["note"] != nil || got["join_code"] == nil {
			t.Errorf("%s: class %v", who, got)
		}
		students := got["students"].([]any)
		var ids []uuid.UUID
		for _, s := range students {
			st := s.(map[string]any)
			ids = append(ids, uuid.MustParse(st["id"].(string)))
			sch := st["school"].(map[string]any)
			if st["type"] != "student" || st["username"] == nil || st["name"] == nil || st["first_name"] == nil ||
				sch["wriveted_identifier"] != c.a.WID.String() || sch["name"] != "School A" || sch["country_code"] != "NZL" {
				t.Errorf("%s: student %v", who, st)
			}
		}
		slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
		slices.SortFunc(want, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
		if !slices.Equal(ids, want) {
			t.Errorf("%s sees students %v, want %v", who, ids, want)
		}
		if who != "student A" && got["student_count"] != 2.0 {
			t.Errorf("%s: student_count %v", who, got["student_count"])
		}
	}
	// School B's class: its own staff read it, school A's do not.
	bClass := c.v.class(c.b, "B class")
	wantStatus(t, c.v.do(http.MethodGet, classPath(bClass), c.tokens["educator B"], nil), http.StatusOK)
	wantStatus(t, c.v.do(http.MethodGet, classPath(bClass), c.tokens["schooladmin A"], nil), classHidden)
	// Unknown and malformed ids.
	missing := uuid.New()
	rec := c.v.do(http.MethodGet, classPath(missing), c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusNotFound)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Resource ClassGroup with id "+missing.String()+" not found." {
		t.Errorf("detail %v", d)
	}
	wantStatus(t, c.v.do(http.MethodGet, "/v1/class/not-a-uuid", c.tokens["admin"], nil), http.StatusUnprocessableEntity)
	// A class without a school fails every class-level check (api.md §2.6).
	var orphan uuid.UUID
	if err := c.v.super.QueryRow(t.Context(), `INSERT INTO class_groups (name, join_code) VALUES ('Orphan', 'ZZZZZZ') RETURNING id`).Scan(&orphan); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		wantStatus(t, c.v.do(m, classPath(orphan), c.tokens["admin"], nil), http.StatusForbidden)
	}
	wantStatus(t, c.v.do(http.MethodPatch, classPath(orphan), c.tokens["admin"], map[string]any{"name": "x"}), http.StatusForbidden)
}

func TestF5ClassPatchScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	class := c.classOf(t, "student A")
	// Renaming to its own name: the school's staff update its classes (F5);
	// its students only read them.
	c.run(t, http.MethodPatch, func() string { return classPath(class) }, map[string]any{"name": "Class of student A"},
		statuses(classHidden, map[string]int{
			"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "educator A": 200, "student A": 403,
		}))
	before := c.v.scalar(`SELECT updated_at FROM class_groups WHERE id = $1`, class)
	rec := c.v.do(http.MethodPatch, classPath(class), c.tokens["educator A"], map[string]any{
		"name": "Room 9", "note": "a note",
		"members": []any{map[string]any{"action": "add", "user_id": uuid.NewString()}},
		"admins":  []any{map[string]any{"action": "REMOVE", "user_id": c.ids["educator A"].String()}},
	})
	wantStatus(t, rec, http.StatusOK)
	got := decode[map[string]any](t, rec)
	if got["name"] != "Room 9" || got["note"] != nil || len(got["students"].([]any)) != 1 || got["student_count"] != 1.0 {
		t.Errorf("patched %v", got)
	}
	if after := c.v.scalar(`SELECT updated_at FROM class_groups WHERE id = $1`, class); after == before {
		t.Error("updated_at unchanged")
	}
	// Nothing but ignored fields (or a null name): nothing changes.
	for _, body := range []any{map[string]any{"note": "x"}, map[string]any{"name": nil}, map[string]any{}} {
		rec = c.v.do(http.MethodPatch, classPath(class), c.tokens["schooladmin A"], body)
		wantStatus(t, rec, http.StatusOK)
		if n := decode[map[string]any](t, rec)["name"]; n != "Room 9" {
			t.Errorf("%v: name %v", body, n)
		}
	}
	// A name another class of the school has: 422, unchanged.
	c.v.class(c.a, "Room 10")
	rec = c.v.do(http.MethodPatch, classPath(class), c.tokens["schooladmin A"], map[string]any{"name": "Room 10"})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if _, ok := decode[map[string]any](t, rec)["detail"].(string); !ok {
		t.Errorf("duplicate rename: %s", rec.Body)
	}
	for name, body := range map[string]any{
		"long name":     map[string]any{"name": strings.Repeat("x", 257)},
		"name not text": map[string]any{"name": []any{}},
		"bad action":    map[string]any{"members": []any{map[string]any{"action": "promote", "user_id": uuid.NewString()}}},
		"bad user id":   map[string]any{"admins": []any{map[string]any{"action": "add", "user_id": "x"}}},
		"members obj":   map[string]any{"members": map[string]any{}},
		"not json":      "{nope",
	} {
		if rec := c.v.do(http.MethodPatch, classPath(class), c.tokens["schooladmin A"], body); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if n := c.v.scalar(`SELECT name FROM class_groups WHERE id = $1`, class); n != "Room 9" {
		t.Errorf("name after refusals: %v", n)
	}
	// The decision precedes validation; unknown and malformed ids.
	wantStatus(t, c.v.do(http.MethodPatch, classPath(class), c.tokens["student A"], "{nope"), http.StatusForbidden)
	wantStatus(t, c.v.do(http.MethodPatch, classPath(uuid.New()), c.tokens["admin"], map[string]any{"name": "x"}), http.StatusNotFound)
	wantStatus(t, c.v.do(http.MethodPatch, "/v1/class/123", c.tokens["admin"], map[string]any{"name": "x"}), http.StatusUnprocessableEntity)
}

func TestF5ClassDeleteScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	// Deleting needs delete on the class and update on its school: the
	// school's admins, not its educators (F5 with the school ACL).
	want := statuses(classHidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "educator A": 403, "student A": 403,
	})
	for i, who := range everyCaller {
		class := c.v.class(c.a, fmt.Sprintf("Doomed %d", i))
		kid := c.addClassStudent(c.a, class, fmt.Sprintf("Kid%d", i))
		rec := c.v.do(http.MethodDelete, classPath(class), c.tokens[who], nil)
		if rec.Code != want[who] {
			t.Errorf("DELETE as %s: %d, want %d: %s", who, rec.Code, want[who], rec.Body)
		}
		gone := c.v.scalar(`SELECT count(*) FROM class_groups WHERE id = $1`, class).(int64) == 0
		typ := c.v.scalar(`SELECT type::text FROM users WHERE id = $1`, kid)
		if gone != (want[who] == 200) || (typ == "STUDENT") != (want[who] != 200) {
			t.Errorf("DELETE as %s: class gone %v, student type %v", who, gone, typ)
		}
	}
	wantStatus(t, c.v.do(http.MethodDelete, classPath(uuid.New()), c.tokens["admin"], nil), http.StatusNotFound)
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/class/nope", c.tokens["admin"], nil), http.StatusUnprocessableEntity)
}

func TestClassDeleteDemotesStudents(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	class := c.classOf(t, "student A")
	other := c.addClassStudent(c.a, class, "Ola")
	otherTok := c.v.userToken(other)
	// A stray public_readers row (old data) does not stop the demotion.
	c.v.exec(`INSERT INTO public_readers (id, reader_info) VALUES ($1, '{"kept": true}')`, other)
	// Both students are signed in (their accounts are cached).
	for _, tok := range []string{c.tokens["student A"], otherTok} {
		wantStatus(t, c.v.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
	}
	rec := c.v.do(http.MethodDelete, classPath(class), c.tokens["schooladmin A"], nil)
	wantStatus(t, rec, http.StatusOK)
	got := decode[map[string]any](t, rec)
	if got["id"] != class.String() || got["name"] != "Class of student A" || got["school_id"] != c.a.WID.String() ||
		got["student_count"] != 2.0 || got["updated_at"] == nil {
		t.Errorf("deleted brief %v", got)
	}
	if _, ok := got["join_code"]; ok {
		t.Errorf("DELETE answers a ClassGroupBrief: %v", got)
	}
	// The students are inactive public readers, whole: readers and
	// public_readers rows present, students row gone.
	for _, id := range []uuid.UUID{c.ids["student A"], other} {
		var typ string
		var active, reader, public, student bool
		if err := c.v.super.QueryRow(t.Context(), `SELECT u.type::text, u.is_active,
			EXISTS (SELECT 1 FROM readers r WHERE r.id = u.id), EXISTS (SELECT 1 FROM public_readers p WHERE p.id = u.id),
			EXISTS (SELECT 1 FROM students s WHERE s.id = u.id)
			FROM users u WHERE u.id = $1`, id).Scan(&typ, &active, &reader, &public, &student); err != nil {
			t.Fatal(err)
		}
		if typ != "PUBLIC" || active || !reader || !public || student {
			t.Errorf("student %s: type %s active %v readers %v public_readers %v students %v", id, typ, active, reader, public, student)
		}
	}
	if n := c.v.scalar(`SELECT count(*) FROM class_groups WHERE id = $1`, class).(int64); n != 0 {
		t.Error("class still there")
	}
	if d := c.v.scalar(`SELECT info ->> 'description' FROM events WHERE title = 'Class Deleted' AND school_id = $1`, c.a.ID); d != "Class Class of student A in School A deleted." {
		t.Errorf("event description %v", d)
	}
	// Their tokens now get the original's inactive answer, at once.
	for _, tok := range []string{c.tokens["student A"], otherTok} {
		rec := c.v.do(http.MethodGet, "/v1/auth/me", tok, nil)
		wantStatus(t, rec, http.StatusBadRequest)
		if d := decode[map[string]any](t, rec)["detail"]; d != "Inactive account" {
			t.Errorf("detail %v", d)
		}
	}
	wantStatus(t, c.v.do(http.MethodGet, classPath(class), c.tokens["schooladmin A"], nil), http.StatusNotFound)
	wantStatus(t, c.v.do(http.MethodDelete, classPath(class), c.tokens["schooladmin A"], nil), http.StatusNotFound)
	// An admin deletes an empty class of school B.
	empty := c.v.class(c.b, "Empty")
	rec = c.v.do(http.MethodDelete, classPath(empty), c.tokens["backend"], nil)
	wantStatus(t, rec, http.StatusOK)
	if n := decode[map[string]any](t, rec)["student_count"]; n != 0.0 {
		t.Errorf("student_count %v", n)
	}
}

// With a warm principal cache, class reads are one database round trip.
func TestClassReadsAreOneRoundTrip(t *testing.T) {
	t.Parallel()
	var writes *atomic.Int64
	v := newEnv(t)
	pool, w := v.db.CountingPool(t, dbtest.RoleAPI, 0)
	writes = w
	v = newEnvOn(t, v, pool)
	a := v.school("School A", "ACTIVE")
	student := v.user("Sam Student", "STUDENT", &a)
	tok := v.userToken(v.user("Sal Admin", "SCHOOL_ADMIN", &a))
	class := classOfStudent(t, v, student)
	for _, path := range []string{classesOf(a), classPath(class)} {
		wantStatus(t, v.do(http.MethodGet, path, tok, nil), http.StatusOK) // warms caches
		before := writes.Load()
		wantStatus(t, v.do(http.MethodGet, path, tok, nil), http.StatusOK)
		if n := writes.Load() - before; n != 1 {
			t.Errorf("GET %s took %d round trips, want 1", path, n)
		}
	}
}

// The class routes' responses match the documented schemas.
func TestClassResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	rc := newResponseChecker(t, c.v)
	class := c.classOf(t, "student A")
	admin, sa := c.tokens["admin"], c.tokens["schooladmin A"]
	rc.do(http.MethodGet, "/v1/classes", admin, nil, 200)
	rc.do(http.MethodGet, classesOf(c.a)+"&query=class&skip=0&limit=5", c.tokens["student A"], nil, 200)
	rc.do(http.MethodGet, "/v1/classes", sa, nil, 403)
	rc.do(http.MethodGet, "/v1/classes?school_id="+uuid.NewString(), admin, nil, 404)
	rc.do(http.MethodGet, "/v1/classes?school_id=x", admin, nil, 422)
	rc.do(http.MethodGet, "/v1/classes", "", nil, 401)
	created := rc.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", sa, map[string]any{"name": "Doc"}, 200)
	rc.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", sa, map[string]any{"name": "Doc"}, 422)
	rc.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", sa, map[string]any{"name": true}, 422)
	rc.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", c.tokens["educator A"], map[string]any{"name": "X"}, 403)
	rc.do(http.MethodPost, "/v1/school/"+uuid.NewString()+"/class", admin, map[string]any{"name": "X"}, 404)
	rc.do(http.MethodGet, classPath(class), c.tokens["student A"], nil, 200)
	rc.do(http.MethodGet, classPath(class), c.tokens["educator B"], nil, classHidden)
	rc.do(http.MethodGet, classPath(uuid.New()), admin, nil, 404)
	rc.do(http.MethodGet, "/v1/class/x", admin, nil, 422)
	rc.do(http.MethodPatch, classPath(class), c.tokens["educator A"], map[string]any{"name": "Renamed", "note": "n"}, 200)
	rc.do(http.MethodPatch, classPath(class), c.tokens["student A"], map[string]any{"name": "Mine"}, 403)
	rc.do(http.MethodPatch, classPath(class), admin, map[string]any{"name": true}, 422)
	rc.do(http.MethodDelete, classPath(class), c.tokens["educator A"], nil, 403)
	rc.do(http.MethodDelete, classPath(class), sa, nil, 200)
	if id, _ := decode[map[string]any](t, created)["id"].(string); id != "" {
		rc.do(http.MethodDelete, "/v1/class/"+id, admin, nil, 200)
	}
	rc.do(http.MethodGet, "/v1/auth/me", c.tokens["student A"], nil, 400)
	if len(rc.seen) < 18 {
		t.Errorf("only %d (operation, status) pairs checked", len(rc.seen))
	}
}
