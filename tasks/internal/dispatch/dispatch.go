// Package dispatch delivers the tasks the public API queued in task_queue
// (tasks/jobs.Enqueue, the outbox): to Google Cloud Tasks when it is
// configured, otherwise straight to the internal task server over HTTP.
//
// A task's life: pending → running (claimed, with a lease) → done, or
// failed (retried after an exponential backoff) → … → dead once its attempts
// are spent. With Cloud Tasks a delivered task is dispatched (Cloud Tasks owns
// its retries) until the task server marks it done. A dispatcher that dies
// mid-delivery leaves the task running; when the lease runs out the task is
// claimed again. Redelivery is safe because the task server runs a task's
// effect and marks it done in one transaction, and answers a done task with
// its stored result instead of running it again (taskapi).
//
// Everything runs under the claims of the background-work account, so row
// security binds the dispatcher like every other caller.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/db"
)

// Task is one claimed row of task_queue.
type Task struct {
	ID          string
	Kind        string
	Payload     json.RawMessage
	Attempts    int // including this one
	MaxAttempts int
}

// Sink hands a task to whatever runs it.
type Sink interface {
	// Deliver returns nil once the task ran (local) or was accepted by
	// Cloud Tasks; an error wrapping ErrPermanent is not retried.
	Deliver(ctx context.Context, t Task) error
}

// ErrPermanent marks a delivery that no retry can fix (the task server
// refused the task as malformed, for example).
var ErrPermanent = errors.New("permanent failure")

// Stats is what one batch did (the shape of tasks.md §1's outbox statistics).
type Stats struct {
	Processed    int `json:"processed"`
	Succeeded    int `json:"succeeded"`
	Failed       int `json:"failed"`
	DeadLettered int `json:"dead_lettered"`
	Skipped      int `json:"skipped"`
}

// Dispatcher claims due tasks and delivers them.
type Dispatcher struct {
	Pool   *pgxpool.Pool
	Claims db.Claims // the background-work account's
	Sink   Sink
	// Handover: a delivered task becomes "dispatched" (Cloud Tasks runs and
	// retries it) instead of "done" (the local sink ran it).
	Handover bool
	Batch    int           // tasks per claim; 0 → 100
	Workers  int           // deliveries in flight; 0 → 4
	Lease    time.Duration // how long a claimed task is owned; 0 → 10 min
	// Backoff is the wait before attempt n+1 after attempt n failed; nil →
	// 5 s · 2^(n−1), at most 1 h.
	Backoff func(attempt int) time.Duration
	Logger  *slog.Logger
}

// DefaultBackoff is 5 s, 10 s, 20 s, … capped at one hour.
func DefaultBackoff(attempt int) time.Duration {
	d := 5 * time.Second * time.Duration(math.Pow(2, float64(max(attempt-1, 0))))
	if d <= 0 || d > time.Hour {
		return time.Hour
	}
	return d
}

func (d *Dispatcher) batch() int {
	if d.Batch > 0 {
		return d.Batch
	}
	return 100
}

func (d *Dispatcher) lease() time.Duration {
	if d.Lease > 0 {
		return d.Lease
	}
	return 10 * time.Minute
}

func (d *Dispatcher) backoff(attempt int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// claimSQL takes due tasks: pending or failed ones whose time has come, and
// running ones whose lease ran out (their dispatcher died). Each is marked
// running with a new lease and one more attempt. SKIP LOCKED lets several
// dispatchers share the queue.
const claimSQL = `
UPDATE public.task_queue t
SET status = 'running', attempts = t.attempts + 1, run_after = huey.utcnow() + $2 * interval '1 millisecond',
    updated_at = huey.utcnow()
WHERE t.id IN (
  SELECT q.id FROM public.task_queue q
  WHERE q.status IN ('pending', 'failed', 'running') AND q.run_after <= huey.utcnow() AND q.attempts < q.max_attempts
  ORDER BY q.run_after, q.created_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED)
RETURNING t.id::text, t.kind, t.payload, t.attempts, t.max_attempts`

// buryExpiredSQL dead-letters running tasks whose lease ran out after their
// last attempt (their dispatcher died on it).
const buryExpiredSQL = `
UPDATE public.task_queue SET status = 'dead', updated_at = huey.utcnow(),
  last_error = coalesce(last_error || '; ', '') || 'lease expired on the last attempt'
WHERE status = 'running' AND run_after <= huey.utcnow() AND attempts >= max_attempts`

// Claim marks up to Batch due tasks as running and returns them.
func (d *Dispatcher) Claim(ctx context.Context) ([]Task, int, error) {
	var tasks []Task
	var buried int
	err := db.InTx(ctx, d.Pool, d.Claims, func(tx *db.Tx) error {
		tasks = tasks[:0] // InTx may run this again (db.Retryable)
		tag, err := tx.Exec(ctx, buryExpiredSQL)
		if err != nil {
			return err
		}
		buried = int(tag.RowsAffected())
		rows, err := tx.Query(ctx, claimSQL, d.batch(), d.lease().Milliseconds())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t Task
			if err := rows.Scan(&t.ID, &t.Kind, &t.Payload, &t.Attempts, &t.MaxAttempts); err != nil {
				return err
			}
			tasks = append(tasks, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("claim tasks: %w", err)
	}
	return tasks, buried, nil
}

// RunOnce claims one batch and delivers it, Workers at a time.
func (d *Dispatcher) RunOnce(ctx context.Context) (Stats, error) {
	tasks, buried, err := d.Claim(ctx)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Processed: len(tasks), DeadLettered: buried}
	workers := d.Workers
	if workers <= 0 {
		workers = 4
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for _, t := range tasks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			outcome := d.deliver(ctx, t)
			mu.Lock()
			defer mu.Unlock()
			switch outcome {
			case "done", "dispatched":
				st.Succeeded++
			case "failed":
				st.Failed++
			case "dead":
				st.DeadLettered++
			default:
				st.Skipped++
			}
		})
	}
	wg.Wait()
	return st, nil
}

// deliver runs one task through the sink and records the outcome; it
// returns the task's new status ("" when it could not be recorded, so the
// lease decides).
func (d *Dispatcher) deliver(ctx context.Context, t Task) string {
	log := d.logger().With(slog.String("task_id", t.ID), slog.String("kind", t.Kind), slog.Int("attempt", t.Attempts))
	dctx, cancel := context.WithTimeout(ctx, d.lease())
	err := d.Sink.Deliver(dctx, t)
	cancel()
	if ctx.Err() != nil {
		// Shutting down: the outcome is unknown; the lease hands the task on.
		log.Warn("dispatcher stopped during delivery; the task is retried after its lease")
		return ""
	}
	// Recording the outcome must not be cut short by the end of ctx.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer rcancel()
	var status string
	rerr := db.InTx(rctx, d.Pool, d.Claims, func(tx *db.Tx) error {
		if err == nil {
			next := "done"
			if d.Handover {
				next = "dispatched"
			}
			// The task server may have marked it done already (local).
			return tx.QueryRow(rctx, `
UPDATE public.task_queue SET status = CASE WHEN status = 'running' THEN $2 ELSE status END,
  completed_at = CASE WHEN status = 'running' AND $2 = 'done' THEN huey.utcnow() ELSE completed_at END,
  last_error = NULL, updated_at = huey.utcnow()
WHERE id = $1::uuid RETURNING status`, t.ID, next).Scan(&status)
		}
		permanent := errors.Is(err, ErrPermanent)
		return tx.QueryRow(rctx, `
UPDATE public.task_queue
SET status = CASE WHEN $3 OR attempts >= max_attempts THEN 'dead' ELSE 'failed' END,
    run_after = huey.utcnow() + $2 * interval '1 millisecond', last_error = left($4, 2000), updated_at = huey.utcnow()
WHERE id = $1::uuid AND status = 'running' RETURNING status`,
			t.ID, d.backoff(t.Attempts).Milliseconds(), permanent, err.Error()).Scan(&status)
	})
	switch {
	case errors.Is(rerr, db.ErrNotFound):
		// No longer running: the task server finished it after all.
		log.Info("task finished elsewhere")
		return "done"
	case rerr != nil:
		log.Error("record task outcome", slog.String("error", rerr.Error()))
		return ""
	case err != nil:
		log.Warn("task delivery failed", slog.String("error", err.Error()), slog.String("status", status))
	default:
		log.Debug("task delivered", slog.String("status", status))
	}
	return status
}

// Run delivers due tasks every interval until ctx ends.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		st, err := d.RunOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			d.logger().Error("dispatch", slog.String("error", err.Error()))
		case st.Processed > 0 || st.DeadLettered > 0:
			d.logger().Info("dispatched", slog.Int("processed", st.Processed), slog.Int("succeeded", st.Succeeded),
				slog.Int("failed", st.Failed), slog.Int("dead_lettered", st.DeadLettered))
		}
		// A full batch means more may be due: go again at once.
		if err == nil && st.Processed == d.batch() {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
