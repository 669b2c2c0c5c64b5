package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// Events (api.md §2.13): scenario tables over every caller, the filters, F14
// (permission filtering before paging) and the process-event task.

// evAt is the base time of fixture events; evTime(i) is i minutes later.
var evAt = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func evTime(i int) time.Time { return evAt.Add(time.Duration(i) * time.Minute) }

// evInsert records an event as a superuser (fixtures bypass the API).
func evInsert(t *testing.T, v *env, title, level string, school *int64, user, sa *uuid.UUID, info string, ts time.Time) uuid.UUID {
	t.Helper()
	id := uuid.New()
	v.exec(`INSERT INTO events (id, title, level, school_id, user_id, service_account_id, info, "timestamp")
		VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)`, id, title, level, school, user, sa, info, ts)
	return id
}

func evPtr[T any](v T) *T { return &v }

// evTitles are the titles of a page of EventDetail, in order.
func evTitles(t *testing.T, body map[string]any) []string {
	t.Helper()
	var out []string
	for _, d := range body["data"].([]any) {
		out = append(out, d.(map[string]any)["title"].(string))
	}
	return out
}

// evList GETs path as who and returns the page's titles (status must be 200).
func (c *cast) evList(t *testing.T, who, path string) []string {
	t.Helper()
	rec := c.v.do(http.MethodGet, path, c.tokens[who], nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s as %s: %d %s", path, who, rec.Code, rec.Body)
	}
	body := decode[map[string]any](t, rec)
	if p := body["pagination"].(map[string]any); p["total"] != nil {
		t.Errorf("GET %s: total %v, want null", path, p["total"])
	}
	return evTitles(t, body)
}

type evFixture struct {
	*cast
	reader uuid.UUID
}

// newEvFixture is the cast with events: school A's (one by the kiosk, one
// about student A, one about an educator), school B's, the public reader's
// (whose parent is the cast's parent), and one with neither.
func newEvFixture(t *testing.T) *evFixture {
	t.Helper()
	c := newCast(t)
	f := &evFixture{cast: c, reader: c.ids["public reader"]}
	c.v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, c.ids["parent"], f.reader)
	kiosk, student, edA := c.ids["kiosk"], c.ids["student A"], c.ids["educator A"]
	evInsert(t, c.v, "A kiosk check-in", "NORMAL", &c.a.ID, nil, &kiosk, `{"description": "kiosk"}`, evTime(1))
	evInsert(t, c.v, "A student reviewed", "NORMAL", &c.a.ID, &student, nil, `{"description": "student"}`, evTime(2))
	evInsert(t, c.v, "A educator logged in", "DEBUG", &c.a.ID, &edA, nil, `{"description": "educator"}`, evTime(3))
	evInsert(t, c.v, "Secret B title", "WARNING", &c.b.ID, nil, nil, `{"description": "b"}`, evTime(4))
	evInsert(t, c.v, "Reader opened app", "NORMAL", nil, &f.reader, nil, `{"description": "r1"}`, evTime(5))
	evInsert(t, c.v, "Reader timeline event: Reading logged", "NORMAL", nil, &f.reader, nil, `{"description": "r2", "emoji": "🤪"}`, evTime(6))
	evInsert(t, c.v, "Reader hit an error", "ERROR", nil, &f.reader, nil, `{"description": "r3"}`, evTime(7))
	evInsert(t, c.v, "Nobody's event", "NORMAL", nil, nil, nil, `{"description": "none"}`, evTime(8))
	return f
}

func TestEventListBySchoolScenarios(t *testing.T) {
	t.Parallel()
	f := newEvFixture(t)
	path := "/v1/events?school_id=" + f.a.WID.String()
	// `read` on the school (F6: its educators and students; F2: linked accounts).
	f.run(t, http.MethodGet, func() string { return path }, nil, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "educator A": 200, "student A": 200,
		"lms linked A": 200, "school sa A": 200}))
	rec := f.v.do(http.MethodGet, path, f.tokens["educator B"], nil)
	if got := decode[map[string]any](t, rec)["detail"]; got != "The current account is not allowed to filter events associated with that school" {
		t.Errorf("educator B: %v", got)
	}
	// What each caller then reads is the event ACL's: school staff all of
	// the school's events, a student its own, linked service accounts none.
	all := []string{"A educator logged in", "A student reviewed", "A kiosk check-in"}
	for who, want := range map[string][]string{
		"admin": all, "backend": all, "schooladmin A": all, "educator A": all,
		"student A": {"A student reviewed"}, "lms linked A": nil, "school sa A": nil,
	} {
		if got := f.evList(t, who, path); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", who, got, want)
		}
	}
	wantStatus(t, f.v.do(http.MethodGet, "/v1/events?school_id="+uuid.NewString(), f.tokens["admin"], nil), 404)
}

func TestEventListByUserScenarios(t *testing.T) {
	t.Parallel()
	f := newEvFixture(t)
	path := "/v1/events?user_id=" + f.reader.String()
	// `read` on the user: itself, its parent, admins.
	f.run(t, http.MethodGet, func() string { return path }, nil, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "public reader": 200, "parent": 200}))
	rec := f.v.do(http.MethodGet, path, f.tokens["supporter"], nil)
	if got := decode[map[string]any](t, rec)["detail"]; got != "The current account is not allowed to filter events associated with that user" {
		t.Errorf("supporter: %v", got)
	}
	want := []string{"Reader hit an error", "Reader timeline event: Reading logged", "Reader opened app"}
	for _, who := range []string{"admin", "public reader", "parent"} {
		if got := f.evList(t, who, path); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", who, got, want)
		}
	}
	rec = f.v.do(http.MethodGet, "/v1/events?user_id="+uuid.NewString(), f.tokens["admin"], nil)
	wantStatus(t, rec, 404)
	// A school admin reads its educator's account but, of its events, only
	// those attached to the school survive the event ACL.
	c := f.cast
	edA := c.ids["educator A"]
	evInsert(t, c.v, "Educator's own note", "NORMAL", nil, &edA, nil, `{}`, evTime(9))
	got := f.evList(t, "schooladmin A", "/v1/events?user_id="+edA.String())
	if !slices.Equal(got, []string{"A educator logged in"}) {
		t.Errorf("schooladmin A reading educator A's events: %q", got)
	}
	if got := f.evList(t, "educator A", "/v1/events?user_id="+edA.String()); len(got) != 2 {
		t.Errorf("educator A reading its own events: %q", got)
	}
}

func TestEventGlobalListScenarios(t *testing.T) {
	t.Parallel()
	f := newEvFixture(t)
	f.run(t, http.MethodGet, func() string { return "/v1/events" }, nil, statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200}))
	rec := f.v.do(http.MethodGet, "/v1/events?service_account_id="+f.ids["kiosk"].String(), f.tokens["schooladmin A"], nil)
	wantStatus(t, rec, 403)
	if got := decode[map[string]any](t, rec)["detail"]; got != "The current account is not allowed to request global events. Try filtering by your school or user." {
		t.Errorf("detail %v", got)
	}
	// With a user filter, a service account the caller cannot see is still
	// found (no permission check on it); an unknown one is 404.
	self := "/v1/events?user_id=" + f.ids["parent"].String() + "&service_account_id="
	rec = f.v.do(http.MethodGet, self+f.ids["kiosk"].String(), f.tokens["parent"], nil)
	wantStatus(t, rec, 200)
	if n := len(decode[map[string]any](t, rec)["data"].([]any)); n != 0 {
		t.Errorf("parent filtering by the kiosk sees %d events, want 0", n)
	}
	wantStatus(t, f.v.do(http.MethodGet, self+uuid.NewString(), f.tokens["parent"], nil), 404)
	body := decode[map[string]any](t, f.v.do(http.MethodGet, "/v1/events", f.tokens["admin"], nil))
	if n := len(body["data"].([]any)); n != 8 {
		t.Errorf("admin sees %d events, want 8", n)
	}
	if p := body["pagination"].(map[string]any); p["skip"] != float64(0) || p["limit"] != float64(100) || p["page"] != float64(1) || p["total"] != nil {
		t.Errorf("pagination %v", p)
	}
	// EventDetail embeds the school, user and service account.
	first := body["data"].([]any)[0].(map[string]any)
	if first["title"] != "Nobody's event" || first["level"] != "normal" || first["timestamp"] != "2024-05-01T10:08:00" ||
		first["description"] != "none" || first["school"] != nil || first["user"] != nil || first["service_account"] != nil {
		t.Errorf("first %v", first)
	}
	var kiosk, student map[string]any
	for _, d := range body["data"].([]any) {
		switch d := d.(map[string]any); d["title"] {
		case "A kiosk check-in":
			kiosk = d
		case "A student reviewed":
			student = d
		}
	}
	wantSchool := map[string]any{"wriveted_identifier": f.a.WID.String(), "name": "School A"}
	if !jsonEqual(kiosk["school"], wantSchool) || !jsonEqual(kiosk["service_account"], map[string]any{
		"id": f.ids["kiosk"].String(), "name": "kiosk", "type": "kiosk", "is_active": true}) || kiosk["user"] != nil {
		t.Errorf("kiosk event %v", kiosk)
	}
	if !jsonEqual(student["user"], map[string]any{"id": f.ids["student A"].String(), "type": "student", "name": "student A"}) ||
		!jsonEqual(student["info"], map[string]any{"description": "student"}) {
		t.Errorf("student event %v", student)
	}
}

func jsonEqual(got, want any) bool {
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return string(a) == string(b)
}

// F14: the page holds the events the caller may read, not a page of all
// events with the unreadable ones dropped.
func TestF14EventPermissionFilteringBeforePaging(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	student := c.ids["student A"]
	// Ten events about student A, newest first: the educator of school A
	// reads only the three attached to the school (the 2nd, 6th and 9th).
	var readable []string
	for i := range 10 {
		var sch *int64
		title := fmt.Sprintf("Event %02d", i)
		if i == 1 || i == 5 || i == 8 {
			sch = &c.a.ID
			readable = append(readable, title)
		}
		evInsert(t, c.v, title, "NORMAL", sch, &student, nil, `{}`, evTime(-i))
	}
	path := "/v1/events?user_id=" + student.String()
	if got := c.evList(t, "educator A", path+"&limit=3"); !slices.Equal(got, readable) {
		t.Errorf("page 1 (limit 3): %q, want %q", got, readable)
	}
	if got := c.evList(t, "educator A", path+"&limit=3&skip=3"); len(got) != 0 {
		t.Errorf("page 2 (limit 3): %q, want none", got)
	}
	if got := c.evList(t, "educator A", path+"&limit=2&skip=1"); !slices.Equal(got, readable[1:]) {
		t.Errorf("limit 2 skip 1: %q, want %q", got, readable[1:])
	}
	if got := c.evList(t, "student A", path+"&limit=3"); !slices.Equal(got, []string{"Event 00", "Event 01", "Event 02"}) {
		t.Errorf("the student's own first page: %q", got)
	}
}

func TestEventListFilters(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	kiosk := c.ids["kiosk"]
	for i, e := range []struct{ title, level, info string }{
		{"Alpha one", "DEBUG", `{"n": 1, "tags": ["x"]}`},
		{"Beta two", "NORMAL", `{"n": 2}`},
		{"alphabet soup", "WARNING", `{"n": 3, "reading_logged": {"emoji": "🤪"}}`},
		{"Gamma", "ERROR", `{"n": 4}`},
		{"100% done", "NORMAL", `{"n": "five"}`},
		{"1000 done", "NORMAL", `{}`},
	} {
		evInsert(t, c.v, e.title, e.level, &c.a.ID, nil, &kiosk, e.info, evTime(i))
	}
	base := "/v1/events?school_id=" + c.a.WID.String()
	for name, tc := range map[string]struct {
		query string
		want  []string
	}{
		"none":                {"", []string{"1000 done", "100% done", "Gamma", "alphabet soup", "Beta two", "Alpha one"}},
		"substring, any case": {"query=ALPHA", []string{"alphabet soup", "Alpha one"}},
		"several OR-ed":       {"query=alpha&query=gamma", []string{"Gamma", "alphabet soup", "Alpha one"}},
		"prefix":              {"query=alpha&match_prefix=true", []string{"alphabet soup", "Alpha one"}},
		"prefix only":         {"query=two&match_prefix=true", nil},
		"not a prefix":        {"query=two&match_prefix=false", []string{"Beta two"}},
		"wildcards literal":   {"query=" + url.QueryEscape("0%"), []string{"100% done"}},
		"underscore literal":  {"query=_", nil},
		"level warning":       {"level=warning", []string{"Gamma", "alphabet soup"}},
		"level by name":       {"level=ERROR", []string{"Gamma"}},
		"level debug":         {"level=debug", []string{"1000 done", "100% done", "Gamma", "alphabet soup", "Beta two", "Alpha one"}},
		"since":               {"since=2024-05-01T10:04:00", []string{"1000 done", "100% done"}},
		"since with offset":   {"since=" + url.QueryEscape("2024-05-01T12:03:00+02:00"), []string{"1000 done", "100% done", "Gamma"}},
		"since, plus decoded": {"since=2024-05-01T12:03:00+02:00", []string{"1000 done", "100% done", "Gamma"}},
		"since a date":        {"since=2024-05-02", nil},
		"jsonpath":            {"info_jsonpath_match=" + url.QueryEscape(`($.n == 1)`), []string{"Alpha one"}},
		"jsonpath nested":     {"info_jsonpath_match=" + url.QueryEscape(`($.reading_logged.emoji == "🤪")`), []string{"alphabet soup"}},
		"jsonpath and query":  {"info_jsonpath_match=" + url.QueryEscape(`($.n >= 2)`) + "&query=a", []string{"Gamma", "alphabet soup", "Beta two"}},
		"service account":     {"service_account_id=" + kiosk.String() + "&level=error", []string{"Gamma"}},
		"other account":       {"service_account_id=" + c.ids["backend"].String(), nil},
		"paged":               {"limit=2&skip=2", []string{"Gamma", "alphabet soup"}},
	} {
		path := base
		if tc.query != "" {
			path += "&" + tc.query
		}
		if got := c.evList(t, "admin", path); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
	// Invalid parameters are 422; an unknown service account 404.
	for _, q := range []string{"level=loud", "since=yesterday", "user_id=nope", "service_account_id=1", "match_prefix=maybe", "limit=-1"} {
		wantStatus(t, c.v.do(http.MethodGet, base+"&"+q, c.tokens["admin"], nil), 422)
	}
	rec := c.v.do(http.MethodGet, base+"&service_account_id="+uuid.NewString(), c.tokens["admin"], nil)
	wantStatus(t, rec, 404)
	if got := decode[map[string]any](t, rec)["detail"]; !strings.HasPrefix(got.(string), "ServiceAccount with id ") {
		t.Errorf("detail %v", got)
	}
	// The JSONPath's own errors are 400, never 5xx: a syntax error, a
	// non-boolean result, a missing variable, a strict-mode structural error,
	// a bad regular expression, a path too deep to evaluate.
	for _, p := range []string{`$.[`, `$.n`, `($.n == $x)`, `strict $.missing`, ``, `($.n like_regex "[")`,
		"$" + strings.Repeat(" ? (@ == 1)", 20000)} {
		rec := c.v.do(http.MethodGet, base+"&info_jsonpath_match="+url.QueryEscape(p), c.tokens["admin"], nil)
		if rec.Code != http.StatusBadRequest || decode[map[string]any](t, rec)["detail"] != "Problem filtering events" {
			t.Errorf("jsonpath %q: %d %s", p, rec.Code, rec.Body)
		}
	}
	// A syntax error is 400 even when no row would be tested.
	rec = c.v.do(http.MethodGet, base+"&query=nothing-matches&info_jsonpath_match="+url.QueryEscape(`$.[`), c.tokens["admin"], nil)
	wantStatus(t, rec, 400)
	// The checks come first: a caller refused the school is told so, not 400.
	rec = c.v.do(http.MethodGet, base+"&info_jsonpath_match="+url.QueryEscape(`$.[`), c.tokens["educator B"], nil)
	wantStatus(t, rec, 403)
	rec = c.v.do(http.MethodGet, "/v1/events?school_id="+uuid.NewString()+"&info_jsonpath_match="+url.QueryEscape(`$.n`), c.tokens["admin"], nil)
	wantStatus(t, rec, 404)
}

// A failed JSONPath leaves the connection clean: no open transaction, no
// claims, the login role; the next request on it succeeds.
func TestEventJSONPathErrorLeavesConnectionClean(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	pool, _ := v.db.CountingPool(t, dbtest.RoleAPI, 1)
	v = newEnvOn(t, v, pool)
	sch := v.school("Clean", "ACTIVE")
	admin := v.userToken(v.user("Clean Admin", "WRIVETED", nil))
	evInsert(t, v, "Clean event", "NORMAL", &sch.ID, nil, nil, `{"n": 1}`, evTime(0))
	path := "/v1/events?school_id=" + sch.WID.String() + "&info_jsonpath_match="
	for range 3 {
		wantStatus(t, v.do(http.MethodGet, path+url.QueryEscape(`$.n`), admin, nil), 400)
		wantStatus(t, v.do(http.MethodGet, path+url.QueryEscape(`$.[`), admin, nil), 400)
	}
	conn, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st := conn.Conn().PgConn().TxStatus(); st != 'I' {
		t.Errorf("after the failures the connection's transaction status is %q, want idle", st)
	}
	var claims, role string
	if err := conn.QueryRow(context.Background(), `SELECT coalesce(current_setting('request.jwt.claims', true), ''),
		current_user::text`).Scan(&claims, &role); err != nil {
		t.Fatalf("the connection is unusable: %v", err)
	}
	conn.Release()
	if claims != "" || role != "huey_api" {
		t.Errorf("after the failures: claims %q, role %q", claims, role)
	}
	rec := v.do(http.MethodGet, path+url.QueryEscape(`($.n == 1)`), admin, nil)
	wantStatus(t, rec, 200)
	if got := evTitles(t, decode[map[string]any](t, rec)); !slices.Equal(got, []string{"Clean event"}) {
		t.Errorf("after the failures: %q", got)
	}
}

// Event types name only titles the caller may read: school B's to nobody at
// school A, and to nobody else but admins.
func TestEventTypesHideOtherSchoolsTitles(t *testing.T) {
	t.Parallel()
	f := newEvFixture(t)
	f.run(t, http.MethodGet, func() string { return "/v1/event-types" }, nil, statuses(http.StatusOK, map[string]int{"anonymous": 401}))
	for _, who := range everyCaller[1:] {
		body := decode[map[string]any](t, f.v.do(http.MethodGet, "/v1/event-types", f.tokens[who], nil))
		var titles []string
		for _, d := range body["data"].([]any) {
			titles = append(titles, d.(string))
		}
		admin := who == "admin" || who == "backend"
		schoolB := who == "schooladmin B" || who == "educator B"
		if slices.Contains(titles, "Secret B title") != (admin || schoolB) {
			t.Errorf("%s sees %q", who, titles)
		}
		if slices.Contains(titles, "A kiosk check-in") != (admin || who == "schooladmin A" || who == "educator A") {
			t.Errorf("%s sees %q", who, titles)
		}
		if admin && len(titles) != 8 {
			t.Errorf("%s: %d titles, want 8", who, len(titles))
		}
		if p := body["pagination"].(map[string]any); p["total"] != nil {
			t.Errorf("%s: total %v", who, p["total"])
		}
	}
	get := func(who, q string) []any {
		return decode[map[string]any](t, f.v.do(http.MethodGet, "/v1/event-types?"+q, f.tokens[who], nil))["data"].([]any)
	}
	if got := get("public reader", ""); !jsonEqual(got, []string{"Reader hit an error", "Reader opened app", "Reader timeline event: Reading logged"}) {
		t.Errorf("the reader's titles: %v", got)
	}
	if got := get("schooladmin A", "level=normal"); !jsonEqual(got, []string{"A kiosk check-in", "A student reviewed"}) {
		t.Errorf("school A's titles at normal or above: %v", got)
	}
	if got := get("admin", "level=warning"); !jsonEqual(got, []string{"Reader hit an error", "Secret B title"}) {
		t.Errorf("warning or above: %v", got)
	}
	if got := get("admin", "limit=2&skip=1"); !jsonEqual(got, []string{"A kiosk check-in", "A student reviewed"}) {
		t.Errorf("paged: %v", got)
	}
	wantStatus(t, f.v.do(http.MethodGet, "/v1/event-types?level=nope", f.tokens["admin"], nil), 422)
}

// ---------------------------------------------------------------------------
// POST /events

// evTasks returns the process-event tasks' idempotency keys and payloads.
func evTasks(t *testing.T, v *env) map[string]map[string]any {
	t.Helper()
	rows, err := v.super.Query(context.Background(), `SELECT idempotency_key, payload FROM task_queue WHERE kind = 'process-event'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]any{}
	for rows.Next() {
		var (
			key     string
			payload map[string]any
		)
		if err := rows.Scan(&key, &payload); err != nil {
			t.Fatal(err)
		}
		out[key] = payload
	}
	return out
}

func TestEventCreateWithSchoolScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	body := map[string]any{"title": "Checked in", "level": "normal", "school_id": c.a.WID.String()}
	// `read` on the school, or a kiosk linked to it (R10: the original let any kiosk, F17).
	want := statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200,
		"schooladmin A": 200, "educator A": 200, "student A": 200, "lms linked A": 200, "school sa A": 200})
	kioskA := c.v.serviceAccount("kiosk A", "KIOSK", c.a)
	c.ids["kiosk A"], c.tokens["kiosk A"] = kioskA, c.v.saToken(kioskA)
	c.run(t, http.MethodPost, func() string { return "/v1/events" }, body, want)
	wantStatus(t, c.v.do(http.MethodPost, "/v1/events", c.tokens["kiosk A"], body), 200)
	ok := 1 // kiosk A
	for _, n := range want {
		if n == 200 {
			ok++
		}
	}
	if n := c.v.count(`SELECT count(*) FROM events WHERE title = 'Checked in' AND school_id = $1`, c.a.ID); n != int64(ok) {
		t.Errorf("%d events recorded, want %d", n, ok)
	}
	rec := c.v.do(http.MethodPost, "/v1/events", c.tokens["educator B"], body)
	if got := decode[map[string]any](t, rec)["detail"]; got != "The current account is not allowed to create an event associated with that school" {
		t.Errorf("educator B: %v", got)
	}
	body["school_id"] = c.b.WID.String() // a kiosk acts only for its linked school
	wantStatus(t, c.v.do(http.MethodPost, "/v1/events", c.tokens["kiosk A"], body), 403)
	body["school_id"] = uuid.NewString()
	wantStatus(t, c.v.do(http.MethodPost, "/v1/events", c.tokens["kiosk A"], body), 404)

	// The kiosk cannot read its school event back; the answer is what it wrote.
	rec = c.v.do(http.MethodPost, "/v1/events", c.tokens["kiosk A"], map[string]any{"title": "Kiosk visit",
		"description": "Someone visited", "level": "WARNING", "school_id": c.a.WID.String(), "info": map[string]any{"n": 1},
		"slack_channel": "#general"})
	wantStatus(t, rec, 200)
	got := decode[map[string]any](t, rec)
	if got["title"] != "Kiosk visit" || got["description"] != "Someone visited" || got["level"] != "warning" ||
		!jsonEqual(got["info"], map[string]any{"description": "Someone visited", "n": 1}) ||
		!jsonEqual(got["school"], map[string]any{"wriveted_identifier": c.a.WID.String(), "name": "School A"}) ||
		got["user"] != nil || !jsonEqual(got["service_account"], map[string]any{"id": c.ids["kiosk A"].String(),
		"name": "kiosk A", "type": "kiosk", "is_active": true}) {
		t.Errorf("kiosk's answer %v", got)
	}
	var stored time.Time
	if err := c.v.super.QueryRow(context.Background(), `SELECT "timestamp" FROM events WHERE title = 'Kiosk visit'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if ts, _ := time.Parse("2006-01-02T15:04:05.999999", got["timestamp"].(string)); !ts.Equal(stored) {
		t.Errorf("timestamp %v, stored %v", got["timestamp"], stored)
	}
	if n := c.v.count(`SELECT count(*) FROM events WHERE title = 'Kiosk visit' AND service_account_id = $1 AND user_id IS NULL
		AND level = 'WARNING' AND info = '{"n": 1, "description": "Someone visited"}'`, c.ids["kiosk A"]); n != 1 {
		t.Errorf("stored kiosk events: %d", n)
	}
	// The school's educators read it; the kiosk's own list shows nothing.
	if titles := c.evList(t, "educator A", "/v1/events?school_id="+c.a.WID.String()+"&query=kiosk"); !slices.Equal(titles, []string{"Kiosk visit"}) {
		t.Errorf("educator A: %q", titles)
	}
}

func TestEventCreateWithUserScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	student := c.ids["student A"]
	body := map[string]any{"title": "Book finished", "level": "normal", "user_id": student.String(), "info": map[string]any{"isbn": "1"}}
	// `update` on the student: itself, its school's admins, admins.
	want := statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200,
		"schooladmin A": 200, "student A": 200})
	c.run(t, http.MethodPost, func() string { return "/v1/events" }, body, want)
	// Every one is attributed to the student, none to a service account.
	if n := c.v.count(`SELECT count(*) FROM events WHERE title = 'Book finished' AND user_id = $1
		AND service_account_id IS NULL AND info ->> 'isbn' = '1' AND info ->> 'description' = ''`, student); n != 4 {
		t.Errorf("%d events attributed to the student, want 4", n)
	}
	if n := c.v.count(`SELECT count(*) FROM events WHERE title = 'Book finished'`); n != 4 {
		t.Errorf("%d events recorded, want 4", n)
	}
	rec := c.v.do(http.MethodPost, "/v1/events", c.tokens["educator A"], body)
	if got := decode[map[string]any](t, rec)["detail"]; got != "The current account is not allowed to perform an operation associated with that user" {
		t.Errorf("educator A: %v", got)
	}
	rec = c.v.do(http.MethodPost, "/v1/events", c.tokens["backend"], body)
	wantStatus(t, rec, 200)
	got := decode[map[string]any](t, rec)
	if !jsonEqual(got["user"], map[string]any{"id": student.String(), "type": "student", "name": "student A"}) ||
		got["service_account"] != nil || got["school"] != nil || got["description"] != "" {
		t.Errorf("backend's answer %v", got)
	}
	// The user comes first: an unknown user is 404 before a school is looked at.
	body["user_id"] = uuid.NewString()
	body["school_id"] = uuid.NewString()
	rec = c.v.do(http.MethodPost, "/v1/events", c.tokens["admin"], body)
	wantStatus(t, rec, 404)
	if got := decode[map[string]any](t, rec)["detail"]; !strings.HasPrefix(got.(string), "Resource User with id ") {
		t.Errorf("detail %v", got)
	}
	// Without user_id the event is the caller's.
	rec = c.v.do(http.MethodPost, "/v1/events", c.tokens["parent"], map[string]any{"title": "Mine", "level": "debug"})
	wantStatus(t, rec, 200)
	if got := decode[map[string]any](t, rec); !jsonEqual(got["user"], map[string]any{"id": c.ids["parent"].String(),
		"type": "parent", "name": "parent"}) || got["service_account"] != nil {
		t.Errorf("parent's answer %v", got)
	}
}

func TestEventCreateValidation(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	for name, body := range map[string]any{
		"no title":        map[string]any{"level": "normal"},
		"no level":        map[string]any{"title": "x"},
		"bad level":       map[string]any{"title": "x", "level": "loud"},
		"title too long":  map[string]any{"title": strings.Repeat("t", 257), "level": "normal"},
		"bad school":      map[string]any{"title": "x", "level": "normal", "school_id": "17"},
		"bad user":        map[string]any{"title": "x", "level": "normal", "user_id": "me"},
		"info not object": map[string]any{"title": "x", "level": "normal", "info": []any{1}},
		"no body":         nil,
	} {
		if rec := c.v.do(http.MethodPost, "/v1/events", c.tokens["admin"], body); rec.Code != 422 {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if n := c.v.count(`SELECT count(*) FROM events`); n != 0 {
		t.Errorf("%d events recorded by invalid requests", n)
	}
	// Enum names are accepted case-insensitively (api.md §0.6).
	wantStatus(t, c.v.do(http.MethodPost, "/v1/events", c.tokens["admin"], map[string]any{"title": "x", "level": "Error"}), 200)
}

// Processing titles enqueue process-event in the event's transaction; other
// titles and failed requests enqueue nothing.
func TestEventCreateEnqueuesProcessing(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	reader := c.ids["public reader"]
	for _, title := range []string{"Huey: Book reviewed", "Reader timeline event: Reading logged", "Subscription started",
		"Test", "Test ", "test", "Huey: Book reviewed twice", "Something else"} {
		rec := c.v.do(http.MethodPost, "/v1/events", c.tokens["public reader"], map[string]any{"title": title,
			"level": "normal", "info": map[string]any{"isbn": "9780000000001", "liked": true}})
		wantStatus(t, rec, 200)
	}
	// Refused requests with a processing title: no event, no task.
	wantStatus(t, c.v.do(http.MethodPost, "/v1/events", c.tokens["public reader"],
		map[string]any{"title": "Test", "level": "normal", "school_id": c.a.WID.String()}), 403)
	wantStatus(t, c.v.do(http.MethodPost, "/v1/events", c.tokens["public reader"],
		map[string]any{"title": "Test", "level": "normal", "user_id": c.ids["student A"].String()}), 403)
	wantStatus(t, c.v.do(http.MethodPost, "/v1/events", c.tokens["public reader"],
		map[string]any{"title": "Test", "level": "nope"}), 422)

	tasks := evTasks(t, c.v)
	if len(tasks) != 4 {
		t.Errorf("%d process-event tasks, want 4: %v", len(tasks), tasks)
	}
	rows, err := c.v.super.Query(context.Background(), `SELECT id, title FROM events WHERE user_id = $1`, reader)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	processed := map[string]bool{"Huey: Book reviewed": true, "Reader timeline event: Reading logged": true,
		"Subscription started": true, "Test": true}
	n := 0
	for rows.Next() {
		var (
			id    uuid.UUID
			title string
		)
		if err := rows.Scan(&id, &title); err != nil {
			t.Fatal(err)
		}
		n++
		p, ok := tasks["process-event:"+id.String()]
		if ok != processed[title] {
			t.Errorf("%q: task %v, want %v", title, ok, processed[title])
			continue
		}
		if ok && (p["event_id"] != id.String() || p["title"] != title || !jsonEqual(p["info"],
			map[string]any{"description": "", "isbn": "9780000000001", "liked": true})) {
			t.Errorf("%q: payload %v", title, p)
		}
	}
	if n != 8 {
		t.Errorf("%d events recorded, want 8", n)
	}
	var by uuid.UUID
	if err := c.v.super.QueryRow(context.Background(), `SELECT enqueued_by_user_id FROM task_queue LIMIT 1`).Scan(&by); err != nil || by != reader {
		t.Errorf("enqueued by %v (%v), want the reader", by, err)
	}
}

// Concurrent creations each get their own task (the key is the event id).
func TestEventCreateConcurrentTasks(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			rec := c.v.do(http.MethodPost, "/v1/events", c.tokens["backend"], map[string]any{"title": "Test", "level": "debug"})
			if rec.Code != 200 {
				t.Errorf("status %d", rec.Code)
			}
		})
	}
	wg.Wait()
	if n := len(evTasks(t, c.v)); n != 6 {
		t.Errorf("%d tasks, want 6", n)
	}
}

func TestEventRoutesMatchTheDocument(t *testing.T) {
	t.Parallel()
	f := newEvFixture(t)
	rc := newResponseChecker(t, f.v)
	admin, reader := f.tokens["admin"], f.tokens["public reader"]
	rc.do(http.MethodGet, "/v1/events", admin, nil, 200)
	rc.do(http.MethodGet, "/v1/events", reader, nil, 403)
	rc.do(http.MethodGet, "/v1/events", "", nil, 401)
	rc.do(http.MethodGet, "/v1/events?user_id="+f.reader.String()+"&level=normal&query=reader&match_prefix=1", reader, nil, 200)
	rc.do(http.MethodGet, "/v1/events?school_id="+uuid.NewString(), admin, nil, 404)
	rc.do(http.MethodGet, "/v1/events?school_id=x", admin, nil, 422)
	rc.do(http.MethodGet, "/v1/events?info_jsonpath_match=%24.%5B", admin, nil, 400)
	rc.do(http.MethodGet, "/v1/event-types", reader, nil, 200)
	rc.do(http.MethodGet, "/v1/event-types?level=x", reader, nil, 422)
	kioskA := f.v.serviceAccount("kiosk A", "KIOSK", f.a)
	rc.do(http.MethodPost, "/v1/events", f.v.saToken(kioskA), map[string]any{"title": "t", "level": "debug", "school_id": f.a.WID.String()}, 200)
	rc.do(http.MethodPost, "/v1/events", f.tokens["kiosk"], map[string]any{"title": "t", "level": "debug", "school_id": f.a.WID.String()}, 403)
	rc.do(http.MethodPost, "/v1/events", reader, map[string]any{"title": "t", "level": "debug"}, 200)
	rc.do(http.MethodPost, "/v1/events", reader, map[string]any{"title": "t", "level": "debug", "school_id": f.a.WID.String()}, 403)
	rc.do(http.MethodPost, "/v1/events", reader, map[string]any{"title": "t", "level": "debug", "user_id": uuid.NewString()}, 404)
	rc.do(http.MethodPost, "/v1/events", reader, map[string]any{"title": "t"}, 422)
}

// With a warm principal cache a list is one database round trip: claims,
// the filters' attribute look-ups and the page in one batch (DECISIONS §4).
func TestEventListIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	pool, writes := v.db.CountingPool(t, dbtest.RoleAPI, 0)
	v = newEnvOn(t, v, pool)
	sch := v.school("Trips", "ACTIVE")
	admin := v.user("Trip Admin", "SCHOOL_ADMIN", &sch)
	evInsert(t, v, "Trip", "NORMAL", &sch.ID, &admin, nil, `{}`, evTime(0))
	tok := v.userToken(admin)
	for _, path := range []string{"/v1/events?school_id=" + sch.WID.String(),
		"/v1/events?user_id=" + admin.String() + "&school_id=" + sch.WID.String() + "&info_jsonpath_match=%28%24.a+%3D%3D+1%29",
		"/v1/event-types"} {
		wantStatus(t, v.do(http.MethodGet, path, tok, nil), http.StatusOK) // warms caches
		before := writes.Load()
		wantStatus(t, v.do(http.MethodGet, path, tok, nil), http.StatusOK)
		if n := writes.Load() - before; n != 1 {
			t.Errorf("GET %s took %d round trips, want 1", path, n)
		}
	}
}

// Issue 17: a staff script's audit event — recorded as the scripts record it,
// a job role under staff claims through huey.staff_record_event — is listed
// by GET /v1/events to an admin, with who and the counts; other accounts'
// global listing stays refused.
func TestStaffScriptEventsReachAdmins(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	ctx := context.Background()
	tx := dbtest.Tx(t, c.v.db.Pool(t, dbtest.RoleStaffRW))
	if _, err := tx.Exec(ctx, `SELECT set_config('role', 'huey_job_deactivate_account', true),
		set_config('request.jwt.claims', '{"kind":"staff","principals":["staff:deactivate-account"]}', true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT huey.staff_record_event('deactivate-account', 'ana', 'Deactivated user x', $1, '{"deactivated": 1}')`,
		c.a.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	path := "/v1/events?query=" + url.QueryEscape("Staff:") + "&match_prefix=true"
	rec := c.v.do(http.MethodGet, path, c.tokens["admin"], nil)
	wantStatus(t, rec, 200)
	data := decode[map[string]any](t, rec)["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("admin sees %d staff events, want 1", len(data))
	}
	ev := data[0].(map[string]any)
	info, _ := ev["info"].(map[string]any)
	if ev["title"] != "Staff: deactivate-account" || ev["description"] != "Deactivated user x" || info["staff_actor"] != "ana" ||
		info["staff_login"] != dbtest.RoleStaffRW || info["deactivated"] != float64(1) {
		t.Errorf("staff event %v", ev)
	}
	wantStatus(t, c.v.do(http.MethodGet, path, c.tokens["schooladmin A"], nil), 403)
}
