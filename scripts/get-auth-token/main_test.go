package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/scripts/internal/staff/stafftest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

const secret = "a-secret-key-for-staff-token-tests-32b"

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestCreateAdminThenToken(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	rw := map[string]string{"SECRET_KEY": secret, "STAFF_DATABASE_URL": d.RoleURL(dbtest.RoleStaffRW)}
	ro := map[string]string{"SECRET_KEY": secret, "STAFF_DATABASE_URL": d.RoleURL(dbtest.RoleStaffRO)}
	get := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }

	// Unknown e-mail without -create-admin fails; a dry run creates nothing.
	if err := run(ctx, []string{"-email", "ops@wriveted.com"}, get(ro), io.Discard, io.Discard); err == nil {
		t.Fatal("token for an unknown e-mail")
	}
	var errOut bytes.Buffer
	if err := run(ctx, []string{"-email", "ops@wriveted.com", "-create-admin", "-dry-run"}, get(rw), io.Discard, &errOut); err != nil ||
		!strings.Contains(errOut.String(), "would create") {
		t.Fatalf("dry run: %v %s", err, errOut.String())
	}
	var n int
	if err := d.SuperPool(t).QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("dry run wrote %d users (%v)", n, err)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"-email", "ops@wriveted.com", "-create-admin", "-name", "Ops"}, get(rw), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	h, _ := auth.NewHS256([]byte(secret))
	tok, err := h.Verify(lastLine(out.String()), time.Now())
	if err != nil || tok.Subject.Kind != auth.KindUser {
		t.Fatalf("token: %+v %v", tok, err)
	}
	var typ string
	if err := d.SuperPool(t).QueryRow(ctx, `SELECT u.type::text FROM users u JOIN wriveted_admins w ON w.id = u.id WHERE u.id = $1`,
		tok.Subject.ID).Scan(&typ); err != nil || typ != "WRIVETED" {
		t.Fatalf("created admin: %s %v", typ, err)
	}
	// the creation is an event an admin reads
	if ev := stafftest.AdminEvents(t, d, "Staff: get-auth-token"); len(ev) != 1 || ev[0].Info["user_id"] != tok.Subject.ID.String() {
		t.Fatalf("events: %+v", ev)
	}
	// Again, read-only: the same account.
	out.Reset()
	if err := run(ctx, []string{"-email", "ops@wriveted.com"}, get(ro), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if again, err := h.Verify(lastLine(out.String()), time.Now()); err != nil || again.Subject.ID != tok.Subject.ID {
		t.Fatalf("second token: %+v %v", again, err)
	}
	// The read-only staff role cannot create (row security and grants bind it).
	if err := run(ctx, []string{"-email", "x@wriveted.com", "-create-admin"}, get(ro), io.Discard, io.Discard); err == nil {
		t.Fatal("huey_staff_ro created a user")
	}
}

func TestServiceAccountToken(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	var id string
	if err := d.SuperPool(t).QueryRow(ctx, `INSERT INTO service_accounts (id, name, is_active, type, created_at, updated_at)
		VALUES (gen_random_uuid(), 'LMS', true, 'LMS', now(), now()) RETURNING id::text`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SECRET_KEY": secret, "STAFF_DATABASE_URL": d.RoleURL(dbtest.RoleStaffRO)}
	var out bytes.Buffer
	if err := run(ctx, []string{"-service-account", id}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	h, _ := auth.NewHS256([]byte(secret))
	tok, err := h.Verify(lastLine(out.String()), time.Now())
	if err != nil || tok.Subject.Kind != auth.KindServiceAccount || tok.Subject.ID.String() != id {
		t.Fatalf("token: %+v %v", tok, err)
	}
	if err := run(ctx, []string{"-service-account", "not-a-uuid"}, func(k string) string { return env[k] }, io.Discard, io.Discard); err == nil {
		t.Fatal("accepted a bad id")
	}
}

func TestStaffURLReplacesTheUser(t *testing.T) {
	t.Parallel()
	u, err := db.StaffURL(func(k string) string {
		return map[string]string{"DATABASE_URL": "postgresql+psycopg2://huey_api:pw@db:5432/huey"}[k]
	}, "huey_staff_ro")
	if err != nil || u != "postgres://huey_staff_ro@db:5432/huey" {
		t.Fatalf("%q %v", u, err)
	}
}
