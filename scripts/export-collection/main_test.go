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
	schoolA = "00000000-0000-4000-8000-00000000000a"
	schoolB = "00000000-0000-4000-8000-00000000000b"
)

// End to end: the read-only login exports one school's items (and only
// that school's) as CSV; unknown schools and bad ids are refused with one
// line; the job role reads no table itself.
func TestExport(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	if _, err := d.SuperPool(t).Exec(ctx, `
INSERT INTO schools (id, state, name, wriveted_identifier) VALUES (1, 'ACTIVE', 'A', '`+schoolA+`'), (2, 'ACTIVE', 'B', '`+schoolB+`');
INSERT INTO collections (id, school_id, name) VALUES
  ('00000000-0000-4000-8000-0000000000c1', '`+schoolA+`', 'A'), ('00000000-0000-4000-8000-0000000000c2', '`+schoolB+`', 'B');
INSERT INTO works (id, type, title) VALUES (1, 'BOOK', 'Zebra, "the" Book');
INSERT INTO editions (isbn, work_id, edition_title) VALUES ('9780306406157', 1, 'Zebra, "the" Book'), ('9780804429573', NULL, NULL);
INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info) VALUES
  ('00000000-0000-4000-8000-0000000000c1', '9780306406157', 3, 1, '{}'),
  ('00000000-0000-4000-8000-0000000000c1', '9780804429573', 1, 1, '{}'),
  ('00000000-0000-4000-8000-0000000000c1', NULL, 1, 0, '{"title": "No ISBN"}'),
  ('00000000-0000-4000-8000-0000000000c2', '9780804429573', 7, 7, '{}')`); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-school", schoolA}, stafftest.Env(d, dbtest.RoleStaffRO), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ISBN,Title,Copies,Available\n", "\n9780306406157,\"Zebra, \"\"the\"\" Book\",3,1\n",
		"\n9780804429573,,1,1\n", "\n,No ISBN,1,0\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("export lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), ",7,7") || strings.Count(out.String(), "\n") != 4 {
		t.Errorf("another school's items, or a row missing:\n%s", out.String())
	}
	if errOut.String() != "exported 3 items of school "+schoolA+"\n" {
		t.Errorf("summary: %q", errOut.String())
	}
	// The read-write login takes the same role.
	if err := run(ctx, []string{"-school", schoolB}, stafftest.Env(d, dbtest.RoleStaffRW), io.Discard, io.Discard); err != nil {
		t.Error(err)
	}
	for name, args := range map[string][]string{
		"no school": {}, "bad id": {"-school", "42"}, "extra": {"-school", schoolA, "x"},
		"unknown school": {"-school", "00000000-0000-4000-8000-0000000000ff"},
	} {
		err := run(ctx, args, stafftest.Env(d, dbtest.RoleStaffRO), io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Out of scope: the job role reads no table directly.
	tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleStaffRO))
	if _, err := tx.Exec(ctx, `SELECT set_config('role', 'huey_job_export_collection', true),
		set_config('request.jwt.claims', '{"kind":"staff","principals":["staff:export-collection"]}', true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT count(*) FROM collection_items`); err == nil ||
		!strings.Contains(err.Error(), "permission denied") {
		t.Errorf("the export role read collection_items: %v", err)
	}
}
