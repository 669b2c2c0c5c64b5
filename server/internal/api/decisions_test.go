package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// syncBuffer collects the server's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, ln := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(ln), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// TestWhyRefused (issue 16 item 3): a 403 carries a decision_id in its body
// and in its one log line (with the request id, account, action, resource
// and the matched ACL entry; no token or claims); admins read the decision
// back and ask /v1/explain; nobody else does.
func TestWhyRefused(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	v := newEnv(t, func(o *apiOptions) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	a, b := v.school("Why A", "ACTIVE"), v.school("Why B", "ACTIVE")
	educatorID := v.user("Why Educator", "EDUCATOR", &a)
	educator := v.userToken(educatorID)
	admin := v.userToken(v.user("Why Admin", "WRIVETED", nil))

	// A policy refusal: the body is as terse as before, plus the id.
	rec := v.do(http.MethodGet, "/v1/school/"+b.WID.String(), educator, nil)
	wantStatus(t, rec, http.StatusForbidden)
	body := decode[map[string]any](t, rec)
	id, _ := body["decision_id"].(string)
	if body["detail"] != "Insufficient permissions" || !strings.HasPrefix(id, "dec_") || len(body) != 2 {
		t.Fatalf("403 body = %v", body)
	}
	reqID := rec.Header().Get("X-Request-Id")

	// Its log line.
	var line map[string]any
	for _, l := range logs.lines() {
		if l["msg"] == "denied" && l["decision_id"] == id {
			line = l
		}
	}
	if line == nil {
		t.Fatalf("no denied log line with decision_id %s", id)
	}
	for k, want := range map[string]string{"request_id": reqID, "account_id": educatorID.String(),
		"action": "school.read", "resource_id": strings.TrimSpace(jsonNum(b.ID)), "entry": "school.rego#default deny", "decided_by": "policy"} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %s", k, line[k], want)
		}
	}
	raw, _ := json.Marshal(line)
	for _, secret := range []string{educator, "Bearer", "principals", "claims", "jwt"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the log line carries %q: %s", secret, raw)
		}
	}

	// Admins read it back.
	rec = v.do(http.MethodGet, "/v1/decisions/"+id, admin, nil)
	wantStatus(t, rec, http.StatusOK)
	d := decode[map[string]any](t, rec)
	entry, _ := d["entry"].(map[string]any)
	if d["decided_by"] != "policy" || d["account_id"] != educatorID.String() || d["request_id"] != reqID || d["action"] != "read" ||
		entry["package"] != "huey.resource.school" || entry["n"] != "default" || entry["effect"] != "deny" || entry["file"] != "school.rego" {
		t.Errorf("decision = %v", d)
	}
	// Nobody else does; their refusal has an id of its own.
	rec = v.do(http.MethodGet, "/v1/decisions/"+id, educator, nil)
	wantStatus(t, rec, http.StatusForbidden)
	if other := decode[map[string]any](t, rec)["decision_id"]; other == id || other == nil {
		t.Errorf("educator's refusal id = %v", other)
	}
	wantStatus(t, v.do(http.MethodGet, "/v1/decisions/dec_nothing", admin, nil), http.StatusNotFound)
	wantStatus(t, v.do(http.MethodGet, "/v1/decisions/"+id, "", nil), http.StatusUnauthorized)

	// A guard's refusal keeps the guard's message.
	rec = v.do(http.MethodGet, "/v1/users", educator, nil)
	wantStatus(t, rec, http.StatusForbidden)
	body = decode[map[string]any](t, rec)
	if body["detail"] != "Insufficient privileges" || body["decision_id"] == nil {
		t.Errorf("guard 403 = %v", body)
	}
	rec = v.do(http.MethodGet, "/v1/decisions/"+body["decision_id"].(string), admin, nil)
	if e, _ := decode[map[string]any](t, rec)["entry"].(map[string]any); e["file"] != "users.rego" || e["n"] != "default" {
		t.Errorf("guard decision entry = %v", e)
	}

	// A refusal after the policy (here: a class without a school, which no
	// class-level check passes) is recorded as the handler's.
	var orphan uuid.UUID
	if err := v.super.QueryRow(context.Background(), `INSERT INTO class_groups (school_id, name) VALUES (NULL, 'Why orphan') RETURNING id`).Scan(&orphan); err != nil {
		t.Fatal(err)
	}
	rec = v.do(http.MethodGet, "/v1/class/"+orphan.String(), admin, nil)
	wantStatus(t, rec, http.StatusForbidden)
	rec = v.do(http.MethodGet, "/v1/decisions/"+decode[map[string]any](t, rec)["decision_id"].(string), admin, nil)
	wantStatus(t, rec, http.StatusOK)
	if d := decode[map[string]any](t, rec); d["decided_by"] != "handler" || d["action"] != "read" || d["entry"] != nil ||
		d["resource"].(map[string]any)["type"] != "class" || d["route"] != "GET /v1/class/:id" {
		t.Errorf("handler decision = %v", d)
	}

	// A bad token is not an access decision: no id.
	rec = v.do(http.MethodGet, "/v1/auth/me", "not-a-token", nil)
	wantStatus(t, rec, http.StatusForbidden)
	if _, ok := decode[map[string]any](t, rec)["decision_id"]; ok {
		t.Error("a bad token's 403 carries a decision_id")
	}

	// Explain: the educator on its own school and on the other one.
	explain := func(tok string, res map[string]any) map[string]any {
		t.Helper()
		rec := v.do(http.MethodPost, "/v1/explain", tok, map[string]any{"account_id": educatorID, "action": "read", "resource": res})
		wantStatus(t, rec, http.StatusOK)
		return decode[map[string]any](t, rec)
	}
	own := explain(admin, map[string]any{"type": "school", "id": a.WID.String()})
	if e, _ := own["entry"].(map[string]any); own["allowed"] != true || e["n"] != "6" || own["exists"] != true || own["row_visible"] != true ||
		!slices.Contains(anyStrings(own["principals"]), "educator:"+jsonNum(a.ID)) {
		t.Errorf("explain own school = %v", own)
	}
	other := explain(admin, map[string]any{"type": "school", "id": b.WID.String()})
	if e, _ := other["entry"].(map[string]any); other["allowed"] != false || e["n"] != "default" || other["exists"] != true {
		t.Errorf("explain other school = %v", other)
	}
	missing := explain(admin, map[string]any{"type": "school", "id": uuid.NewString()})
	if missing["exists"] != false {
		t.Errorf("explain missing school = %v", missing)
	}
	route := explain(admin, map[string]any{"type": "users"})
	if e, _ := route["entry"].(map[string]any); route["allowed"] != false || e["file"] != "users.rego" {
		t.Errorf("explain users = %v", route)
	}
	wantStatus(t, v.do(http.MethodPost, "/v1/explain", educator, map[string]any{"account_id": educatorID, "action": "read",
		"resource": map[string]any{"type": "school"}}), http.StatusForbidden)
	wantStatus(t, v.do(http.MethodPost, "/v1/explain", admin, map[string]any{"account_id": uuid.NewString(), "action": "read",
		"resource": map[string]any{"type": "school"}}), http.StatusNotFound)
	wantStatus(t, v.do(http.MethodPost, "/v1/explain", admin, map[string]any{"account_id": "x", "action": "read",
		"resource": map[string]any{"type": "school"}}), http.StatusUnprocessableEntity)
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// POST /v1/explain looks up every instance type it names (class, collection,
// collection item, booklist, event, user): for an educator of school A, A's
// instance exists, with the entry that decided and whether row security shows
// it; B's exists and is not both allowed and visible; a missing one does not
// exist.
func TestExplainEveryInstanceType(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	a, b := v.school("Explain A", "ACTIVE"), v.school("Explain B", "ACTIVE")
	educatorID := v.user("Explain Educator", "EDUCATOR", &a)
	admin := v.userToken(v.user("Explain Admin", "WRIVETED", nil))
	type pair struct{ own, other string }
	colA, colB := v.collection(&a, nil, "A books"), v.collection(&b, nil, "B books")
	itemA, itemB := v.item(colA, "9780000000011", 1, 1, "{}"), v.item(colB, "9780000000028", 1, 1, "{}")
	listOf := func(s school, name string) string {
		var id uuid.UUID
		if err := v.super.QueryRow(context.Background(), `INSERT INTO book_lists (name, type, school_id, info)
			VALUES ($1, 'SCHOOL', $2, '{}') RETURNING id`, name, s.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id.String()
	}
	evA := evInsert(t, v, "Explain event A", "NORMAL", &a.ID, nil, nil, "{}", time.Now())
	evB := evInsert(t, v, "Explain event B", "NORMAL", &b.ID, nil, nil, "{}", time.Now())
	cases := map[string]pair{
		"class":           {v.class(a, "A1").String(), v.class(b, "B1").String()},
		"collection":      {colA.String(), colB.String()},
		"collection_item": {strconv.FormatInt(itemA, 10), strconv.FormatInt(itemB, 10)},
		"book_list":       {listOf(a, "A list"), listOf(b, "B list")},
		"event":           {evA.String(), evB.String()},
		"user":            {educatorID.String(), v.user("Explain B Educator", "EDUCATOR", &b).String()},
	}
	explain := func(typ, id string) map[string]any {
		t.Helper()
		rec := v.do(http.MethodPost, "/v1/explain", admin, map[string]any{"account_id": educatorID, "action": "read",
			"resource": map[string]any{"type": typ, "id": id}})
		wantStatus(t, rec, http.StatusOK)
		return decode[map[string]any](t, rec)
	}
	for typ, p := range cases {
		own, other := explain(typ, p.own), explain(typ, p.other)
		if _, ok := own["row_visible"].(bool); own["exists"] != true || !ok {
			t.Errorf("%s own: %v", typ, own)
		}
		if other["exists"] != true || (other["allowed"] == true && other["row_visible"] == true) {
			t.Errorf("%s of the other school is allowed and visible: %v", typ, other)
		}
		if _, ok := own["entry"].(map[string]any); !ok {
			t.Errorf("%s own: no entry: %v", typ, own)
		}
	}
	for _, typ := range []string{"class", "collection", "book_list", "event", "user"} {
		if m := explain(typ, uuid.NewString()); m["exists"] != false {
			t.Errorf("%s missing: %v", typ, m)
		}
	}
}
