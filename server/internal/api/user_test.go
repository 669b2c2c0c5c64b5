package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestUserListScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	want := statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200})
	c.run(t, http.MethodGet, func() string { return "/v1/users" }, nil, want)
	rec := c.v.do(http.MethodGet, "/v1/users", c.tokens["student A"], nil)
	if d := decode[map[string]any](t, rec)["detail"]; d != "Insufficient privileges" {
		t.Errorf("ADMIN guard detail %v", d)
	}
	list := func(q string) map[string]any {
		rec := c.v.do(http.MethodGet, "/v1/users"+q, c.tokens["admin"], nil)
		wantStatus(t, rec, http.StatusOK)
		return decode[map[string]any](t, rec)
	}
	all := list("")
	if total := all["pagination"].(map[string]any)["total"].(float64); int(total) != 9 {
		t.Errorf("total %v, want the 9 users of the cast", total)
	}
	if got := list("?type=student")["data"].([]any); len(got) != 1 || got[0].(map[string]any)["username"] == nil {
		t.Errorf("type filter: %v", got)
	}
	if got := list("?type=STUDENT&q=STUDENT")["data"].([]any); len(got) != 1 {
		t.Errorf("q filter (case-insensitive): %v", got)
	}
	if got := list("?q=example.org&limit=2&skip=2"); len(got["data"].([]any)) != 2 || got["pagination"].(map[string]any)["page"].(float64) != 2 {
		t.Errorf("paging: %v", got["pagination"])
	}
	c.v.exec(`UPDATE users SET is_active = false WHERE id = $1`, c.ids["supporter"])
	data := list("")["data"].([]any)
	if last := data[len(data)-1].(map[string]any); last["name"] != "supporter" {
		t.Errorf("inactive accounts come last: %v", last["name"])
	}
	if got := list("?is_active=false")["data"].([]any); len(got) != 1 {
		t.Errorf("is_active filter: %d", len(got))
	}
	// The intended subscription filter: parents with an active subscription of the type.
	c.v.exec(`INSERT INTO products (id, name) VALUES ('price_1', 'Family')`)
	c.v.exec(`INSERT INTO subscriptions (id, type, stripe_customer_id, is_active, created_at, updated_at, provider, product_id, parent_id, expiration)
		VALUES ('sub_1', 'FAMILY', 'cus_1', true, now(), now(), 'STRIPE', 'price_1', $1, now())`, c.ids["parent"])
	if got := list("?active_subscription_type=family")["data"].([]any); len(got) != 1 || got[0].(map[string]any)["id"] != c.ids["parent"].String() {
		t.Errorf("active_subscription_type: %v", got)
	}
	for _, q := range []string{"?type=robot", "?active_subscription_type=gold", "?limit=-1"} {
		wantStatus(t, c.v.do(http.MethodGet, "/v1/users"+q, c.tokens["admin"], nil), http.StatusUnprocessableEntity)
	}
}

// GET /user/{id} on a student of school A (F7: its school's educators and
// admins; F20-like self access; parents read their children).
func TestF7UserDetailScenarios(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	target := c.ids["student A"]
	parent := c.v.user("Parent Of A", "PARENT", nil)
	c.v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, parent, target)
	c.tokens["parent"] = c.v.userToken(parent)
	want := statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "student A": 200, "parent": 200,
		"educator A": 200, "schooladmin A": 200, // F7
	})
	c.run(t, http.MethodGet, func() string { return "/v1/user/" + target.String() }, nil, want)
	got := decode[map[string]any](t, c.v.do(http.MethodGet, "/v1/user/"+target.String(), c.tokens["educator A"], nil))
	if got["type"] != "student" || got["username"] == nil || got["school"].(map[string]any)["name"] != "School A" {
		t.Errorf("educator's view of the student: %v", got)
	}
	// A parent of another child is refused.
	otherParent := c.v.user("Other Parent", "PARENT", nil)
	otherChild := c.v.user("Other Child", "PUBLIC", nil)
	c.v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, otherParent, otherChild)
	wantStatus(t, c.v.do(http.MethodGet, "/v1/user/"+target.String(), c.v.userToken(otherParent), nil), http.StatusForbidden)
	wantStatus(t, c.v.do(http.MethodGet, "/v1/user/"+otherChild.String(), c.v.userToken(otherParent), nil), http.StatusOK)
	// F20: a supporter reaches its own detail (the original fails with 500).
	wantStatus(t, c.v.do(http.MethodGet, "/v1/user/"+c.ids["supporter"].String(), c.tokens["supporter"], nil), http.StatusOK)
	wantStatus(t, c.v.do(http.MethodGet, "/v1/user/"+uuid.NewString(), c.tokens["admin"], nil), http.StatusNotFound)
	wantStatus(t, c.v.do(http.MethodGet, "/v1/user/42", c.tokens["admin"], nil), http.StatusUnprocessableEntity)
	// A school admin of A reads A's educators, not B's.
	wantStatus(t, c.v.do(http.MethodGet, "/v1/user/"+c.ids["educator A"].String(), c.tokens["schooladmin A"], nil), http.StatusOK)
	wantStatus(t, c.v.do(http.MethodGet, "/v1/user/"+c.ids["educator B"].String(), c.tokens["schooladmin A"], nil), http.StatusForbidden)
}

func TestUserCreate(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	create := func(body map[string]any, q string) map[string]any {
		t.Helper()
		rec := c.v.do(http.MethodPost, "/v1/user"+q, c.tokens["admin"], body)
		wantStatus(t, rec, http.StatusOK)
		return decode[map[string]any](t, rec)
	}
	c.run(t, http.MethodPost, func() string { return "/v1/user" }, map[string]any{"name": "x"},
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 200, "backend": 200}))
	// Reader name inference.
	pub := create(map[string]any{"name": "Ana  Maria Reader", "email": "ana@example.org"}, "")
	if pub["type"] != "public" || pub["first_name"] != "Ana" || pub["last_name_initial"] != "R" {
		t.Errorf("public reader: %v", pub)
	}
	// Student: username generated, class in the school.
	class := c.v.class(c.a, "Room 5")
	st := create(map[string]any{"type": "student", "first_name": "Tia", "last_name_initial": "M",
		"school_id": c.a.WID, "class_group_id": class}, "")
	if st["name"] != "Tia M" || !strings.HasPrefix(st["username"].(string), "TiaM") {
		t.Errorf("student: %v", st)
	}
	// Educator by internal school id; school admin; every other type.
	ed := create(map[string]any{"type": "EDUCATOR", "first_name": "Ed", "last_name_initial": "U", "school_id": c.a.ID}, "")
	if ed["school"].(map[string]any)["wriveted_identifier"] != c.a.WID.String() {
		t.Errorf("educator school: %v", ed["school"])
	}
	for _, typ := range []string{"school_admin", "wriveted", "supporter"} {
		got := create(map[string]any{"type": typ, "name": "A " + typ, "school_id": c.b.WID.String()}, "")
		if got["type"] != typ {
			t.Errorf("%s: %v", typ, got)
		}
	}
	// A parent with children: children created with the parent, tasks queued.
	par := create(map[string]any{"type": "parent", "name": "Pip Parent", "email": "pip@example.org",
		"children": []any{map[string]any{"name": "Kid One"}, map[string]any{"name": "Kid Two"}}}, "?generate_pathway_lists=true")
	kids := par["children"].([]any)
	if len(kids) != 2 {
		t.Fatalf("children %v", kids)
	}
	if n := c.v.scalar(`SELECT count(*) FROM task_queue WHERE kind = 'generate-reading-pathways'
		AND (payload->>'limit')::int = 100`).(int64); n != 2 {
		t.Errorf("reading pathway tasks: %d", n)
	}
	var children string
	if err := c.v.super.QueryRow(t.Context(), `SELECT payload->'email_data'->'template_data'->>'children_string'
		FROM task_queue WHERE kind = 'send-email'`).Scan(&children); err != nil || children != "Kid One and Kid Two" {
		t.Errorf("welcome e-mail: %q %v", children, err)
	}
	if n := c.v.scalar(`SELECT count(*) FROM events WHERE title = 'User created'`).(int64); n < 6 {
		t.Errorf("User created events: %d", n)
	}
	// Errors, each leaving nothing behind.
	before := c.v.scalar(`SELECT count(*) FROM users`).(int64)
	cases := map[string]struct {
		body   map[string]any
		status int
	}{
		"duplicate e-mail":   {map[string]any{"name": "Ana Again", "email": "ana@example.org"}, 409},
		"student no class":   {map[string]any{"type": "student", "first_name": "A", "last_name_initial": "B", "school_id": c.a.WID}, 422},
		"class of another":   {map[string]any{"type": "student", "first_name": "A", "last_name_initial": "B", "school_id": c.b.WID, "class_group_id": class}, 422},
		"educator no school": {map[string]any{"type": "educator", "first_name": "A", "last_name_initial": "B"}, 422},
		"unknown school":     {map[string]any{"type": "school_admin", "name": "X", "school_id": uuid.NewString()}, 422},
		"no name":            {map[string]any{"type": "wriveted"}, 422},
		"bad email":          {map[string]any{"name": "X", "email": "not-an-email"}, 422},
		"bad type":           {map[string]any{"name": "X", "type": "robot"}, 422},
		"long name":          {map[string]any{"name": strings.Repeat("n", 300)}, 422},
		"bad hue":            {map[string]any{"name": "X", "huey_attributes": map[string]any{"hues": []string{"hue99"}}}, 422},
		"bad phone":          {map[string]any{"name": "X", "info": map[string]any{"phone_number": "12"}}, 422},
		"wrong type":         {map[string]any{"name": true}, 422}, // a number is coerced (lax mode); a boolean never
		"child of a reader":  {map[string]any{"name": "Not A Parent", "children": []any{map[string]any{"name": "K"}}}, 422},
	}
	for name, tc := range cases {
		rec := c.v.do(http.MethodPost, "/v1/user", c.tokens["admin"], tc.body)
		if rec.Code != tc.status {
			t.Errorf("%s: %d, want %d: %s", name, rec.Code, tc.status, rec.Body)
		}
	}
	if after := c.v.scalar(`SELECT count(*) FROM users`).(int64); after != before {
		t.Errorf("failed creations left %d users behind", after-before)
	}
}

func TestF1UserPatch(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	student := c.ids["student A"]
	parent := c.v.user("Parent Of A", "PARENT", nil)
	c.v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, parent, student)
	c.tokens["parent"] = c.v.userToken(parent)
	classA2 := c.v.class(c.a, "Room A2")
	classB := c.v.class(c.b, "Room B1")
	patch := func(who string, id uuid.UUID, body map[string]any) int {
		t.Helper()
		return c.v.do(http.MethodPatch, "/v1/user/"+id.String(), c.tokens[who], body).Code
	}
	// Updating is allowed to oneself, a parent, the school's admin and admins.
	want := statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "backend": 200, "student A": 200, "parent": 200, "schooladmin A": 200,
	})
	c.run(t, http.MethodPatch, func() string { return "/v1/user/" + student.String() }, map[string]any{"first_name": "Sam"}, want)

	// F1: nobody but admins and the school's admin changes type, school, class or active state.
	for _, tc := range []struct {
		who    string
		target uuid.UUID
		body   map[string]any
		status int
	}{
		{"student A", student, map[string]any{"type": "school_admin", "school_id": c.a.WID}, 403},
		{"student A", student, map[string]any{"type": "wriveted"}, 401},
		{"student A", student, map[string]any{"is_active": true}, 403},
		{"student A", student, map[string]any{"class_group_id": classA2}, 403},
		{"parent", student, map[string]any{"school_id": c.b.WID, "class_group_id": classB}, 403},
		{"public reader", c.ids["public reader"], map[string]any{"type": "educator", "school_id": c.a.WID}, 403},
		{"educator A", c.ids["educator A"], map[string]any{"type": "school_admin"}, 403},
		{"schooladmin B", student, map[string]any{"is_active": false}, 403},
		{"schooladmin A", student, map[string]any{"school_id": c.b.WID, "class_group_id": classB}, 403}, // not its school
		{"schooladmin A", student, map[string]any{"class_group_id": classA2}, 200},
		{"schooladmin A", c.ids["educator A"], map[string]any{"is_active": false}, 200},
	} {
		if got := patch(tc.who, tc.target, tc.body); got != tc.status {
			t.Errorf("%s patches %v: %d, want %d", tc.who, tc.body, got, tc.status)
		}
	}
	var typ string
	var class uuid.UUID
	if err := c.v.super.QueryRow(t.Context(), `SELECT u.type::text, s.class_group_id FROM users u JOIN students s ON s.id = u.id
		WHERE u.id = $1`, student).Scan(&typ, &class); err != nil || typ != "STUDENT" || class != classA2 {
		t.Errorf("student after the F1 attempts: %s %s %v", typ, class, err)
	}
	if admin := c.v.scalar(`SELECT count(*) FROM school_admins WHERE id = $1`, student).(int64); admin != 0 {
		t.Error("a student made itself a school admin")
	}
}

func TestUserPatchFieldsAndTypeConversion(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	id := c.ids["public reader"]
	rec := c.v.do(http.MethodPatch, "/v1/user/"+id.String()+"?merge_dicts=true", c.tokens["public reader"], map[string]any{
		"huey_attributes": map[string]any{"age": 9, "hues": []string{"hue08_charming_inspiring"}},
		"info":            map[string]any{"phone_number": "+64 21 555 0199"},
	})
	wantStatus(t, rec, http.StatusOK)
	got := decode[map[string]any](t, rec)
	if hues := got["huey_attributes"].(map[string]any)["hues"].([]any); hues[0] != "hue08_charming_courageous" {
		t.Errorf("legacy hue key not mapped: %v", hues)
	}
	if got["info"].(map[string]any)["phone_number"] != "+64215550199" {
		t.Errorf("phone not normalised: %v", got["info"])
	}
	rec = c.v.do(http.MethodPatch, "/v1/user/"+id.String()+"?merge_dicts=true", c.tokens["public reader"],
		map[string]any{"huey_attributes": map[string]any{"genres": []string{"fantasy"}}})
	if a := decode[map[string]any](t, rec)["huey_attributes"].(map[string]any); a["age"] != float64(9) || a["genres"] == nil {
		t.Errorf("merge_dicts lost fields: %v", a)
	}
	// Type conversion keeps the id, both ways.
	class := c.v.class(c.a, "Room 7")
	rec = c.v.do(http.MethodPatch, "/v1/user/"+id.String(), c.tokens["admin"], map[string]any{"type": "student"})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if msg := decode[map[string]any](t, rec)["detail"].([]any)[0].(map[string]any)["msg"].(string); !strings.HasPrefix(msg, "Missing attributes: {") {
		t.Errorf("missing attributes message: %s", msg)
	}
	rec = c.v.do(http.MethodPatch, "/v1/user/"+id.String(), c.tokens["admin"], map[string]any{
		"type": "student", "school_id": c.a.WID, "class_group_id": class, "username": "PatR77"})
	wantStatus(t, rec, http.StatusOK)
	if got := decode[map[string]any](t, rec); got["id"] != id.String() || got["type"] != "student" || got["username"] != "PatR77" {
		t.Errorf("to student: %v", got)
	}
	rec = c.v.do(http.MethodPatch, "/v1/user/"+id.String(), c.tokens["admin"], map[string]any{"type": "public"})
	wantStatus(t, rec, http.StatusOK)
	if n := c.v.scalar(`SELECT count(*) FROM students WHERE id = $1`, id).(int64); n != 0 {
		t.Error("the students row outlived the conversion back")
	}
	if n := c.v.scalar(`SELECT count(*) FROM public_readers WHERE id = $1`, id).(int64); n != 1 {
		t.Error("no public_readers row after the conversion back")
	}
	// Staff conversion by the school's admin, within its school.
	rec = c.v.do(http.MethodPatch, "/v1/user/"+c.ids["educator A"].String(), c.tokens["schooladmin A"], map[string]any{"type": "school_admin"})
	wantStatus(t, rec, http.StatusOK)
	// Errors leave the account as it was.
	before := c.v.scalar(`SELECT name FROM users WHERE id = $1`, id)
	for name, body := range map[string]map[string]any{
		"long name":  {"name": strings.Repeat("x", 300)},
		"empty name": {"name": ""},
		"dup email":  {"email": "admin@example.org", "name": "Renamed"},
		"bad school": {"school_id": uuid.NewString(), "name": "Renamed"},
		"bad class":  {"class_group_id": "nope"},
	} {
		rec := c.v.do(http.MethodPatch, "/v1/user/"+id.String(), c.tokens["admin"], body)
		if rec.Code < 400 || rec.Code >= 500 {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if after := c.v.scalar(`SELECT name FROM users WHERE id = $1`, id); after != before {
		t.Errorf("a failed patch renamed the user to %v", after)
	}
}

func TestUserDelete(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	target := c.v.user("Going Away", "PUBLIC", nil)
	tok := c.v.userToken(target)
	c.run(t, http.MethodDelete, func() string { return "/v1/user/" + target.String() }, nil,
		statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "admin": 204, "backend": 204}))
	wantStatus(t, c.v.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusBadRequest)
	if n := c.v.scalar(`SELECT count(*) FROM events WHERE title = 'User account deleted'`).(int64); n != 2 {
		t.Errorf("events: %d", n)
	}
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/user/"+target.String()+"?purge=true", c.tokens["admin"], nil), http.StatusNoContent)
	if n := c.v.scalar(`SELECT count(*) FROM users WHERE id = $1`, target).(int64); n != 0 {
		t.Error("purge left the user")
	}
	wantStatus(t, c.v.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusNotFound)
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/user/"+uuid.NewString(), c.tokens["admin"], nil), http.StatusNotFound)
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/user/x", c.tokens["admin"], nil), http.StatusUnprocessableEntity)
}
