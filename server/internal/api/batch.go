package api

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Reads of JSON rows: what queues a query on a pgx.Batch (db.Read sends the
// batch in one round trip) and collects its rows, and txJSON, the same read
// inside a write transaction.

// batchQueuer is what both a batch and a transaction offer for a detail read.
type batchQueuer = queries.Queuer

// queueJSON queues q and stores its single JSON column of the first row in
// *out (left nil when there is no row).
func queueJSON(b *pgx.Batch, out *json.RawMessage, q string, args ...any) {
	queueJSONRows(b, func(v []byte) { *out = v }, q, args...)
}

// queueJSONList queues q and collects its single JSON column of every row.
func queueJSONList(b *pgx.Batch, out *[]json.RawMessage, q string, args ...any) {
	*out = []json.RawMessage{}
	queueJSONRows(b, func(v []byte) { *out = append(*out, v) }, q, args...)
}

// queueJSONRows queues q and hands each row's single JSON column to each.
func queueJSONRows(b batchQueuer, each func([]byte), q string, args ...any) {
	b.Queue(q, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var v []byte
			if err := rows.Scan(&v); err != nil {
				return err
			}
			each(v)
		}
		return rows.Err()
	})
}

// txJSON reads one JSON value inside a write transaction (nil: no row).
func txJSON(ctx context.Context, tx *db.Tx, q string, args ...any) (json.RawMessage, error) {
	var out json.RawMessage
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v []byte
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = v
	}
	return out, rows.Err()
}
