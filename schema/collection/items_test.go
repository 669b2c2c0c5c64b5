package collection_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

const adminClaims = `{"kind":"user","user_type":"wriveted","id":"00000000-0000-4000-8000-000000000001",
 "principals":["system:everyone","system:authenticated","role:admin"],"school_ids":[],"child_ids":[],"is_admin":true}`

// fixture: two schools with a collection each, three editions (one bare).
func fixture(t *testing.T, d *dbtest.DB) {
	t.Helper()
	_, err := d.SuperPool(t).Exec(context.Background(), `
INSERT INTO schools (id, state, name, wriveted_identifier) VALUES
  (1, 'ACTIVE', 'One', '00000000-0000-4000-8000-00000000000a'),
  (2, 'ACTIVE', 'Two', '00000000-0000-4000-8000-00000000000b');
INSERT INTO collections (id, school_id, name) VALUES
  ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-00000000000a', 'C1'),
  ('00000000-0000-4000-8000-0000000000c2', '00000000-0000-4000-8000-00000000000b', 'C2');
INSERT INTO works (id, type, title) VALUES (1, 'BOOK', 'Zebra'), (2, 'BOOK', 'Apple');
INSERT INTO editions (isbn, work_id) VALUES ('9780306406157', 1), ('9780804429573', 2);
INSERT INTO editions (isbn) VALUES ('9781566199094');`)
	if err != nil {
		t.Fatal(err)
	}
}

func asAdmin(t *testing.T, d *dbtest.DB) pgx.Tx {
	t.Helper()
	tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
	dbtest.As(t, tx, adminClaims)
	return tx
}

func exec(t *testing.T, tx pgx.Tx, sql string, args ...any) {
	t.Helper()
	if _, err := tx.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func scalar[T any](t *testing.T, tx pgx.Tx, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := tx.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

const c1, c2 = "00000000-0000-4000-8000-0000000000c1", "00000000-0000-4000-8000-0000000000c2"

func count(t *testing.T, tx pgx.Tx, id string) int32 {
	t.Helper()
	kept := scalar[int32](t, tx, `SELECT item_count FROM collections WHERE id = $1`, id)
	if real := scalar[int64](t, tx, `SELECT count(*) FROM collection_items WHERE collection_id = $1`, id); int64(kept) != real {
		t.Fatalf("collection %s: item_count %d, but it holds %d items", id, kept, real)
	}
	return kept
}

// collections.item_count follows every kind of write, set-based or not.
func TestItemCountIsKeptByEveryWrite(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	fixture(t, d)
	tx := asAdmin(t, d)
	exec(t, tx, `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available)
		VALUES ($1, '9780306406157', 1, 1), ($1, '9780804429573', 1, 1), ($1, NULL, 1, 1), ($2, '9780306406157', 1, 1)`, c1, c2)
	if n := count(t, tx, c1); n != 3 {
		t.Fatalf("after inserting 3: %d", n)
	}
	exec(t, tx, `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available)
		VALUES ($1, '9780306406157', 5, 5) ON CONFLICT (collection_id, edition_isbn) DO UPDATE SET copies_total = 5`, c1)
	if n := count(t, tx, c1); n != 3 {
		t.Fatalf("an upsert that updated must not count: %d", n)
	}
	exec(t, tx, `DELETE FROM collection_items WHERE collection_id = $1 AND edition_isbn IS NULL`, c1)
	if n := count(t, tx, c1); n != 2 {
		t.Fatalf("after deleting 1: %d", n)
	}
	exec(t, tx, `UPDATE collection_items SET collection_id = $2 WHERE collection_id = $1 AND edition_isbn = '9780804429573'`, c1, c2)
	if a, b := count(t, tx, c1), count(t, tx, c2); a != 1 || b != 2 {
		t.Fatalf("after moving an item: %d and %d", a, b)
	}
	exec(t, tx, `DELETE FROM collection_items WHERE collection_id = $1`, c2)
	if n := count(t, tx, c2); n != 0 {
		t.Fatalf("after emptying: %d", n)
	}
}

// collection_items.sort_title is the item's edition's title, whoever changes
// it and however; keeping it is not an update of the collection.
func TestSortTitleFollowsTheEdition(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	fixture(t, d)
	tx := asAdmin(t, d)
	title := func(isbn string) *string {
		return scalar[*string](t, tx, `SELECT sort_title FROM collection_items WHERE collection_id = $1 AND edition_isbn = $2`, c1, isbn)
	}
	exec(t, tx, `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available)
		VALUES ($1, '9780306406157', 1, 1), ($1, '9781566199094', 1, 1)`, c1)
	if got := title("9780306406157"); got == nil || *got != "Zebra" {
		t.Fatalf("inserted item: sort_title %v, want the edition's title Zebra", got)
	}
	if got := title("9781566199094"); got != nil {
		t.Fatalf("bare edition: sort_title %q, want NULL", *got)
	}
	exec(t, tx, `UPDATE collections SET updated_at = '2000-01-01' WHERE id = $1`, c1)

	exec(t, tx, `UPDATE works SET title = 'Aardvark' WHERE id = 1`) // the original's trigger retitles the edition
	if got := title("9780306406157"); got == nil || *got != "Aardvark" {
		t.Fatalf("after the work's retitle: %v", got)
	}
	exec(t, tx, `UPDATE editions SET edition_title = 'Hydrated' WHERE isbn = '9781566199094'`) // hydration of a bare edition
	if got := title("9781566199094"); got == nil || *got != "Hydrated" {
		t.Fatalf("after hydration: %v", got)
	}
	if at := scalar[time.Time](t, tx, `SELECT updated_at FROM collections WHERE id = $1`, c1); at.Year() != 2000 {
		t.Fatalf("keeping sort_title bumped the collection's updated_at to %v", at)
	}
	exec(t, tx, `UPDATE collection_items SET edition_isbn = '9780804429573' WHERE collection_id = $1 AND edition_isbn = '9781566199094'`, c1)
	if got := title("9780804429573"); got == nil || *got != "Apple" {
		t.Fatalf("after changing the item's ISBN: %v", got)
	}
	if at := scalar[time.Time](t, tx, `SELECT updated_at FROM collections WHERE id = $1`, c1); at.Year() == 2000 {
		t.Fatal("an item's own update no longer bumps its collection's updated_at")
	}
	// the page's order: title, items without one last, then id
	got := []string{}
	rows, err := tx.Query(context.Background(), `SELECT coalesce(sort_title, '-') FROM collection_items
		WHERE collection_id = $1 ORDER BY sort_title, id`, c1)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if len(got) != 2 || got[0] != "Aardvark" || got[1] != "Apple" {
		t.Fatalf("order %v", got)
	}
}

// The triggers write through narrow doors: a school admin, bound by row
// security and without rights on the maintained columns, still keeps them,
// and cannot set them.
func TestMaintenanceRunsForEveryWriter(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	fixture(t, d)
	ctx := context.Background()
	schoolAdmin := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
	dbtest.As(t, schoolAdmin, `{"kind":"user","user_type":"school_admin","id":"00000000-0000-4000-8000-000000000002",
 "principals":["system:everyone","system:authenticated","user:00000000-0000-4000-8000-000000000002","role:educator",
 "educator:1","schooladmin:1"],"school_ids":[1],"child_ids":[],"is_admin":false}`)
	if _, err := schoolAdmin.Exec(ctx, `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available)
		VALUES ($1, '9780306406157', 1, 1)`, c1); err != nil {
		t.Fatal(err)
	}
	if n := scalar[int32](t, schoolAdmin, `SELECT item_count FROM collections WHERE id = $1`, c1); n != 1 {
		t.Fatalf("item_count %d after the school admin's insert", n)
	}
	if s := scalar[*string](t, schoolAdmin, `SELECT sort_title FROM collection_items WHERE collection_id = $1`, c1); s == nil || *s != "Zebra" {
		t.Fatalf("sort_title %v after the school admin's insert", s)
	}
	// the derived columns are not a writer's to set
	for _, q := range []string{
		`UPDATE collections SET item_count = 99, name = 'Renamed' WHERE id = $1`,
		`UPDATE collection_items SET sort_title = 'AAA', copies_total = 3 WHERE collection_id = $1`,
	} {
		if _, err := schoolAdmin.Exec(ctx, q, c1); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if n := scalar[int32](t, schoolAdmin, `SELECT item_count FROM collections WHERE id = $1`, c1); n != 1 {
		t.Fatalf("a direct write set item_count to %d", n)
	}
	if s := scalar[*string](t, schoolAdmin, `SELECT sort_title FROM collection_items WHERE collection_id = $1`, c1); s == nil || *s != "Zebra" {
		t.Fatalf("a direct write set sort_title to %v", s)
	}
	if _, err := schoolAdmin.Exec(ctx, `INSERT INTO collections (id, school_id, name, item_count)
		VALUES ('00000000-0000-4000-8000-0000000000c3', '00000000-0000-4000-8000-00000000000a', 'C3', 42)`); err != nil {
		t.Fatal(err)
	}
	if n := scalar[int32](t, schoolAdmin, `SELECT item_count FROM collections WHERE id = '00000000-0000-4000-8000-0000000000c3'`); n != 0 {
		t.Fatalf("a new collection starts with item_count %d", n)
	}
}
