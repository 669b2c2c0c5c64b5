package api_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// Service accounts (api.md §2.4): scenario tables over every caller of the
// school cast, then behaviour.

// adminOnly is the ADMIN guard's table: Wriveted admins and backend service
// accounts pass, anonymous callers 401, everyone else 403.
func adminOnly() map[string]int {
	return statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200})
}

func detailString(t *testing.T, body map[string]any) string {
	t.Helper()
	s, _ := body["detail"].(string)
	return s
}

func TestServiceAccountListScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	c.run(t, http.MethodGet, func() string { return "/v1/service-accounts" }, nil, adminOnly())
	c.run(t, http.MethodGet, func() string { return "/v1/service-accounts?include_inactive=true&skip=0&limit=5" }, nil, adminOnly())
}

func TestServiceAccountCreateScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	before := c.v.scalar(`SELECT count(*) FROM service_accounts`).(int64)
	c.run(t, http.MethodPost, func() string { return "/v1/service-account" },
		map[string]any{"name": "Scenario kiosk", "type": "kiosk"}, adminOnly())
	if n := c.v.scalar(`SELECT count(*) FROM service_accounts`).(int64) - before; n != 2 {
		t.Errorf("%d accounts created, want 2 (admin, backend)", n)
	}
}

func TestServiceAccountDetailScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	id := c.ids["kiosk"].String()
	c.run(t, http.MethodGet, func() string { return "/v1/service-account/" + id }, nil, adminOnly())
	// The decision comes before validation (DECISIONS §4): a bad id is 403
	// for a refused caller, 422 for an admin.
	bad := statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 422, "backend": 422})
	c.run(t, http.MethodGet, func() string { return "/v1/service-account/not-a-uuid" }, nil, bad)
}

func TestServiceAccountUpdateScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	id := c.ids["kiosk"].String()
	c.run(t, http.MethodPut, func() string { return "/v1/service-account/" + id },
		map[string]any{"name": "kiosk"}, adminOnly())
}

func TestServiceAccountDeleteScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	target := c.v.serviceAccount("target", "KIOSK").String()
	// SUPERUSER: only the Wriveted admin user.
	want := statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200})
	c.run(t, http.MethodDelete, func() string { return "/v1/service-account/" + target }, nil, want)
	// The guards' messages (api.md §0.2): a service account that passes ADMIN
	// is told the route needs a user; everyone else lacks privileges.
	for who, msg := range map[string]string{
		"backend": "API requires a user", "lms linked A": "Insufficient privileges", "kiosk": "Insufficient privileges",
		"educator A": "Insufficient privileges", "schooladmin A": "Insufficient privileges", "public reader": "Insufficient privileges",
	} {
		rec := c.v.do(http.MethodDelete, "/v1/service-account/"+target, c.tokens[who], nil)
		wantStatus(t, rec, http.StatusForbidden)
		if got := detailString(t, decode[map[string]any](t, rec)); got != msg {
			t.Errorf("DELETE as %s: detail %q, want %q", who, got, msg)
		}
	}
	for who, method := range map[string]string{"educator A": http.MethodGet, "lms linked A": http.MethodPost, "kiosk": http.MethodPut} {
		path := "/v1/service-account/" + target
		if method == http.MethodPost {
			path = "/v1/service-account"
		}
		rec := c.v.do(method, path, c.tokens[who], map[string]any{"name": "x", "type": "kiosk"})
		wantStatus(t, rec, http.StatusForbidden)
		if got := detailString(t, decode[map[string]any](t, rec)); got != "Insufficient privileges" {
			t.Errorf("%s as %s: detail %q", method, who, got)
		}
	}
	// Bad and unknown ids, for the one caller that gets that far.
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/service-account/123", c.tokens["admin"], nil), http.StatusUnprocessableEntity)
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/service-account/123", c.tokens["backend"], nil), http.StatusForbidden)
	missing := uuid.NewString()
	rec := c.v.do(http.MethodDelete, "/v1/service-account/"+missing, c.tokens["admin"], nil)
	wantStatus(t, rec, http.StatusNotFound)
	if got := detailString(t, decode[map[string]any](t, rec)); got != "ServiceAccount with id "+missing+" not found." {
		t.Errorf("detail %q", got)
	}
}

// createSA creates a service account through the API as the cast's admin.
func (c *cast) createSA(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	rec := c.v.do(http.MethodPost, "/v1/service-account", c.tokens["admin"], body)
	wantStatus(t, rec, http.StatusOK)
	return decode[map[string]any](t, rec)
}

func schoolRefs(ss ...school) []any {
	out := []any{}
	for _, s := range ss {
		out = append(out, map[string]any{"wriveted_identifier": s.WID.String(), "name": "ignored"})
	}
	return out
}

// schoolIDsOf lists the wriveted identifiers of a ServiceAccountDetail's schools.
func schoolIDsOf(d map[string]any) []string {
	var out []string
	for _, s := range d["schools"].([]any) {
		out = append(out, s.(map[string]any)["wriveted_identifier"].(string))
	}
	slices.Sort(out)
	return out
}

func TestServiceAccountCreateIssuesAScopedToken(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	got := c.createSA(t, map[string]any{"name": "Accessit LMS", "type": "LMS", "schools": schoolRefs(c.a)})
	id, _ := got["id"].(string)
	tok, _ := got["access_token"].(string)
	if got["name"] != "Accessit LMS" || got["type"] != "lms" || got["is_active"] != true || tok == "" || uuid.Validate(id) != nil {
		t.Fatalf("created %v", got)
	}
	if len(got) != 5 {
		t.Errorf("ServiceAccountCreatedResponse has keys %v", got)
	}
	// The token authenticates as the new account, for two years.
	rec := c.v.do(http.MethodGet, "/v1/auth/me", tok, nil)
	wantStatus(t, rec, http.StatusOK)
	me := decode[map[string]any](t, rec)
	sa, _ := me["service_account"].(map[string]any)
	if me["account_type"] != "service_account" || sa["id"] != id || sa["type"] != "lms" || me["user"] != nil {
		t.Errorf("/auth/me %v", me)
	}
	exp, err := time.Parse(time.RFC3339, me["token_expiry"].(string))
	if want := time.Now().Add(1_051_200 * time.Minute); err != nil || exp.Sub(want).Abs() > time.Minute {
		t.Errorf("token_expiry %v, want about %v", me["token_expiry"], want)
	}
	// Its linked school scopes it (F2).
	wantStatus(t, c.v.do(http.MethodGet, "/v1/school/"+c.a.WID.String(), tok, nil), http.StatusOK)
	wantStatus(t, c.v.do(http.MethodGet, "/v1/school/"+c.b.WID.String(), tok, nil), http.StatusForbidden)
	wantStatus(t, c.v.do(http.MethodGet, "/v1/service-accounts", tok, nil), http.StatusForbidden)
	// Stored as the spec says: active, info {}, linked; the event names the caller.
	var info string
	var active bool
	if err := c.v.super.QueryRow(t.Context(), `SELECT info::text, is_active FROM service_accounts WHERE id = $1`, id).
		Scan(&info, &active); err != nil || info != "{}" || !active {
		t.Errorf("stored info %q active %v: %v", info, active, err)
	}
	var title, desc string
	var userID, saID *uuid.UUID
	if err := c.v.super.QueryRow(t.Context(), `SELECT title, info ->> 'description', user_id, service_account_id
		FROM events WHERE title = 'Service account created'`).Scan(&title, &desc, &userID, &saID); err != nil {
		t.Fatal(err)
	}
	if desc != "Service account 'Accessit LMS' created by 'admin'" || userID == nil || *userID != c.ids["admin"] || saID != nil {
		t.Errorf("event %q %q user %v sa %v", title, desc, userID, saID)
	}
	// A backend service account creates too; the event is then its own.
	got = decode[map[string]any](t, c.v.do(http.MethodPost, "/v1/service-account", c.tokens["backend"],
		map[string]any{"name": "Made by backend", "type": "school", "info": map[string]any{"note": "hi"}}))
	if got["type"] != "school" {
		t.Errorf("created %v", got)
	}
	if n := c.v.scalar(`SELECT count(*) FROM events WHERE title = 'Service account created' AND service_account_id = $1
		AND info ->> 'description' = 'Service account ''Made by backend'' created by ''backend'''`, c.ids["backend"]).(int64); n != 1 {
		t.Errorf("backend's event: %d", n)
	}
	// Enum input: values, or names case-insensitively (api.md §0.6).
	for _, typ := range []string{"backend", "BACKEND", "Kiosk", "school", "lMs"} {
		rec := c.v.do(http.MethodPost, "/v1/service-account", c.tokens["admin"], map[string]any{"name": "t " + typ, "type": typ})
		wantStatus(t, rec, http.StatusOK)
		if got := decode[map[string]any](t, rec)["type"]; got != strings.ToLower(typ) {
			t.Errorf("type %s stored as %v", typ, got)
		}
	}
}

func TestServiceAccountCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	count := func() [2]int64 {
		return [2]int64{c.v.scalar(`SELECT count(*) FROM service_accounts`).(int64),
			c.v.scalar(`SELECT count(*) FROM service_account_school_association`).(int64) +
				c.v.scalar(`SELECT count(*) FROM events`).(int64)}
	}
	before := count()
	// An unknown school: 404 in the original's words, and nothing written
	// (not the account, not the known school's link, not the event).
	unknown := uuid.NewString()
	rec := c.v.do(http.MethodPost, "/v1/service-account", c.tokens["admin"], map[string]any{"name": "Half", "type": "lms",
		"schools": append(schoolRefs(c.a), map[string]any{"wriveted_identifier": unknown})})
	wantStatus(t, rec, http.StatusNotFound)
	if got := detailString(t, decode[map[string]any](t, rec)); got != "School with wriveted_id "+unknown+" not found." {
		t.Errorf("detail %q", got)
	}
	type want struct {
		typ string
		loc []any
	}
	for name, tc := range map[string]struct {
		body any
		want want
	}{
		"no name":          {map[string]any{"type": "lms"}, want{"missing", []any{"body", "name"}}},
		"no type":          {map[string]any{"name": "x"}, want{"missing", []any{"body", "type"}}},
		"bad type":         {map[string]any{"name": "x", "type": "robot"}, want{"enum", []any{"body", "type"}}},
		"value-like name":  {map[string]any{"name": "x", "type": "Regional"}, want{"enum", []any{"body", "type"}}},
		"name not string":  {map[string]any{"name": true, "type": "lms"}, want{"string_type", []any{"body", "name"}}},
		"info not object":  {map[string]any{"name": "x", "type": "lms", "info": "text"}, want{"dict_type", []any{"body", "info"}}},
		"info list":        {map[string]any{"name": "x", "type": "lms", "info": []any{1}}, want{"dict_type", []any{"body", "info"}}},
		"schools not list": {map[string]any{"name": "x", "type": "lms", "schools": "A"}, want{"list_type", []any{"body", "schools"}}},
		"school bad uuid": {map[string]any{"name": "x", "type": "lms", "schools": []any{map[string]any{"wriveted_identifier": "nope"}}},
			want{"uuid_parsing", []any{"body", "schools", 0.0, "wriveted_identifier"}}},
		"school no id": {map[string]any{"name": "x", "type": "lms", "schools": []any{map[string]any{"name": "A"}}},
			want{"missing", []any{"body", "schools", 0.0, "wriveted_identifier"}}},
		"NUL in name":       {map[string]any{"name": "a\x00b", "type": "lms"}, want{"value_error", []any{"body", "name"}}},
		"NUL in info":       {map[string]any{"name": "x", "type": "lms", "info": map[string]any{"k": "a\x00"}}, want{"value_error", []any{"body", "info"}}},
		"NUL in info key":   {map[string]any{"name": "x", "type": "lms", "info": map[string]any{"a\x00": 1}}, want{"value_error", []any{"body", "info"}}},
		"number overflows":  {`{"name": "x", "type": "lms", "info": {"n": 1e400}}`, want{"value_error", []any{"body", "info"}}},
		"not json":          {"{name", want{"json_invalid", []any{"body"}}},
		"empty body":        {"", want{"missing", []any{"body"}}},
		"body not object":   {[]any{}, want{"dict_type", []any{"body"}}},
		"schools item type": {map[string]any{"name": "x", "type": "lms", "schools": []any{"A"}}, want{"dict_type", []any{"body", "schools", 0.0}}},
	} {
		rec := c.v.do(http.MethodPost, "/v1/service-account", c.tokens["admin"], tc.body)
		entries := detailOf(t, rec)
		if !hasEntry(entries, tc.want.typ, tc.want.loc, nil) {
			t.Errorf("%s: no {%s %v} in %s", name, tc.want.typ, tc.want.loc, rec.Body)
		}
	}
	if after := count(); after != before {
		t.Errorf("refused creations left rows behind: %v → %v", before, after)
	}
	// A huge number jsonb can hold, unicode and escapes are stored as given.
	rec = c.v.do(http.MethodPost, "/v1/service-account", c.tokens["admin"],
		`{"name": "Ünïcode 😀 <&>", "type": "kiosk", "info": {"big": 12345678901234567890, "nested": {"list": [1, "two", null]}}}`)
	wantStatus(t, rec, http.StatusOK)
	got := decode[map[string]any](t, rec)
	// Nesting is bounded (512 levels) before Postgres sees it; within the
	// bound, it is stored.
	nested := func(depth int) string {
		return `{"name": "deep", "type": "kiosk", "info": ` + strings.Repeat(`{"a":`, depth) + `1` + strings.Repeat(`}`, depth) + `}`
	}
	wantStatus(t, c.v.do(http.MethodPost, "/v1/service-account", c.tokens["admin"], nested(512)), http.StatusOK)
	if entries := detailOf(t, c.v.do(http.MethodPost, "/v1/service-account", c.tokens["admin"], nested(513))); !hasEntry(entries, "value_error", []any{"body", "info"}, nil) {
		t.Errorf("513 levels: %v", entries)
	}
	d := decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/service-account/"+got["id"].(string), c.tokens["admin"], nil))
	if d["name"] != "Ünïcode 😀 <&>" {
		t.Errorf("name %v", d["name"])
	}
	if big := c.v.scalar(`SELECT info ->> 'big' FROM service_accounts WHERE id = $1`, got["id"]); big != "12345678901234567890" {
		t.Errorf("big number stored as %v", big)
	}
}

func TestServiceAccountDetail(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	rc := newResponseChecker(t, c.v)
	created := c.createSA(t, map[string]any{"name": "Detailed", "type": "school", "info": map[string]any{"vendor": "x"},
		"schools": schoolRefs(c.b, c.a, c.a)})
	id := created["id"].(string)
	// Twelve events of the account, one of another; the latest ten come back, newest first.
	c.v.exec(`INSERT INTO events (id, title, level, service_account_id, info, "timestamp")
		SELECT gen_random_uuid(), 'Event ' || i, 'WARNING', $1, jsonb_build_object('description', 'd' || i, 'i', i),
		       now() AT TIME ZONE 'UTC' - i * interval '1 minute'
		FROM generate_series(1, 12) i`, id)
	c.v.exec(`INSERT INTO events (id, title, level, service_account_id, info, "timestamp")
		VALUES (gen_random_uuid(), 'Someone else', 'NORMAL', $1, '{}', now() AT TIME ZONE 'UTC')`, c.ids["kiosk"])
	rec := rc.do(http.MethodGet, "/v1/service-account/"+id, c.tokens["backend"], nil, 200)
	d := decode[map[string]any](t, rec)
	for _, k := range []string{"id", "name", "type", "is_active", "info", "created_at", "updated_at", "events", "schools"} {
		if _, ok := d[k]; !ok {
			t.Errorf("ServiceAccountDetail lacks %q", k)
		}
	}
	if d["id"] != id || d["name"] != "Detailed" || d["type"] != "school" || d["is_active"] != true ||
		d["info"].(map[string]any)["vendor"] != "x" {
		t.Errorf("detail %v", d)
	}
	events := d["events"].([]any)
	if len(events) != 10 {
		t.Fatalf("%d events, want 10", len(events))
	}
	for i, e := range events {
		ev := e.(map[string]any)
		n := i + 1
		if ev["title"] != "Event "+strconv.Itoa(n) || ev["description"] != "d"+strconv.Itoa(n) || ev["level"] != "warning" ||
			ev["info"].(map[string]any)["i"] != float64(n) {
			t.Errorf("event %d: %v", i, ev)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.999999", ev["timestamp"].(string)); err != nil {
			t.Errorf("timestamp %v", ev["timestamp"])
		}
	}
	if want := []string{c.a.WID.String(), c.b.WID.String()}; !slices.Equal(schoolIDsOf(d), func() []string { slices.Sort(want); return want }()) {
		t.Errorf("schools %v", d["schools"])
	}
	first := d["schools"].([]any)[0].(map[string]any)
	if first["name"] != "School A" || first["official_identifier"] != "OFF-School A" || first["country_code"] != "NZL" {
		t.Errorf("SchoolIdentity %v", first)
	}
	// 404 and 422.
	missing := uuid.NewString()
	rec = rc.do(http.MethodGet, "/v1/service-account/"+missing, c.tokens["admin"], nil, 404)
	if got := detailString(t, decode[map[string]any](t, rec)); got != "ServiceAccount with id "+missing+" not found." {
		t.Errorf("detail %q", got)
	}
	entries := detailOf(t, rc.do(http.MethodGet, "/v1/service-account/12", c.tokens["admin"], nil, 422))
	if !hasEntry(entries, "uuid_parsing", []any{"path", "service_account_id"}, "12") {
		t.Errorf("422 %v", entries)
	}
	rc.do(http.MethodGet, "/v1/service-account/"+id, c.tokens["lms linked A"], nil, 403)
	rc.do(http.MethodGet, "/v1/service-account/"+id, "", nil, 401)
}

func TestServiceAccountUpdateReplacesSchools(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	rc := newResponseChecker(t, c.v)
	created := c.createSA(t, map[string]any{"name": "Mover", "type": "lms", "info": map[string]any{"a": 1},
		"schools": schoolRefs(c.a)})
	id, tok := created["id"].(string), created["access_token"].(string)
	path := "/v1/service-account/" + id
	reach := func(wantA, wantB int) {
		t.Helper()
		wantStatus(t, c.v.do(http.MethodGet, "/v1/school/"+c.a.WID.String(), tok, nil), wantA)
		wantStatus(t, c.v.do(http.MethodGet, "/v1/school/"+c.b.WID.String(), tok, nil), wantB)
	}
	reach(200, 403) // warms the principal cache with school A

	// schools replaces the set; the access follows at once.
	d := decode[map[string]any](t, rc.do(http.MethodPut, path, c.tokens["admin"], map[string]any{"schools": schoolRefs(c.b)}, 200))
	if got := schoolIDsOf(d); !slices.Equal(got, []string{c.b.WID.String()}) || d["name"] != "Mover" ||
		d["info"].(map[string]any)["a"] != 1.0 {
		t.Errorf("after replace: %v", d)
	}
	reach(403, 200)

	// A failed write changes nothing: an unknown school among known ones,
	// together with a new name and info.
	unknown := uuid.NewString()
	rec := rc.do(http.MethodPut, path, c.tokens["admin"], map[string]any{"name": "Renamed", "info": map[string]any{"b": 2},
		"schools": append(schoolRefs(c.a), map[string]any{"wriveted_identifier": unknown})}, 404)
	if got := detailString(t, decode[map[string]any](t, rec)); got != "School with wriveted_id "+unknown+" not found." {
		t.Errorf("detail %q", got)
	}
	d = decode[map[string]any](t, c.v.do(http.MethodGet, path, c.tokens["admin"], nil))
	if got := schoolIDsOf(d); !slices.Equal(got, []string{c.b.WID.String()}) || d["name"] != "Mover" ||
		d["info"].(map[string]any)["a"] != 1.0 {
		t.Errorf("after a failed update: %v", d)
	}
	reach(403, 200)

	// Fields absent or null are kept; name and info change alone.
	d = decode[map[string]any](t, rc.do(http.MethodPut, path, c.tokens["backend"],
		map[string]any{"name": "Renamed", "schools": nil}, 200))
	if d["name"] != "Renamed" || len(schoolIDsOf(d)) != 1 || d["info"].(map[string]any)["a"] != 1.0 {
		t.Errorf("rename: %v", d)
	}
	d = decode[map[string]any](t, rc.do(http.MethodPut, path, c.tokens["admin"], map[string]any{"info": map[string]any{"b": 2}}, 200))
	if info := d["info"].(map[string]any); info["b"] != 2.0 || info["a"] != nil || d["name"] != "Renamed" {
		t.Errorf("info replaced: %v", d)
	}
	d = decode[map[string]any](t, rc.do(http.MethodPut, path, c.tokens["admin"], map[string]any{"info": nil}, 200))
	if d["info"] != nil {
		t.Errorf("info cleared: %v", d["info"])
	}
	// Several schools, duplicates collapsed; then none at all.
	d = decode[map[string]any](t, rc.do(http.MethodPut, path, c.tokens["admin"],
		map[string]any{"schools": schoolRefs(c.a, c.b, c.a)}, 200))
	if len(schoolIDsOf(d)) != 2 {
		t.Errorf("two schools: %v", d["schools"])
	}
	reach(200, 200)
	d = decode[map[string]any](t, rc.do(http.MethodPut, path, c.tokens["admin"], map[string]any{"schools": []any{}}, 200))
	if len(schoolIDsOf(d)) != 0 {
		t.Errorf("no schools: %v", d["schools"])
	}
	reach(403, 403)

	// 404, 422.
	missing := uuid.NewString()
	rec = rc.do(http.MethodPut, "/v1/service-account/"+missing, c.tokens["admin"], map[string]any{"name": "x", "schools": schoolRefs(c.a)}, 404)
	if got := detailString(t, decode[map[string]any](t, rec)); got != "ServiceAccount with id "+missing+" not found." {
		t.Errorf("detail %q", got)
	}
	if n := c.v.scalar(`SELECT count(*) FROM service_account_school_association WHERE service_account_id = $1`, missing).(int64); n != 0 {
		t.Errorf("links of a missing account: %d", n)
	}
	rc.do(http.MethodPut, "/v1/service-account/x", c.tokens["admin"], map[string]any{"name": "x"}, 422)
	for name, body := range map[string]any{
		"name type": map[string]any{"name": true}, "info type": map[string]any{"info": "x"},
		"school id": map[string]any{"schools": []any{map[string]any{"wriveted_identifier": "x"}}},
		"NUL":       map[string]any{"name": "\x00"}, "empty": "",
	} {
		if rec := c.v.do(http.MethodPut, path, c.tokens["admin"], body); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	// The type is not changed by an update (ServiceAccountUpdateIn has no type).
	d = decode[map[string]any](t, rc.do(http.MethodPut, path, c.tokens["admin"], map[string]any{"type": "backend"}, 200))
	if d["type"] != "lms" {
		t.Errorf("type %v", d["type"])
	}
}

func TestServiceAccountListAndDelete(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	rc := newResponseChecker(t, c.v)
	list := func(query string) []string {
		t.Helper()
		rec := rc.do(http.MethodGet, "/v1/service-accounts"+query, c.tokens["admin"], nil, 200)
		var names []string
		for _, sa := range decode[[]map[string]any](t, rec) {
			if sa["name"] == "Huey background tasks" { // seeded by migration 009 for the task server
				continue
			}
			names = append(names, sa["name"].(string))
			if len(sa) != 4 {
				t.Errorf("ServiceAccountBrief keys %v", sa)
			}
		}
		return names
	}
	all := []string{"backend", "kiosk", "lms linked A", "lms unlinked", "school sa A"}
	if got := list(""); !slices.Equal(got, all) {
		t.Errorf("list %v, want %v (by name)", got, all)
	}
	if got := list("?skip=2&limit=2"); !slices.Equal(got, all[1:3]) { // "Huey background tasks" sorts first
		t.Errorf("page %v", got)
	}
	// Deleting deactivates, records the event naming both accounts, and the
	// account's token stops working at once.
	kiosk := c.ids["kiosk"].String()
	wantStatus(t, c.v.do(http.MethodGet, "/v1/auth/me", c.tokens["kiosk"], nil), http.StatusOK) // warm cache
	rc.do(http.MethodDelete, "/v1/service-account/"+kiosk, c.tokens["backend"], nil, 403)
	rec := rc.do(http.MethodDelete, "/v1/service-account/"+kiosk, c.tokens["admin"], nil, 200)
	got := decode[map[string]any](t, rec)
	if got["id"] != kiosk || got["name"] != "kiosk" || got["type"] != "kiosk" || got["is_active"] != false || len(got) != 4 {
		t.Errorf("deleted %v", got)
	}
	var desc string
	var userID, saID uuid.UUID
	var level string
	if err := c.v.super.QueryRow(t.Context(), `SELECT info ->> 'description', user_id, service_account_id, level::text
		FROM events WHERE title = 'Service account deleted'`).Scan(&desc, &userID, &saID, &level); err != nil {
		t.Fatal(err)
	}
	if desc != "Service account kiosk deleted by admin" || userID != c.ids["admin"] || saID != c.ids["kiosk"] || level != "NORMAL" {
		t.Errorf("event %q user %v sa %v level %s", desc, userID, saID, level)
	}
	rec = c.v.do(http.MethodGet, "/v1/auth/me", c.tokens["kiosk"], nil)
	wantStatus(t, rec, http.StatusBadRequest)
	if got := detailString(t, decode[map[string]any](t, rec)); got != "Inactive account" {
		t.Errorf("detail %q", got)
	}
	if got := list(""); slices.Contains(got, "kiosk") || len(got) != 4 {
		t.Errorf("list after delete %v", got)
	}
	for _, q := range []string{"?include_inactive=true", "?include_inactive=1", "?include_inactive=YES"} {
		if got := list(q); !slices.Equal(got, all) {
			t.Errorf("list%s %v", q, got)
		}
	}
	if got := list("?include_inactive=false"); len(got) != 4 {
		t.Errorf("include_inactive=false %v", got)
	}
	// The row is kept; its detail shows the deletion event.
	d := decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/service-account/"+kiosk, c.tokens["admin"], nil))
	if d["is_active"] != false || len(d["events"].([]any)) != 1 ||
		d["events"].([]any)[0].(map[string]any)["title"] != "Service account deleted" {
		t.Errorf("deleted detail %v", d)
	}
	// Deleting again is harmless; unknown and bad ids.
	rc.do(http.MethodDelete, "/v1/service-account/"+kiosk, c.tokens["admin"], nil, 200)
	rc.do(http.MethodDelete, "/v1/service-account/"+uuid.NewString(), c.tokens["admin"], nil, 404)
	rc.do(http.MethodDelete, "/v1/service-account/nope", c.tokens["admin"], nil, 422)
	for _, q := range []string{"?include_inactive=maybe", "?limit=x", "?skip=-1"} {
		rc.do(http.MethodGet, "/v1/service-accounts"+q, c.tokens["admin"], nil, 422)
	}
	rc.do(http.MethodGet, "/v1/service-accounts", c.tokens["educator A"], nil, 403)
	rc.do(http.MethodGet, "/v1/service-accounts", "", nil, 401)
	rc.do(http.MethodPost, "/v1/service-account", c.tokens["admin"], map[string]any{"name": "Doc", "type": "backend"}, 200)
	rc.do(http.MethodPost, "/v1/service-account", c.tokens["admin"], map[string]any{"name": "Doc"}, 422)
	rc.do(http.MethodPost, "/v1/service-account", c.tokens["admin"],
		map[string]any{"name": "Doc", "type": "lms", "schools": []any{map[string]any{"wriveted_identifier": uuid.NewString()}}}, 404)
	rc.do(http.MethodPost, "/v1/service-account", c.tokens["kiosk"], map[string]any{"name": "Doc", "type": "lms"}, 400)
}

// Reads are one round trip with a warm principal cache; writes are one
// transaction of two round trips (BEGIN, claims and the whole batch; then
// COMMIT).
func TestServiceAccountRoundTrips(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	pool, writes := v.db.CountingPool(t, dbtest.RoleAPI, 1)
	v = newEnvOn(t, v, pool)
	a, b := v.school("School A", "ACTIVE"), v.school("School B", "ACTIVE")
	admin := v.userToken(v.user("admin", "WRIVETED", nil))
	sa := v.serviceAccount("lms", "LMS", a).String()
	// The second of two identical requests is counted: the first prepares
	// its statements (pgx's statement cache) and warms the principal cache.
	count := func(method, path string, body any, want int) int64 {
		t.Helper()
		wantStatus(t, v.do(method, path, admin, body), want)
		before := writes.Load()
		wantStatus(t, v.do(method, path, admin, body), want)
		return writes.Load() - before
	}
	for _, p := range []string{"/v1/service-accounts?include_inactive=true", "/v1/service-account/" + sa} {
		if n := count(http.MethodGet, p, nil, 200); n != 1 {
			t.Errorf("GET %s: %d round trips, want 1", p, n)
		}
	}
	for _, w := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/v1/service-account", map[string]any{"name": "new", "type": "lms", "schools": schoolRefs(a, b)}},
		{http.MethodPut, "/v1/service-account/" + sa, map[string]any{"name": "moved", "schools": schoolRefs(b)}},
		{http.MethodDelete, "/v1/service-account/" + sa, nil},
	} {
		if n := count(w.method, w.path, w.body, 200); n != 2 {
			t.Errorf("%s %s: %d round trips, want 2", w.method, w.path, n)
		}
	}
}
