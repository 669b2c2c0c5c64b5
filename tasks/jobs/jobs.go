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

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
)

// Kinds of task, named after the task server's endpoints (tasks.md §1).
const (
	KindGenerateReadingPathways = "generate-reading-pathways"
	KindSendEmail               = "send-email"
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
	// EnqueuedByUser / EnqueuedByServiceAccount record who caused it.
	EnqueuedByUser           *uuid.UUID
	EnqueuedByServiceAccount *uuid.UUID
}

// Enqueue records t in the caller's transaction.
func Enqueue(ctx context.Context, tx Execer, t Task) error {
	payload, err := json.Marshal(t.Payload)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.Kind, err)
	}
	var key *string
	if t.IdempotencyKey != "" {
		key = &t.IdempotencyKey
	}
	_, err = tx.Exec(ctx, `INSERT INTO task_queue (kind, payload, idempotency_key, enqueued_by_user_id, enqueued_by_service_account_id)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
		t.Kind, payload, key, t.EnqueuedByUser, t.EnqueuedByServiceAccount)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.Kind, err)
	}
	return nil
}
