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
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/scripts/internal/staff/stafftest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

const secret = "a-secret-key-for-staff-token-tests-32b"

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// End to end: a dry run writes nothing; onboarding creates the school
// (ACTIVE), its admin and an LMS account whose token verifies; a second run
// changes nothing and prints no token; a changed name updates the school
// but never its state; an existing account that is not this school's admin
// is refused; every write is an event an admin reads.
func TestOnboard(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super := d.SuperPool(t)
	env := stafftest.Env(d, dbtest.RoleStaffRW, "SECRET_KEY", secret)
	args := []string{"-country", "aus", "-official-id", "41000", "-name", "Hill Primary", "-suburb", "Hilltown",
		"-state", "NSW", "-postcode", "2999", "-admin-email", "head@hill.example", "-admin-name", "Ana Head", "-lms"}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := super.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	var out bytes.Buffer
	if err := run(ctx, append(args, "-dry-run"), env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dry run (nothing was written): school ") ||
		!strings.Contains(out.String(), "school created, admin created, LMS created") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("dry run: %q", out.String())
	}
	if n := count(`SELECT (SELECT count(*) FROM schools) + (SELECT count(*) FROM users) + (SELECT count(*) FROM service_accounts WHERE type = 'LMS') + (SELECT count(*) FROM events)`); n != 0 {
		t.Fatalf("the dry run wrote %d rows", n)
	}

	out.Reset()
	var errOut bytes.Buffer
	if err := run(ctx, args, env, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "school created, admin created, LMS created") || !strings.Contains(errOut.String(), "shown only now") {
		t.Fatalf("onboard: %q %q", out.String(), errOut.String())
	}
	h, _ := auth.NewHS256([]byte(secret))
	tok, err := h.Verify(lastLine(out.String()), time.Now())
	if err != nil || tok.Subject.Kind != auth.KindServiceAccount {
		t.Fatalf("LMS token: %+v %v", tok, err)
	}
	var (
		state, location string
		linked          int
	)
	if err := super.QueryRow(ctx, `SELECT s.state::text, s.info ->> 'location',
		(SELECT count(*) FROM service_account_school_association l JOIN service_accounts a ON a.id = l.service_account_id
		 WHERE l.school_id = s.id AND a.id = $1 AND a.type = 'LMS' AND a.is_active)
		FROM schools s WHERE s.country_code = 'AUS' AND s.official_identifier = '41000'`, tok.Subject.ID).
		Scan(&state, &location, &linked); err != nil {
		t.Fatal(err)
	}
	if state != "ACTIVE" || linked != 1 || !strings.Contains(location, `"suburb": "Hilltown"`) {
		t.Fatalf("school: %s %s linked=%d", state, location, linked)
	}
	if n := count(`SELECT count(*) FROM users u JOIN educators e ON e.id = u.id JOIN school_admins a ON a.id = u.id
		JOIN schools s ON s.id = e.school_id WHERE u.email = 'head@hill.example' AND u.type = 'SCHOOL_ADMIN' AND s.official_identifier = '41000'`); n != 1 {
		t.Fatalf("school admin rows: %d", n)
	}

	// Again: nothing changes, no token, no event.
	out.Reset()
	if err := run(ctx, args, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "school unchanged, admin unchanged, LMS unchanged") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("second run: %q", out.String())
	}
	// A new name (and the school made inactive meanwhile): updated, state kept.
	if _, err := super.Exec(ctx, `UPDATE schools SET state = 'INACTIVE'`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"-country", "AUS", "-official-id", "41000", "-name", "Hill Public School"}, env, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "school updated") {
		t.Fatalf("rename: %v %q", err, out.String())
	}
	if n := count(`SELECT count(*) FROM schools WHERE name = 'Hill Public School' AND state = 'INACTIVE'`); n != 1 {
		t.Fatal("the rename changed the state or not the name")
	}
	ev := stafftest.AdminEvents(t, d, "Staff: onboard-school")
	if len(ev) != 2 || ev[0].Info["school"] != "created" || ev[0].Info["lms"] != "created" ||
		ev[0].Info["staff_actor"] != "tester" || ev[0].SchoolID == nil || ev[1].Info["school"] != "updated" {
		t.Fatalf("events: %+v", ev)
	}

	// Out of scope: an existing account that is not this school's admin (a
	// Wriveted admin) is refused, and nothing of the run is written.
	if _, err := super.Exec(ctx, `INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
		VALUES (gen_random_uuid(), true, 'ops@wriveted.com', 'Ops', '{}', now(), now(), 'WRIVETED')`); err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"-country", "AUS", "-official-id", "52000", "-name", "Other", "-admin-email", "ops@wriveted.com"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "is not a school admin of this school") {
		t.Fatalf("hijack: %v", err)
	}
	if n := count(`SELECT count(*) FROM schools WHERE official_identifier = '52000'`); n != 0 {
		t.Fatal("a refused run left its school behind")
	}
	// Bad input, refused before anything is written.
	for name, a := range map[string][]string{
		"no name":        {"-country", "AUS", "-official-id", "1"},
		"bad country":    {"-country", "ZZZ", "-official-id", "1", "-name", "X"},
		"bad e-mail":     {"-country", "AUS", "-official-id", "1", "-name", "X", "-admin-email", "nope"},
		"lms, no secret": {"-country", "AUS", "-official-id", "1", "-name", "X", "-lms"},
		"extra argument": {"-country", "AUS", "-official-id", "1", "-name", "X", "more"},
	} {
		e := env
		if name == "lms, no secret" {
			e = stafftest.Env(d, dbtest.RoleStaffRW)
		}
		if err := run(ctx, a, e, io.Discard, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := count(`SELECT count(*) FROM schools WHERE official_identifier = '1'`); n != 0 {
		t.Fatal("bad input wrote a school")
	}
	// The read-only login cannot take the job's role.
	if err := run(ctx, []string{"-country", "AUS", "-official-id", "9", "-name", "X"}, stafftest.Env(d, dbtest.RoleStaffRO), io.Discard, io.Discard); err == nil {
		t.Error("huey_staff_ro onboarded a school")
	}
}
