package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/sampledata"
	"github.com/wriveted/huey-api/scripts/internal/staff/stafftest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func count(t *testing.T, pool *pgxpool.Pool, q string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDryRunThenImport runs the command on the sample data: a dry run
// writes nothing, the import writes and refreshes the search view, and a
// second import changes nothing.
func TestDryRunThenImport(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super := d.SuperPool(t)
	rw := env(map[string]string{"STAFF_DATABASE_URL": d.RoleURL(dbtest.RoleStaffRW)})
	path, ok := sampledata.LabelledBooks()
	if !ok {
		t.Fatalf("the sample data is missing: looked for %s", path)
	}

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-file", path, "-dry-run"}, rw, &out, &errOut); err != nil {
		t.Fatalf("dry run: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"dry run of", "nothing was written", "rows read:  487", "created:    465", "skipped:    22", "no ISBN"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out.String())
		}
	}
	if errOut.Len() != 0 {
		t.Errorf("a progress bar without a terminal: %q", errOut.String())
	}
	if n := count(t, super, `SELECT count(*) FROM editions`) + count(t, super, `SELECT count(*) FROM authors`) +
		count(t, super, `SELECT count(*) FROM works`) + count(t, super, `SELECT count(*) FROM labelsets`); n != 0 {
		t.Fatalf("the dry run wrote %d rows", n)
	}

	out.Reset()
	if err := run(ctx, []string{"-file", path}, rw, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "search view refreshed") || !strings.Contains(out.String(), "created:    465") {
		t.Errorf("import output:\n%s", out.String())
	}
	if n := count(t, super, `SELECT count(*) FROM editions WHERE hydrated`); n != 465 {
		t.Errorf("%d hydrated editions", n)
	}
	if n := count(t, super, `SELECT count(*) FROM search_view_v1`); n == 0 {
		t.Error("the search view was not refreshed")
	}
	// the write is an event an admin reads (the dry run recorded none)
	if ev := stafftest.AdminEvents(t, d, "Staff: import-books"); len(ev) != 1 || ev[0].Info["created"] != float64(465) ||
		ev[0].Info["staff_actor"] == "" || ev[0].Info["staff_login"] != dbtest.RoleStaffRW {
		t.Errorf("events: %+v", ev)
	}

	out.Reset()
	if err := run(ctx, []string{"-file", path}, rw, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "created:    0") || !strings.Contains(out.String(), "unchanged:  465") {
		t.Errorf("second import output:\n%s", out.String())
	}
	if ev := stafftest.AdminEvents(t, d, "Staff: import-books"); len(ev) != 1 {
		t.Errorf("%d events after an import that changed nothing", len(ev))
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	csv := filepath.Join(t.TempDir(), "books.csv")
	if err := os.WriteFile(csv, []byte("BookTitle,Author,ISBN\nPig the Pug,Aaron Blabey,9781742997698\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rw := env(map[string]string{"STAFF_DATABASE_URL": d.RoleURL(dbtest.RoleStaffRW)})
	for name, args := range map[string][]string{
		"no file":      {},
		"missing file": {"-file", filepath.Join(t.TempDir(), "nope.csv")},
		"extra args":   {"-file", csv, "more"},
		"bad flag":     {"-apply"},
	} {
		if err := run(ctx, args, rw, io.Discard, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := run(ctx, []string{"-file", csv}, env(nil), io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "STAFF_DATABASE_URL") {
		t.Errorf("no database configured: %v", err)
	}
	// The read-only staff role cannot import.
	ro := env(map[string]string{"STAFF_DATABASE_URL": d.RoleURL(dbtest.RoleStaffRO)})
	if err := run(ctx, []string{"-file", csv}, ro, io.Discard, io.Discard); err == nil {
		t.Error("huey_staff_ro imported")
	}
	if n := count(t, d.SuperPool(t), `SELECT count(*) FROM editions`); n != 0 {
		t.Errorf("%d editions written", n)
	}
}
