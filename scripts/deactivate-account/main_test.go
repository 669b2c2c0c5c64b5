package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/scripts/internal/staff/stafftest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

const (
	reader  = "11111111-1111-4111-8111-111111111111"
	admin   = "22222222-2222-4222-8222-222222222222"
	lms     = "33333333-3333-4333-8333-333333333333"
	backend = "44444444-4444-4444-8444-444444444444"
)

func active(t *testing.T, d *dbtest.DB, table, id string) bool {
	t.Helper()
	var a bool
	if err := d.SuperPool(t).QueryRow(context.Background(), `SELECT is_active FROM `+table+` WHERE id = $1`, id).Scan(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// End to end: a dry run changes nothing, a run deactivates and records the
// event an admin sees, a second run is unchanged, and the out-of-scope
// accounts (a Wriveted admin, a backend service account) are refused.
func TestDeactivate(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	if _, err := d.SuperPool(t).Exec(ctx, `
INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type) VALUES
  ('`+reader+`', true, 'leaver@example.org', 'Leaver', '{}', now(), now(), 'PUBLIC'),
  ('`+admin+`', true, 'ops@wriveted.com', 'Ops', '{}', now(), now(), 'WRIVETED');
INSERT INTO service_accounts (id, name, is_active, type, created_at, updated_at) VALUES
  ('`+lms+`', 'LMS', true, 'LMS', now(), now()), ('`+backend+`', 'Backend', true, 'BACKEND', now(), now())`); err != nil {
		t.Fatal(err)
	}
	env := stafftest.Env(d, dbtest.RoleStaffRW)
	var out bytes.Buffer
	if err := run(ctx, []string{"-email", "leaver@example.org", "-dry-run"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dry run: would deactivate") || !active(t, d, "users", reader) {
		t.Fatalf("dry run: %q, active %v", out.String(), active(t, d, "users", reader))
	}
	if ev := stafftest.AdminEvents(t, d, "Staff: deactivate-account"); len(ev) != 0 {
		t.Fatalf("a dry run recorded %d events", len(ev))
	}

	for _, args := range [][]string{{"-email", "leaver@example.org"}, {"-service-account", lms}} {
		out.Reset()
		if err := run(ctx, args, env, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "deactivated: ") {
			t.Fatalf("%v: %v %q", args, err, out.String())
		}
		out.Reset()
		if err := run(ctx, args, env, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "unchanged: ") {
			t.Fatalf("%v again: %v %q", args, err, out.String())
		}
	}
	if active(t, d, "users", reader) || active(t, d, "service_accounts", lms) {
		t.Fatal("not deactivated")
	}
	ev := stafftest.AdminEvents(t, d, "Staff: deactivate-account")
	if len(ev) != 2 || ev[0].Info["staff_actor"] != "tester" || ev[0].Info["staff_login"] != dbtest.RoleStaffRW ||
		ev[0].Info["account_id"] != reader || ev[1].Info["account_id"] != lms {
		t.Fatalf("events: %+v", ev)
	}

	// Out of scope: refused with one line, nothing changed.
	for _, args := range [][]string{{"-email", "ops@wriveted.com"}, {"-service-account", backend}} {
		err := run(ctx, args, env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "is not deactivated by a staff script") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if !active(t, d, "users", admin) || !active(t, d, "service_accounts", backend) {
		t.Error("an out-of-scope account was deactivated")
	}
	// Bad input.
	for name, args := range map[string][]string{
		"none": {}, "both": {"-email", "a@b.c", "-service-account", lms}, "bad id": {"-service-account", "x"},
		"unknown": {"-email", "nobody@example.org"}, "extra": {"-email", "a@b.c", "more"},
	} {
		if err := run(ctx, args, env, io.Discard, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The read-only login cannot take the job's role.
	if err := run(ctx, []string{"-email", "leaver@example.org"}, stafftest.Env(d, dbtest.RoleStaffRO), io.Discard, io.Discard); err == nil {
		t.Error("huey_staff_ro deactivated an account")
	}
}
