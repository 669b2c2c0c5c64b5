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

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/pglocal"
	"github.com/wriveted/huey-api/scripts/internal/staff/stafftest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

const (
	schoolA = "00000000-0000-4000-8000-00000000000a"
	schoolB = "00000000-0000-4000-8000-00000000000b"
	collB   = "00000000-0000-4000-8000-0000000000c2"
)

// sample is ../shared/data/library-export.csv beside the checkout.
func sample(t *testing.T) string {
	t.Helper()
	root, err := pglocal.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(filepath.Dir(root), "shared", "data", "library-export.csv")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the sample data is missing: %v", err)
	}
	return p
}

func count(t *testing.T, pool *pgxpool.Pool, q string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func fixture(t *testing.T, d *dbtest.DB) {
	t.Helper()
	if _, err := d.SuperPool(t).Exec(context.Background(), `
INSERT INTO schools (id, state, name, wriveted_identifier) VALUES (1, 'ACTIVE', 'A', '`+schoolA+`'), (2, 'ACTIVE', 'B', '`+schoolB+`');
INSERT INTO collections (id, school_id, name) VALUES ('`+collB+`', '`+schoolB+`', 'B');
INSERT INTO works (id, type, title) VALUES (1, 'BOOK', 'Known');
INSERT INTO editions (isbn, work_id, edition_title, hydrated_at) VALUES ('9786202082983', 1, 'Known', now());
INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available) VALUES ('`+collB+`', '9786202082983', 9, 9)`); err != nil {
		t.Fatal(err)
	}
}

// End to end on the 2,500-book sample: a dry run writes nothing; the import
// creates the school's collection, adds every book (ISBNs normalised, the
// duplicate merged, the two bad rows skipped by reason), makes the unknown
// ISBNs bare editions queued for hydration, and records the event an admin
// reads; a second import changes nothing; a changed row is an update.
func TestImportSample(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super := d.SuperPool(t)
	fixture(t, d)
	path := sample(t)
	env := stafftest.Env(d, dbtest.RoleStaffRW)

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-school", schoolA, "-file", path, "-dry-run"}, env, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	want := "rows 2503: added 2500, updated 0, unchanged 0; skipped 2 (invalid ISBN 1, no ISBN 1); merged 1 (duplicate ISBNs)"
	if !strings.Contains(out.String(), "nothing was written") || !strings.Contains(out.String(), want) {
		t.Fatalf("dry run:\n%s", out.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("a progress bar without a terminal: %q", errOut.String())
	}
	if n := count(t, super, `SELECT (SELECT count(*) FROM collections) + (SELECT count(*) FROM editions) +
		(SELECT count(*) FROM events) + (SELECT count(*) FROM task_queue) + (SELECT count(*) FROM collection_items)`); n != 1+1+1 {
		t.Fatalf("the dry run wrote rows (%d, want the fixture's 3)", n)
	}

	out.Reset()
	if err := run(ctx, []string{"-school", schoolA, "-file", path}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Logf("import of %s:\n%s", path, out.String())
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "the school's collection was created") {
		t.Fatalf("import:\n%s", out.String())
	}
	const inA = `SELECT count(*) FROM collection_items i JOIN collections c ON c.id = i.collection_id WHERE c.school_id = '` + schoolA + `'`
	if n := count(t, super, inA); n != 2500 {
		t.Fatalf("%d items in the school's collection", n)
	}
	// normalised (hyphens, spaces, ISBN-10), merged, zeros kept
	isbn10, err := catalog.NormalizeISBN("1925240088")
	if err != nil {
		t.Fatal(err)
	}
	for isbn, want := range map[string]string{"9780359845187": "5/2", "9785928841904": "1/0", isbn10: "1/0",
		"9788247407936": "3/1", "9786202082983": "1/0"} {
		var got string
		if err := super.QueryRow(ctx, `SELECT i.copies_total || '/' || i.copies_available FROM collection_items i
			JOIN collections c ON c.id = i.collection_id WHERE c.school_id = $1 AND i.edition_isbn = $2`, schoolA, isbn).Scan(&got); err != nil || got != want {
			t.Errorf("%s: %q (%v), want %s", isbn, got, err, want)
		}
	}
	bare := count(t, super, `SELECT count(*) FROM editions WHERE hydrated_at IS NULL`)
	queued := count(t, super, `SELECT coalesce(sum(jsonb_array_length(payload)), 0) FROM task_queue WHERE kind = 'hydrate-bulk'`)
	tasks := count(t, super, `SELECT count(*) FROM task_queue WHERE kind = 'hydrate-bulk'`)
	if bare != 2499 || queued != bare || tasks != (bare+499)/500 {
		t.Errorf("bare editions %d, queued ISBNs %d in %d tasks", bare, queued, tasks)
	}
	if n := count(t, super, `SELECT copies_total FROM collection_items WHERE collection_id = $1`, collB); n != 9 {
		t.Error("another school's collection changed")
	}
	ev := stafftest.AdminEvents(t, d, "Staff: import-collection")
	if len(ev) != 1 || ev[0].Info["added"] != float64(2500) || ev[0].Info["staff_actor"] != "tester" ||
		ev[0].SchoolID == nil || *ev[0].SchoolID != 1 {
		t.Fatalf("events: %+v", ev)
	}

	// Again: nothing changes, nothing is queued or recorded.
	out.Reset()
	if err := run(ctx, []string{"-school", schoolA, "-file", path}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "added 0, updated 0, unchanged 2500") {
		t.Fatalf("second import:\n%s", out.String())
	}
	if n := count(t, super, `SELECT count(*) FROM task_queue`); n != tasks {
		t.Errorf("the second import queued %d more tasks", n-tasks)
	}
	if ev := stafftest.AdminEvents(t, d, "Staff: import-collection"); len(ev) != 1 {
		t.Errorf("%d events after an import that changed nothing", len(ev))
	}

	// A changed row is an update.
	changed := filepath.Join(t.TempDir(), "changed.csv")
	if err := os.WriteFile(changed, []byte("Barcode,ISBN,Copies,Available\nB1,978-6-2020-8298-3,4,3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"-school", schoolA, "-file", changed}, env, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "rows 1: added 0, updated 1, unchanged 0") {
		t.Fatalf("update: %v\n%s", err, out.String())
	}
}

// Bad input is refused with one line before anything is written, and the
// job role cannot reach another school's collection, delete items, or read
// accounts.
func TestImportRefusals(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	fixture(t, d)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.csv", "ISBN,Copies\n9780306406157,2\n")
	env := stafftest.Env(d, dbtest.RoleStaffRW)
	for name, args := range map[string][]string{
		"no args":        {},
		"no file":        {"-school", schoolA},
		"bad school":     {"-school", "1", "-file", good},
		"unknown school": {"-school", "00000000-0000-4000-8000-0000000000ff", "-file", good},
		"missing file":   {"-school", schoolA, "-file", filepath.Join(dir, "nope.csv")},
		"no ISBN column": {"-school", schoolA, "-file", write("nocol.csv", "Barcode,Title\nB1,X\n")},
		"not CSV":        {"-school", schoolA, "-file", write("bad.csv", "ISBN,Title\n\"9780306406157,X\n")},
		"empty":          {"-school", schoolA, "-file", write("empty.csv", "")},
	} {
		err := run(ctx, args, env, io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	super := d.SuperPool(t)
	if n := count(t, super, `SELECT (SELECT count(*) FROM collections) + (SELECT count(*) FROM editions) + (SELECT count(*) FROM events)`); n != 2 {
		t.Fatalf("refused runs wrote rows (%d, want the fixture's 2)", n)
	}
	// The read-only login cannot take the job's role.
	if err := run(ctx, []string{"-school", schoolA, "-file", good}, stafftest.Env(d, dbtest.RoleStaffRO), io.Discard, io.Discard); err == nil {
		t.Error("huey_staff_ro imported")
	}

	// Out of scope, as the job role scoped to school A.
	pool := d.Pool(t, dbtest.RoleStaffRW)
	for name, q := range map[string]string{
		"write B's collection": `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available)
			VALUES ('` + collB + `', '9786202082983', 1, 1)`,
		"delete items":          `DELETE FROM collection_items`,
		"change a school":       `UPDATE schools SET state = 'INACTIVE'`,
		"read accounts":         `SELECT count(*) FROM users`,
		"read events":           `SELECT count(*) FROM events`,
		"enqueue any task":      `SELECT huey.enqueue_task('send-email', '{}', NULL)`,
		"create a B collection": `INSERT INTO collections (school_id, name) VALUES ('` + schoolB + `', 'X')`,
	} {
		tx := dbtest.Tx(t, pool)
		if _, err := tx.Exec(ctx, `SELECT set_config('role', 'huey_job_import_collection', true),
			set_config('request.jwt.claims', '{"kind":"staff","principals":["staff:import-collection","staff-school:`+schoolA+`"]}', true)`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, q); err == nil {
			t.Errorf("%s: allowed", name)
		}
		_ = tx.Rollback(ctx)
	}
	// and reading B's items finds none; updating them changes none
	tx := dbtest.Tx(t, pool)
	if _, err := tx.Exec(ctx, `SELECT set_config('role', 'huey_job_import_collection', true),
		set_config('request.jwt.claims', '{"kind":"staff","principals":["staff:import-collection","staff-school:`+schoolA+`"]}', true)`); err != nil {
		t.Fatal(err)
	}
	var seen int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM collection_items`).Scan(&seen); err != nil || seen != 0 {
		t.Errorf("the import role scoped to A sees %d items (%v)", seen, err)
	}
	tag, err := tx.Exec(ctx, `UPDATE collection_items SET copies_total = 1`)
	if err != nil || tag.RowsAffected() != 0 {
		t.Errorf("updated %d of B's items (%v)", tag.RowsAffected(), err)
	}
}
