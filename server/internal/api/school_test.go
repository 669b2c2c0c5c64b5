package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// cast is the set of callers every school scenario table is run against:
// school A is the subject, school B another school.
type cast struct {
	v      *env
	a, b   school
	tokens map[string]string
	ids    map[string]uuid.UUID
}

func newCast(t testing.TB, opts ...envOption) *cast {
	t.Helper()
	v := newEnv(t, opts...)
	c := &cast{v: v, a: v.school("School A", "ACTIVE"), b: v.school("School B", "ACTIVE"),
		tokens: map[string]string{}, ids: map[string]uuid.UUID{}}
	users := []struct {
		name, typ string
		sch       *school
	}{
		{"admin", "WRIVETED", nil},
		{"schooladmin A", "SCHOOL_ADMIN", &c.a},
		{"schooladmin B", "SCHOOL_ADMIN", &c.b},
		{"educator A", "EDUCATOR", &c.a},
		{"educator B", "EDUCATOR", &c.b},
		{"student A", "STUDENT", &c.a},
		{"public reader", "PUBLIC", nil},
		{"parent", "PARENT", nil},
		{"supporter", "SUPPORTER", nil},
	}
	for _, u := range users {
		id := v.user(u.name, u.typ, u.sch)
		c.ids[u.name], c.tokens[u.name] = id, v.userToken(id)
	}
	sas := []struct {
		name, typ string
		schools   []school
	}{
		{"backend", "BACKEND", nil},
		{"lms linked A", "LMS", []school{c.a}},
		{"lms unlinked", "LMS", []school{c.b}},
		{"school sa A", "SCHOOL", []school{c.a}},
		{"kiosk", "KIOSK", nil},
	}
	for _, s := range sas {
		id := v.serviceAccount(s.name, s.typ, s.schools...)
		c.ids[s.name], c.tokens[s.name] = id, v.saToken(id)
	}
	c.tokens["anonymous"] = ""
	return c
}

// every lists all callers, so a scenario table that forgets one fails.
var everyCaller = []string{"anonymous", "admin", "backend", "schooladmin A", "schooladmin B", "educator A",
	"educator B", "student A", "public reader", "parent", "supporter", "lms linked A", "lms unlinked",
	"school sa A", "kiosk"}

func (c *cast) run(t *testing.T, method string, path func() string, body any, want map[string]int) {
	t.Helper()
	for _, who := range everyCaller {
		if _, ok := want[who]; !ok {
			t.Fatalf("scenario table lacks caller %q", who)
		}
	}
	for _, who := range everyCaller {
		rec := c.v.do(method, path(), c.tokens[who], body)
		if rec.Code != want[who] {
			t.Errorf("%s %s as %s: status %d, want %d: %s", method, path(), who, rec.Code, want[who], rec.Body)
		}
	}
}

// statuses builds a table: every caller gets def, except the listed ones.
func statuses(def int, except map[string]int) map[string]int {
	out := map[string]int{}
	for _, who := range everyCaller {
		out[who] = def
	}
	for k, v := range except {
		out[k] = v
	}
	return out
}

func TestF6SchoolDetailScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	want := statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "lms linked A": 200,
		"school sa A": 200, "educator A": 200, "student A": 200, // F6
	})
	for _, p := range []string{"", "/bot", "/bookbot"} {
		c.run(t, http.MethodGet, func() string { return "/v1/school/" + c.a.WID.String() + p }, nil, want)
	}
	// Redaction: educators and students of the school see it without state or
	// collection; its admins and linked accounts see both.
	c.v.exec(`INSERT INTO collections (school_id, name) VALUES ($1, 'A books')`, c.a.WID)
	for who, full := range map[string]bool{"admin": true, "schooladmin A": true, "lms linked A": true,
		"educator A": false, "student A": false} {
		got := decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/school/"+c.a.WID.String(), c.tokens[who], nil))
		if (got["state"] != nil) != full || (got["collection"] != nil) != full {
			t.Errorf("%s: state=%v collection=%v, want visible=%v", who, got["state"], got["collection"], full)
		}
		if got["name"] != "School A" {
			t.Errorf("%s: name %v", who, got["name"])
		}
	}
}

func TestSchoolDetailShape(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	got := decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/school/"+c.a.WID.String(), c.tokens["admin"], nil))
	for _, k := range []string{"wriveted_identifier", "name", "official_identifier", "country_code", "state",
		"subscription", "collection", "country", "info", "admins", "lms_type", "bookbot_type", "created_at",
		"updated_at", "student_domain", "teacher_domain", "booklists"} {
		if _, ok := got[k]; !ok {
			t.Errorf("SchoolDetail lacks %q", k)
		}
	}
	if got["state"] != "active" || got["bookbot_type"] != "huey_books" || got["lms_type"] != "none" {
		t.Errorf("enums: %v %v %v", got["state"], got["bookbot_type"], got["lms_type"])
	}
	country := got["country"].(map[string]any)
	if country["id"] != "NZL" || country["name"] != "New Zealand" {
		t.Errorf("country %v", country)
	}
	admins := got["admins"].([]any)
	if len(admins) != 1 || admins[0].(map[string]any)["id"] != c.ids["schooladmin A"].String() ||
		admins[0].(map[string]any)["type"] != "school_admin" {
		t.Errorf("admins %v", admins)
	}
	// The school's educators may read its staff accounts (access.md §6.1), so
	// they see its admins; its students do not see the admins' e-mail addresses.
	got = decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/school/"+c.a.WID.String(), c.tokens["educator A"], nil))
	if len(got["admins"].([]any)) != 1 {
		t.Errorf("educator sees admins: %v", got["admins"])
	}
	got = decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/school/"+c.a.WID.String(), c.tokens["student A"], nil))
	if len(got["admins"].([]any)) != 0 {
		t.Errorf("student sees admins: %v", got["admins"])
	}
	bot := decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/school/"+c.a.WID.String()+"/bot", c.tokens["student A"], nil))
	if bot["name"] != "School A" || bot["type"] != "huey_books" || bot["supporter"] != false ||
		bot["experiments"].(map[string]any)["no-jokes"] != false {
		t.Errorf("bot %v", bot)
	}
}

func TestSchoolNotFoundAndBadIDs(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	missing := uuid.NewString()
	rec := c.v.do(http.MethodGet, "/v1/school/"+missing, c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusNotFound)
	if d := decode[map[string]any](t, rec)["detail"]; d != "School with wriveted_id "+missing+" not found." {
		t.Errorf("detail %v", d)
	}
	for _, p := range []string{"/v1/school/not-a-uuid", "/v1/school/not-a-uuid/exists", "/v1/school/123/bot"} {
		rec := c.v.do(http.MethodGet, p, c.tokens["admin"], nil)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		d := decode[map[string]any](t, rec)["detail"].([]any)[0].(map[string]any)
		if d["loc"].([]any)[0] != "path" {
			t.Errorf("%s: loc %v", p, d["loc"])
		}
	}
}

func TestSchoolExistsIsPublic(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	rec := c.v.do(http.MethodGet, "/v1/school/"+c.a.WID.String()+"/exists", "", nil)
	wantStatus(t, rec, http.StatusOK)
	if rec.Body.String() != "true\n" {
		t.Errorf("body %q", rec.Body)
	}
	wantStatus(t, c.v.do(http.MethodGet, "/v1/school/"+uuid.NewString()+"/exists", "", nil), http.StatusNotFound)
}

func TestF2SchoolListScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	c.run(t, http.MethodGet, func() string { return "/v1/schools" }, nil,
		statuses(http.StatusOK, map[string]int{"anonymous": 401}))
	list := func(who, query string) []map[string]any {
		rec := c.v.do(http.MethodGet, "/v1/schools"+query, c.tokens[who], nil)
		wantStatus(t, rec, http.StatusOK)
		return decode[[]map[string]any](t, rec)
	}
	// Every signed-in caller sees every school; state only where it has details.
	for _, who := range []string{"admin", "student A", "kiosk", "lms linked A", "schooladmin B"} {
		rows := list(who, "")
		if len(rows) != 2 {
			t.Fatalf("%s sees %d schools", who, len(rows))
		}
		for _, r := range rows {
			wantState := who == "admin" || (who == "lms linked A" && r["name"] == "School A") ||
				(who == "schooladmin B" && r["name"] == "School B")
			if (r["state"] != nil) != wantState {
				t.Errorf("%s, %s: state %v, want visible=%v", who, r["name"], r["state"], wantState)
			}
		}
	}
	// Filters, ordering and paging.
	if rows := list("admin", "?q=school%20a"); len(rows) != 1 || rows[0]["name"] != "School A" {
		t.Errorf("q filter: %v", rows)
	}
	if rows := list("admin", "?country_code=AUS"); len(rows) != 0 {
		t.Errorf("country filter: %v", rows)
	}
	if rows := list("admin", "?postcode=1010&state=Auckland"); len(rows) != 2 {
		t.Errorf("location filters: %d rows", len(rows))
	}
	if rows := list("admin", "?official_identifier=OFF-School%20B"); len(rows) != 1 || rows[0]["name"] != "School B" {
		t.Errorf("official_identifier filter: %v", rows)
	}
	if rows := list("admin", "?limit=1"); len(rows) != 1 || rows[0]["name"] != "School B" {
		t.Errorf("newest first, limit 1: %v", rows)
	}
	if rows := list("admin", "?skip=1&limit=1"); len(rows) != 1 || rows[0]["name"] != "School A" {
		t.Errorf("skip 1: %v", rows)
	}
	c.v.exec(`UPDATE schools SET state = 'INACTIVE' WHERE id = $1`, c.b.ID)
	if rows := list("admin", "?is_active=true"); len(rows) != 1 || rows[0]["name"] != "School A" {
		t.Errorf("is_active for admins: %v", rows)
	}
	if rows := list("student A", "?is_active=true"); len(rows) != 2 {
		t.Errorf("is_active is ignored without details: %d rows", len(rows))
	}
	c.v.exec(`INSERT INTO collections (school_id, name) VALUES ($1, 'A books')`, c.a.WID)
	c.v.exec(`INSERT INTO collection_items (collection_id, copies_available, copies_total)
		SELECT id, 1, 1 FROM collections WHERE school_id = $1`, c.a.WID)
	if rows := list("admin", "?connected_collection=true"); len(rows) != 1 || rows[0]["name"] != "School A" {
		t.Errorf("connected_collection=true: %v", rows)
	}
	if rows := list("admin", "?connected_collection=false"); len(rows) != 1 || rows[0]["name"] != "School B" {
		t.Errorf("connected_collection=false (intended: no collection or empty): %v", rows)
	}
	for _, q := range []string{"?limit=x", "?skip=-1", "?is_active=maybe"} {
		wantStatus(t, c.v.do(http.MethodGet, "/v1/schools"+q, c.tokens["admin"], nil), http.StatusUnprocessableEntity)
	}
}

func schoolBody(name, official string) map[string]any {
	return map[string]any{"name": name, "country_code": "NZL", "official_identifier": official,
		"info": map[string]any{"location": map[string]any{"state": "Otago", "postcode": "9016"}}}
}

func TestF4SchoolCreateScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	n := 0
	body := func() any { n++; return schoolBody("New School", "NEW-"+string(rune('a'+n))) }
	for _, who := range everyCaller {
		want := http.StatusOK
		switch who {
		case "anonymous":
			want = http.StatusUnauthorized
		case "lms linked A", "lms unlinked":
			want = http.StatusForbidden // F4
		}
		rec := c.v.do(http.MethodPost, "/v1/school", c.tokens[who], body())
		if rec.Code != want {
			t.Errorf("POST /v1/school as %s: %d, want %d: %s", who, rec.Code, want, rec.Body)
		}
		// the creator is shown what it created, whatever it may read later (issue 12: a reader saw state null)
		if rec.Code == http.StatusOK && decode[map[string]any](t, rec)["state"] != "inactive" {
			t.Errorf("POST /v1/school as %s: state %v, want inactive", who, decode[map[string]any](t, rec)["state"])
		}
	}
	// A new school starts inactive, whoever creates it (F4), with the defaults.
	rec := c.v.do(http.MethodPost, "/v1/school", c.tokens["admin"], schoolBody("Admin School", "ADM-1"))
	wantStatus(t, rec, http.StatusOK)
	got := decode[map[string]any](t, rec)
	if got["state"] != "inactive" || got["bookbot_type"] != "huey_books" || got["lms_type"] != "none" {
		t.Errorf("defaults: %v", got)
	}
	info := got["info"].(map[string]any)
	if exp := info["experiments"].(map[string]any); exp["no-jokes"] != false || exp["no-choice-option"] != true {
		t.Errorf("experiments %v", exp)
	}
	if n := c.v.scalar(`SELECT count(*) FROM events WHERE title = 'New school created' AND school_id IS NOT NULL`); n.(int64) < 1 {
		t.Errorf("no 'New school created' event")
	}
	// Duplicates and unknown countries are 422 with the original's message.
	rec = c.v.do(http.MethodPost, "/v1/school", c.tokens["admin"], schoolBody("Again", "ADM-1"))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	bad := schoolBody("Nowhere", "X-1")
	bad["country_code"] = "ZZZ"
	wantStatus(t, c.v.do(http.MethodPost, "/v1/school", c.tokens["admin"], bad), http.StatusUnprocessableEntity)
	// Validation: missing name, long name, bad country code, missing location, bad URL.
	for name, mutate := range map[string]func(map[string]any){
		"no name":      func(b map[string]any) { delete(b, "name") },
		"long name":    func(b map[string]any) { b["name"] = string(make([]byte, 300)) },
		"country":      func(b map[string]any) { b["country_code"] = "NZ" },
		"no location":  func(b map[string]any) { b["info"] = map[string]any{} },
		"bad domain":   func(b map[string]any) { b["student_domain"] = "not a url" },
		"bad bookbot":  func(b map[string]any) { b["bookbot_type"] = "robots" },
		"info not obj": func(b map[string]any) { b["info"] = "text" },
	} {
		b := schoolBody("Valid", "V-"+name)
		mutate(b)
		rec := c.v.do(http.MethodPost, "/v1/school", c.tokens["admin"], b)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	wantStatus(t, c.v.do(http.MethodPost, "/v1/school", c.tokens["admin"], "{not json"), http.StatusUnprocessableEntity)
	// Nothing half-written: only the successful creations exist.
	if n := c.v.scalar(`SELECT count(*) FROM schools`).(int64); n != int64(2+len(everyCaller)-3+1) {
		t.Errorf("schools after the run: %d", n)
	}
}

func TestSchoolBulkCreate(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	body := []any{schoolBody("Bulk 1", "B-1"), schoolBody("Bulk 2", "B-2")}
	c.run(t, http.MethodPost, func() string { return "/v1/schools" }, []any{},
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200}))
	rec := c.v.do(http.MethodPost, "/v1/schools", c.tokens["admin"], body)
	wantStatus(t, rec, http.StatusOK)
	if got := decode[map[string]string](t, rec)["msg"]; got != "Added 2 new schools" {
		t.Errorf("msg %q", got)
	}
	// A duplicate in the batch rolls the whole batch back.
	before := c.v.scalar(`SELECT count(*) FROM schools`).(int64)
	rec = c.v.do(http.MethodPost, "/v1/schools", c.tokens["admin"], []any{schoolBody("Bulk 3", "B-3"), schoolBody("Bulk 1 again", "B-1")})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if after := c.v.scalar(`SELECT count(*) FROM schools`).(int64); after != before {
		t.Errorf("a failed batch left %d schools behind", after-before)
	}
}

func TestSchoolPatchScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	want := statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "schooladmin A": 200, "lms linked A": 200, "school sa A": 200,
	})
	c.run(t, http.MethodPatch, func() string { return "/v1/school/" + c.a.WID.String() },
		map[string]any{"name": "School A"}, want)
	// info is deep-merged, terms acceptance recorded, state reserved to admins.
	rec := c.v.do(http.MethodPatch, "/v1/school/"+c.a.WID.String(), c.tokens["schooladmin A"], map[string]any{
		"info": map[string]any{"location": map[string]any{"suburb": "Ponsonby"},
			"terms_acceptance": map[string]any{"huey_books": map[string]any{"version": "2", "accepted_at": "2026-11-27"}}},
		"lms_type": "accessit", "student_domain": "https://students.example.org",
	})
	wantStatus(t, rec, http.StatusOK)
	got := decode[map[string]any](t, rec)
	loc := got["info"].(map[string]any)["location"].(map[string]any)
	if loc["suburb"] != "Ponsonby" || loc["postcode"] != "1010" || got["lms_type"] != "accessit" ||
		got["student_domain"] != "https://students.example.org/" {
		t.Errorf("patched: %v", got)
	}
	titles := func() []string {
		rows, err := c.v.super.Query(t.Context(), `SELECT title FROM events WHERE school_id = $1 ORDER BY timestamp`, c.a.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			out = append(out, s)
		}
		return out
	}
	if ts := titles(); !slices.Contains(ts, "Huey Books terms accepted") || !slices.Contains(ts, "School Updated") {
		t.Errorf("events %v", ts)
	}
	// the acceptor recorded is the caller, whatever the body claims (issue 12)
	rec = c.v.do(http.MethodPatch, "/v1/school/"+c.a.WID.String(), c.tokens["schooladmin A"], map[string]any{
		"info": map[string]any{"terms_acceptance": map[string]any{"huey_books": map[string]any{"version": "3",
			"accepted_at": "2026-12-01", "accepted_by_user_id": c.ids["admin"].String()}}}})
	wantStatus(t, rec, http.StatusOK)
	me := c.ids["schooladmin A"].String()
	if by := c.v.scalar(`SELECT info #>> '{terms_acceptance,huey_books,accepted_by_user_id}' FROM schools WHERE id = $1`, c.a.ID); by != me {
		t.Errorf("stored acceptor %v, want the caller %s", by, me)
	}
	// (a second acceptance is recorded too: the old terms were compared after being merged into)
	if by := c.v.scalar(`SELECT info ->> 'accepted_by_user_id' FROM events WHERE school_id = $1 AND title = 'Huey Books terms accepted'
		AND info ->> 'terms_version' = '3'`, c.a.ID); by != me {
		t.Errorf("event's acceptor %v, want the caller %s", by, me)
	}
	wantStatus(t, c.v.do(http.MethodPatch, "/v1/school/"+c.a.WID.String(), c.tokens["schooladmin A"],
		map[string]any{"status": "inactive"}), http.StatusForbidden)
	rec = c.v.do(http.MethodPatch, "/v1/school/"+c.a.WID.String(), c.tokens["admin"], map[string]any{"status": "INACTIVE"})
	wantStatus(t, rec, http.StatusOK)
	if st := decode[map[string]any](t, rec)["state"]; st != "inactive" {
		t.Errorf("state %v", st)
	}
	if ts := titles(); !slices.Contains(ts, "School account made INACTIVE") {
		t.Errorf("events %v", ts)
	}
	wantStatus(t, c.v.do(http.MethodPatch, "/v1/school/"+c.a.WID.String(), c.tokens["admin"], map[string]any{"status": "closed"}),
		http.StatusUnprocessableEntity)
	wantStatus(t, c.v.do(http.MethodPatch, "/v1/school/"+uuid.NewString(), c.tokens["admin"], map[string]any{"name": "x"}),
		http.StatusNotFound)
}

func TestF18SchoolDeleteScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	want := statuses(http.StatusForbidden, map[string]int{"anonymous": 401})
	// Non-admins: all refused (F18), the school stays.
	for _, who := range everyCaller {
		if who == "admin" || who == "backend" {
			continue
		}
		rec := c.v.do(http.MethodDelete, "/v1/school/"+c.b.WID.String(), c.tokens[who], nil)
		if rec.Code != want[who] {
			t.Errorf("DELETE as %s: %d, want %d", who, rec.Code, want[who])
		}
	}
	if n := c.v.scalar(`SELECT count(*) FROM schools WHERE id = $1`, c.b.ID).(int64); n != 1 {
		t.Fatal("school B deleted by a non-admin")
	}
	// A school linked to a service account is refused with 409, untouched.
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/school/"+c.b.WID.String(), c.tokens["admin"], nil), http.StatusConflict)
	c.v.exec(`DELETE FROM service_account_school_association WHERE school_id = $1`, c.b.ID)
	rec := c.v.do(http.MethodDelete, "/v1/school/"+c.b.WID.String(), c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusOK)
	if got := decode[map[string]string](t, rec)["msg"]; got != "School deleted" {
		t.Errorf("msg %q", got)
	}
	// Its staff became inactive public readers, whole (readers + public_readers rows).
	var typ string
	var active bool
	var whole bool
	if err := c.v.super.QueryRow(t.Context(), `SELECT u.type::text, u.is_active,
		EXISTS (SELECT 1 FROM public_readers p JOIN readers r ON r.id = p.id WHERE p.id = u.id)
		FROM users u WHERE u.id = $1`, c.ids["schooladmin B"]).Scan(&typ, &active, &whole); err != nil {
		t.Fatal(err)
	}
	if typ != "PUBLIC" || active || !whole {
		t.Errorf("demoted admin: type %s active %v whole %v", typ, active, whole)
	}
	wantStatus(t, c.v.do(http.MethodGet, "/v1/school/"+c.b.WID.String(), c.tokens["admin"], nil), http.StatusNotFound)
	// The demoted admin's token now gets the original's inactive answer.
	wantStatus(t, c.v.do(http.MethodGet, "/v1/auth/me", c.tokens["schooladmin B"], nil), http.StatusBadRequest)
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/school/"+c.a.WID.String(), c.tokens["backend"], nil), http.StatusConflict)
}

func TestSchoolBindAdmin(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	want := statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 401, "backend": 401, "schooladmin A": 409,
	})
	c.run(t, http.MethodPatch, func() string { return "/v1/school/" + c.a.WID.String() + "/admin" }, nil, want)
}
