package jobs_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/tasks/jobs"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// A task exists exactly when the transaction that enqueued it commits; an
// idempotency key makes a repeat a no-op.
func TestEnqueueIsTransactionalAndIdempotent(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	pool := d.Pool(t, dbtest.RoleAPI)
	user := uuid.New()
	claims := db.Claims{Kind: "user", ID: user.String(), Principals: []string{"system:everyone", "system:authenticated", "user:" + user.String()}}
	task := jobs.Task{Kind: jobs.KindSendEmail, Payload: map[string]any{"to": "x@example.org"},
		IdempotencyKey: "welcome:" + user.String()}
	boom := errors.New("the change failed")
	err := db.InTx(ctx, pool, claims, func(tx *db.Tx) error {
		if err := jobs.Enqueue(ctx, tx, task); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := d.SuperPool(t).QueryRow(ctx, `SELECT count(*) FROM task_queue`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("a rolled-back enqueue left %d tasks", n)
	}
	for range 2 {
		if err := db.InTx(ctx, pool, claims, func(tx *db.Tx) error { return jobs.Enqueue(ctx, tx, task) }); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("%d tasks after two enqueues with one idempotency key, want 1", n)
	}
	var kind, to, status string
	var by uuid.UUID
	if err := d.SuperPool(t).QueryRow(ctx, `SELECT kind, payload->>'to', status, enqueued_by_user_id FROM task_queue`).
		Scan(&kind, &to, &status, &by); err != nil || kind != jobs.KindSendEmail || to != "x@example.org" || status != "pending" || by != user {
		t.Fatalf("task: %s %s %s %s %v", kind, to, status, by, err)
	}
	// Anonymous requests cannot enqueue.
	if err := db.InTx(ctx, pool, db.Anonymous(), func(tx *db.Tx) error {
		return jobs.Enqueue(ctx, tx, jobs.Task{Kind: "x"})
	}); err == nil {
		t.Fatal("an anonymous request enqueued work")
	}
}
