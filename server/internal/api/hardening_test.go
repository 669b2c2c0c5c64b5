package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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
