package queries

import "github.com/jackc/pgx/v5"

// sqlc's own batch API (:batchone, :batchmany, :batchexec) builds a new
// pgx.Batch per call and sends it itself, so its queries cannot join the
// batch that db.Read prefixes with the caller's claims (one round trip per
// read). These helpers queue a generated SQL constant on a caller's batch
// instead and scan into the generated row type: sqlc emits a row struct's
// fields in the order of the query's columns, so pgx scans by position.

// Queuer is what a pgx.Batch offers.
type Queuer interface {
	Queue(sql string, args ...any) *pgx.QueuedQuery
}

// QueueOne queues sql on b; *dst is set to its first row, or stays nil when
// the query returns none. T is a row struct.
func QueueOne[T any](b Queuer, dst **T, sql string, args ...any) {
	queueOne(b, dst, pgx.RowToAddrOfStructByPos[T], sql, args...)
}

// QueueValue is QueueOne for a query of one column (sqlc returns its type,
// not a struct).
func QueueValue[T any](b Queuer, dst **T, sql string, args ...any) {
	queueOne(b, dst, pgx.RowToAddrOf[T], sql, args...)
}

func queueOne[T any](b Queuer, dst **T, scan pgx.RowToFunc[*T], sql string, args ...any) {
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		out, err := pgx.CollectRows(rows, scan)
		if err == nil && len(out) > 0 {
			*dst = out[0]
		}
		return err
	})
}

// QueueMany queues sql on b; *dst is set to its rows (empty, not nil, when
// there are none). T is a row struct.
func QueueMany[T any](b Queuer, dst *[]T, sql string, args ...any) {
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[T])
		if err == nil {
			*dst = out
		}
		return err
	})
}
