package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/server/internal/api"
)

// R3 (issue 12): one account's slow statement cannot stall every school. A
// write blocked behind a lock (as a runaway query would hold it) is cancelled
// by the pool's statement_timeout — or by the request's deadline — and
// answers 503 in the error shape, leaving nothing half-written; meanwhile
// another school's requests are served.
func TestHardening_R3_SlowStatementAnswers503AndOthersProceed(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	coll := c.v.collection(&c.a, nil, "A's books")
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		pool db.PoolOptions
		opt  func(*api.Options)
	}{
		{"statement_timeout", db.PoolOptions{MaxConns: 4, StatementTimeout: 300 * time.Millisecond}, nil},
		{"request deadline", db.PoolOptions{MaxConns: 4}, func(o *api.Options) { o.RequestTimeout = 300 * time.Millisecond }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := db.OpenPool(ctx, c.v.db.RoleURL(dbtest.RoleAPI), "hardening-r3", tc.pool)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			v := newEnvOn(t, c.v, pool, tc.opt)

			lock, err := c.v.super.Begin(ctx) // a long transaction holding the collection's row
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = lock.Rollback(ctx) }()
			if _, err := lock.Exec(ctx, `SELECT 1 FROM collections WHERE id = $1 FOR UPDATE`, coll); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			start := time.Now()
			var slow int
			var body string
			go func() {
				defer close(done)
				rec := v.do(http.MethodPatch, "/v1/collection/"+coll.String(), c.tokens["schooladmin A"],
					map[string]any{"items": []map[string]any{{"action": "add", "edition_isbn": "9780306406157"}}})
				slow, body = rec.Code, rec.Body.String()
			}()
			// another school is served while school A's request waits
			wantStatus(t, v.do(http.MethodGet, "/v1/auth/me", c.tokens["schooladmin B"], nil), http.StatusOK)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("the blocked request hung instead of answering")
			}
			if slow != http.StatusServiceUnavailable || body != `{"detail":"`+"The service is busy or the request took too long; try again shortly"+`"}`+"\n" {
				t.Fatalf("blocked request after %s: %d %s, want 503 in the error shape", time.Since(start), slow, body)
			}
			if n := c.v.scalar(`SELECT count(*) FROM collection_items WHERE collection_id = $1`, coll).(int64); n != 0 {
				t.Fatalf("the cancelled request left %d items", n)
			}
			_ = lock.Rollback(ctx)
			wantStatus(t, v.do(http.MethodPatch, "/v1/collection/"+coll.String(), c.tokens["schooladmin A"],
				map[string]any{"items": []map[string]any{{"action": "add", "edition_isbn": "9780306406157"}}}), http.StatusOK)
			c.v.exec(`DELETE FROM collection_items WHERE collection_id = $1`, coll)
		})
	}
}

// R9 (issue 12): a student's username is unique in its school ignoring
// case, so a classmate cannot take a case variant and be signed in for
// the other; the API answers 409 (not the e-mail message).
func TestHardening_R9_CaseVariantUsernameIs409(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	class := c.v.class(c.a, "Room 9")
	create := func(username string) *httptest.ResponseRecorder {
		return c.v.do(http.MethodPost, "/v1/user", c.tokens["admin"], map[string]any{"type": "student",
			"first_name": "Bo", "last_name_initial": "B", "school_id": c.a.WID, "class_group_id": class, "username": username})
	}
	wantStatus(t, create("bobby"), http.StatusOK)
	rec := create("BOBBY")
	wantStatus(t, rec, http.StatusConflict)
	if got := decode[map[string]any](t, rec)["detail"]; got != "Username already exists in this school" {
		t.Fatalf("detail %v", got)
	}
	other := create("robin")
	wantStatus(t, other, http.StatusOK)
	id := decode[map[string]any](t, other)["id"].(string)
	rec = c.v.do(http.MethodPatch, "/v1/user/"+id, c.tokens["admin"], map[string]any{"username": "Bobby"})
	wantStatus(t, rec, http.StatusConflict)
	if n := c.v.scalar(`SELECT count(*) FROM students WHERE lower(username) = 'bobby'`).(int64); n != 1 {
		t.Fatalf("%d students named bobby", n)
	}
	// another school may use it
	classB := c.v.class(c.b, "Room 9")
	wantStatus(t, c.v.do(http.MethodPost, "/v1/user", c.tokens["admin"], map[string]any{"type": "student",
		"first_name": "Bo", "last_name_initial": "B", "school_id": c.b.WID, "class_group_id": classB, "username": "BOBBY"}), http.StatusOK)
}

// R4/R5 (issue 12): NUL, bytes that are not UTF-8 (%FF, the overlong
// %C0%80) and JSON escapes Postgres refuses (\u0000, lone surrogates), in a
// path, a query string or a body, answer 422 on every route — public ones
// included — before any database work; never a 500, nothing stored.
func TestHardening_R4_R5_HostileBytesAre422OnEveryRoute(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	hostile := []string{"%00", "%FF", "%C0%80", "x%00y"}
	bodies := []string{`{"name":"\u0000","items":[],"info":{"note":"x"}}`, `{"name":"ok","info":{"note":"\ud800"}}`,
		"{\"name\":\"\xff\"}", `[{"edition_isbn":"978\u00000306406157"}]`}
	seen := 0
	for _, r := range c.v.e.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/") || strings.Contains(r.Path, "*") {
			continue
		}
		for k, h := range hostile {
			segs := strings.Split(r.Path, "/")
			hasParam := false
			for i, s := range segs {
				if strings.HasPrefix(s, ":") {
					segs[i], hasParam = h, true
				}
			}
			path := strings.Join(segs, "/")
			if !hasParam {
				path += "?query=" + h
			}
			var body any
			if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
				body = `{"name":"ok"}`
			}
			for _, who := range []string{"admin", "anonymous"} {
				rec := c.v.do(r.Method, path, c.tokens[who], body)
				if rec.Code != http.StatusUnprocessableEntity {
					t.Errorf("%s %s as %s: %d, want 422: %.200s", r.Method, path, who, rec.Code, rec.Body)
				}
				seen++
			}
			if body != nil { // a clean path with a hostile body
				clean := strings.ReplaceAll(r.Path, ":", "p")
				rec := c.v.do(r.Method, clean, c.tokens["admin"], bodies[k])
				if rec.Code != http.StatusUnprocessableEntity {
					t.Errorf("%s %s with body %q: %d, want 422: %.200s", r.Method, clean, bodies[k], rec.Code, rec.Body)
				}
				seen++
			}
		}
	}
	if seen < 300 {
		t.Fatalf("only %d requests tried", seen)
	}
	// the public routes the issue names, and nothing stored
	for _, p := range []string{"/v1/public-list/%00", "/v1/public-list/%C0%80"} {
		wantStatus(t, c.v.do(http.MethodGet, p, "", nil), http.StatusUnprocessableEntity)
	}
	for _, p := range []string{"/v1/auth/class-code", "/v1/auth/register-student"} {
		wantStatus(t, c.v.do(http.MethodPost, p, "", `{"class_joining_code":"\u0000","username":"a","first_name":"a","last_name_initial":"b"}`),
			http.StatusUnprocessableEntity)
	}
	before := c.v.scalar(`SELECT count(*) FROM book_lists`).(int64)
	rec := c.v.do(http.MethodPost, "/v1/list", c.tokens["educator A"],
		`{"name":"Notes","type":"PERSONAL","items":[{"work_id":1,"info":{"note":"bad \u0000 note"}}]}`)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if got := decode[map[string]any](t, rec)["detail"].([]any)[0].(map[string]any); got["loc"].([]any)[0] != "body" {
		t.Fatalf("422 detail %v", got)
	}
	if after := c.v.scalar(`SELECT count(*) FROM book_lists`).(int64); after != before {
		t.Fatal("a list was stored")
	}
}
