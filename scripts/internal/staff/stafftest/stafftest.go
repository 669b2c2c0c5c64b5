// Package stafftest helps the staff scripts' tests: the environment of a
// script run against a test database, and the audit events as an admin reads
// them through GET /v1/events (huey_app with an admin's claims, under row
// security).
package stafftest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// Env is a script's environment: STAFF_DATABASE_URL logs in as login,
// STAFF_ACTOR is "tester", plus extra pairs.
func Env(d *dbtest.DB, login string, extra ...string) func(string) string {
	m := map[string]string{"STAFF_DATABASE_URL": d.RoleURL(login), "STAFF_ACTOR": "tester"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return func(k string) string { return m[k] }
}

// AdminClaims are a Wriveted admin's claims, as the API sets them.
const AdminClaims = `{"kind":"user","user_type":"wriveted","id":"00000000-0000-4000-8000-0000000000ad",
 "principals":["system:everyone","system:authenticated","role:admin"],"school_ids":[],"child_ids":[],"is_admin":true}`

// Event is one event as GET /v1/events shows it.
type Event struct {
	Title    string
	SchoolID *int64
	Info     map[string]any
}

// AdminEvents returns the events titled title, read as the API reads them
// for an admin: the API's login, role huey_app, an admin's claims.
func AdminEvents(t *testing.T, d *dbtest.DB, title string) []Event {
	t.Helper()
	ctx := context.Background()
	tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
	dbtest.As(t, tx, AdminClaims)
	rows, err := tx.Query(ctx, `SELECT title, school_id, info FROM events WHERE title = $1 ORDER BY "timestamp", id`, title)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e   Event
			raw []byte
		)
		if err := rows.Scan(&e.Title, &e.SchoolID, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &e.Info); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
