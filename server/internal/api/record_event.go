package api

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Recording events: the helpers every handler that writes an event uses
// (the /events routes are in event.go).

// actor returns the caller's ids as recorded on events.
func actor(id *Identity) (userID, serviceAccountID *uuid.UUID) {
	a := id.Account.ID
	switch {
	case id.Anonymous():
		return nil, nil
	case id.IsUser():
		return &a, nil
	default:
		return nil, &a
	}
}

// recordEvent writes an event through huey.record_event, in tx: the one
// function every event goes through (DECISIONS §6). It is attributed to the
// caller.
func recordEvent(ctx context.Context, tx *db.Tx, id *Identity, title, description, level string, schoolID *int64, info any) error {
	userID, saID := actor(id)
	_, _, err := recordEventAs(ctx, tx, userID, saID, title, description, level, schoolID, info)
	return err
}

// recordEventAs is recordEvent attributed to the given accounts instead of
// the caller (an event about a user the caller may update, a notification to
// a reader); row security decides whether the caller may record it. It
// returns the event's id and its timestamp (the transaction's UTC time).
func recordEventAs(ctx context.Context, tx *db.Tx, userID, serviceAccountID *uuid.UUID,
	title, description, level string, schoolID *int64, info any) (uuid.UUID, time.Time, error) {
	b, err := json.Marshal(info)
	if err != nil {
		return uuid.Nil, time.Time{}, err
	}
	if info == nil {
		b = []byte("{}")
	}
	var (
		id uuid.UUID
		ts time.Time
	)
	err = tx.QueryRow(ctx, queries.RecordEvent,
		title, description, level, schoolID, userID, serviceAccountID, b).Scan(&id, &ts)
	if err != nil {
		return uuid.Nil, time.Time{}, fmt.Errorf("record event %q: %w", title, err)
	}
	return id, ts, nil
}
