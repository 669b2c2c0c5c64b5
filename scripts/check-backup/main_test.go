package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/pglocal"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// dump writes a custom-format pg_dump of d after running setup as a superuser.
func dump(t *testing.T, d *dbtest.DB, setup string) string { return dumpAs(t, d, setup, "-Fc") }

// dumpAs is dump in a pg_dump format (-Fc, -Fp).
func dumpAs(t *testing.T, d *dbtest.DB, setup, format string) string {
	t.Helper()
	if setup != "" {
		if _, err := d.SuperPool(t).Exec(context.Background(), setup); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		dir, err := pglocal.FindBinaries()
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(dir, "pg_dump")
	}
	path := filepath.Join(t.TempDir(), "huey.dump")
	if out, err := exec.Command(bin, format, "-f", path, "--dbname", d.SuperuserURL()).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	return path
}

// adminEnv points CHECK_BACKUP_DATABASE_URL at the test cluster's postgres
// database, as login (a superuser unless given).
func adminEnv(t *testing.T, d *dbtest.DB, login string) func(string) string {
	t.Helper()
	raw := d.SuperuserURL()
	if login != "" {
		raw = d.RoleURL(login)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/postgres"
	return func(k string) string {
		if k == "CHECK_BACKUP_DATABASE_URL" {
			return u.String()
		}
		return ""
	}
}

func scratchDatabases(t *testing.T, d *dbtest.DB) int {
	t.Helper()
	var n int
	if err := d.SuperPool(t).QueryRow(context.Background(),
		`SELECT count(*) FROM pg_database WHERE datname LIKE 'huey_backup_check_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// End to end: a dump of a migrated database with rows restores, migrates,
// passes the checks and reports its row counts; the scratch database is
// dropped. A dump whose table lost FORCE ROW LEVEL SECURITY fails the check;
// a file that is not a dump, and a login that may not create databases (a
// staff login), are refused with one line.
func TestCheckBackup(t *testing.T) {
	d := dbtest.NewDB(t)
	ctx := context.Background()
	good := dump(t, d, `INSERT INTO schools (id, state, name) VALUES (1, 'ACTIVE', 'One'), (2, 'ACTIVE', 'Two')`)
	var out bytes.Buffer
	if err := run(ctx, []string{"-file", good, "-dry-run"}, adminEnv(t, d, ""), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "is a readable archive") {
		t.Fatalf("dry run: %v %q", err, out.String())
	}
	before := scratchDatabases(t, d)
	out.Reset()
	if err := run(ctx, []string{"-file", good}, adminEnv(t, d, ""), &out, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log(out.String())
	for _, want := range []string{"is usable", "row security and roles check out", "(0 of them now)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(out.String(), "\nschools ") || !strings.Contains(out.String(), " 2\n") {
		t.Errorf("no row count of schools:\n%s", out.String())
	}
	if n := scratchDatabases(t, d); n != before {
		t.Errorf("%d scratch databases left behind", n-before)
	}
	// plain SQL too
	out.Reset()
	if err := run(ctx, []string{"-file", dumpAs(t, d, "", "-Fp")}, adminEnv(t, d, ""), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "is usable") {
		t.Errorf("plain dump: %v\n%s", err, out.String())
	}

	// A backup whose table lost FORCE ROW LEVEL SECURITY is not usable as is.
	d2 := dbtest.NewDB(t)
	bad := dump(t, d2, `ALTER TABLE users NO FORCE ROW LEVEL SECURITY`)
	out.Reset()
	err := run(ctx, []string{"-file", bad}, adminEnv(t, d2, ""), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "1 checks failed") ||
		!strings.Contains(out.String(), "FAILED: table users is used by our roles without row-level security enabled and forced") {
		t.Errorf("unforced table: %v\n%s", err, out.String())
	}

	// Not a dump; no URL; a staff login.
	junk := filepath.Join(t.TempDir(), "junk.sql")
	if err := os.WriteFile(junk, []byte("this is not SQL;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		args []string
		env  func(string) string
	}{
		"junk":         {[]string{"-file", junk}, adminEnv(t, d, "")},
		"missing file": {[]string{"-file", filepath.Join(t.TempDir(), "nope")}, adminEnv(t, d, "")},
		"no file":      {nil, adminEnv(t, d, "")},
		"no url":       {[]string{"-file", good}, func(string) string { return "" }},
		"staff login":  {[]string{"-file", good}, adminEnv(t, d, dbtest.RoleStaffRW)},
	} {
		err := run(ctx, c.args, c.env, io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := scratchDatabases(t, d); n != before {
		t.Errorf("%d scratch databases left behind by refused runs", n-before)
	}
}
