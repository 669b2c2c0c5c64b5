// Package jobs is how the public API asks for background work: Enqueue writes
// a task into the task_queue table inside the caller's transaction, so the
// task exists exactly when the change that causes it commits (and never when
// it rolls back). The task server delivers queued tasks.
//
// It is the one part of tasks/ that others import. It imports schema only.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Kinds of task, named after the task server's endpoints (tasks.md §1).
const (
	KindProcessEvent            = "process-event"
	KindGenerateReadingPathways = "generate-reading-pathways"
	KindGenerateLabels          = "generate-labels"
	KindHydrateBulk             = "hydrate-bulk"
	KindUpdateSearchIndex       = "update-search-index"
	KindSendEmail               = "send-email"
	KindSendSMS                 = "send-sms"
)

// Execer is what Enqueue needs of a transaction (db.Tx is one).
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Task is one unit of background work.
type Task struct {
	Kind    string
	Payload any
	// IdempotencyKey, when set, makes a repeated enqueue of the same work a
	// no-op (and lets the worker run its effect once).
	IdempotencyKey string
}

// Enqueue records t in the caller's transaction, through huey.enqueue_task,
// which records the calling account (from the claims) as the enqueuer.
func Enqueue(ctx context.Context, tx Execer, t Task) error {
	payload, err := json.Marshal(t.Payload)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.Kind, err)
	}
	var key *string
	if t.IdempotencyKey != "" {
		key = &t.IdempotencyKey
	}
	_, err = tx.Exec(ctx, `SELECT huey.enqueue_task($1, $2, $3)`, t.Kind, payload, key)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.Kind, err)
	}
	return nil
}
