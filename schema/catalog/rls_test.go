package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/dbtest"
)

// catalogueTables are the tables migration 20261127000005 gives policies.
var catalogueTables = []string{"authors", "illustrators", "series", "works", "editions", "author_work_association",
	"illustrator_edition_association", "series_works_association", "labelsets", "labelset_hue_association",
	"labelset_reading_ability_association"}

// catalogueFixture puts one row in every catalogue table, plus an author,
// a work, an edition and a labelset nothing references, as a superuser.
func catalogueFixture(t *testing.T, d *dbtest.DB) (work int64) {
	t.Helper()
	err := d.SuperPool(t).QueryRow(context.Background(), `
WITH w AS (INSERT INTO works (type, title) VALUES ('BOOK', 'Fixture'), ('BOOK', 'Orphan') RETURNING id, title),
     a AS (INSERT INTO authors (last_name) VALUES ('Writer'), ('Lonely') RETURNING id, last_name),
     i AS (INSERT INTO illustrators (last_name) VALUES ('Drawer') RETURNING id),
     s AS (INSERT INTO series (title) VALUES ('Saga') RETURNING id),
     e AS (INSERT INTO editions (isbn, work_id) SELECT '9780306406157', id FROM w WHERE title = 'Fixture'
           UNION ALL SELECT '9780143782797', NULL RETURNING id, isbn),
     l AS (INSERT INTO labelsets (work_id) SELECT id FROM w WHERE title = 'Fixture' UNION ALL SELECT NULL RETURNING id, work_id),
     aw AS (INSERT INTO author_work_association SELECT w.id, a.id FROM w, a WHERE a.last_name = 'Writer' AND w.title = 'Fixture'),
     ie AS (INSERT INTO illustrator_edition_association SELECT e.id, i.id FROM e, i WHERE e.isbn = '9780306406157'),
     sw AS (INSERT INTO series_works_association (series_id, work_id) SELECT s.id, w.id FROM s, w WHERE w.title = 'Fixture'),
     lh AS (INSERT INTO labelset_hue_association SELECT l.id, 1, 'PRIMARY' FROM l WHERE l.work_id IS NOT NULL),
     lr AS (INSERT INTO labelset_reading_ability_association SELECT l.id, 1 FROM l WHERE l.work_id IS NOT NULL)
SELECT id FROM w WHERE title = 'Fixture'`).Scan(&work)
	if err != nil {
		t.Fatal(err)
	}
	return work
}

// fixtureRows is how many rows of each table the fixture holds.
func fixtureRows(table string) int {
	switch table {
	case "authors", "works", "editions", "labelsets":
		return 2
	}
	return 1
}

// affects runs a write in a savepoint and reports the rows it changed (-1 when refused with an error).
func affects(t *testing.T, tx pgx.Tx, sql string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	exec(t, tx, "SAVEPOINT probe")
	tag, err := tx.Exec(ctx, sql, args...)
	exec(t, tx, "ROLLBACK TO SAVEPOINT probe")
	if err != nil {
		return -1
	}
	return tag.RowsAffected()
}

// writeOutcome is what a probe does for each kind of caller: rows changed,
// -1 when refused with an error.
type writeOutcome struct {
	editor, admin, staffRW int64
	other                  int64 // a signed-in account that may not write (student, reader, kiosk…)
	anon                   int64 // huey_app without a signed-in account
	staffRO                int64
}

// catalogueWrites are the probes of TestCatalogueRowSecurity.
var catalogueWrites = []struct {
	name, sql string
	want      writeOutcome
}{
	{"insert author", `INSERT INTO authors (last_name) VALUES ('New')`, writeOutcome{1, 1, 1, -1, -1, -1}},
	{"insert illustrator", `INSERT INTO illustrators (last_name) VALUES ('New')`, writeOutcome{1, 1, 1, -1, -1, -1}},
	{"insert series", `INSERT INTO series (title) VALUES ('New')`, writeOutcome{1, 1, 1, -1, -1, -1}},
	{"insert work", `INSERT INTO works (type, title) VALUES ('BOOK', 'New')`, writeOutcome{1, 1, 1, -1, -1, -1}},
	{"insert edition", `INSERT INTO editions (isbn) VALUES ('9780804429573')`, writeOutcome{1, 1, 1, -1, -1, -1}},
	{"insert labelset", `INSERT INTO labelsets (work_id) SELECT id FROM works WHERE title = 'Fixture'`, writeOutcome{1, 1, 1, -1, 0, -1}},
	{"link hue", `INSERT INTO labelset_hue_association SELECT id, 2, 'SECONDARY' FROM labelsets WHERE work_id IS NOT NULL`,
		writeOutcome{1, 1, 1, -1, 0, -1}},
	{"update work", `UPDATE works SET title = 'Renamed' WHERE title = 'Fixture'`, writeOutcome{1, 1, 1, 0, 0, -1}},
	{"update edition", `UPDATE editions SET cover_url = 'https://example.com/x.jpg'`, writeOutcome{2, 2, 2, 0, 0, -1}},
	{"update labelset", `UPDATE labelsets SET min_age = 5`, writeOutcome{2, 2, 2, 0, 0, -1}},
	{"update author", `UPDATE authors SET info = '{}'`, writeOutcome{2, 2, 2, 0, 0, -1}},
	{"relink author", `DELETE FROM author_work_association`, writeOutcome{1, 1, 1, 0, 0, -1}},
	{"relink illustrator", `DELETE FROM illustrator_edition_association`, writeOutcome{1, 1, 1, 0, 0, -1}},
	{"relink series", `DELETE FROM series_works_association`, writeOutcome{1, 1, 1, 0, 0, -1}},
	{"relink hues", `DELETE FROM labelset_hue_association`, writeOutcome{1, 1, 1, 0, 0, -1}},
	{"relink reading abilities", `DELETE FROM labelset_reading_ability_association`, writeOutcome{1, 1, 1, 0, 0, -1}},
	{"delete author", `DELETE FROM authors WHERE last_name = 'Lonely'`, writeOutcome{0, 1, 0, 0, 0, -1}},
	{"delete work", `DELETE FROM works WHERE title = 'Orphan'`, writeOutcome{0, 1, 0, 0, 0, -1}},
	{"delete edition", `DELETE FROM editions WHERE work_id IS NULL`, writeOutcome{0, 1, 0, 0, 0, -1}},
	{"delete labelset", `DELETE FROM labelsets WHERE work_id IS NULL`, writeOutcome{0, 1, 0, 0, 0, -1}},
}

// Catalogue reads and writes per caller (F8): every signed-in account reads;
// editors (admins, educators, school admins, LMS and school service accounts)
// insert, update and relink; only admins delete; anonymous and claimless
// requests see nothing; the importer (huey_staff_rw) reads, writes and
// relinks; huey_staff_ro only reads.
func TestCatalogueRowSecurity(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	catalogueFixture(t, d)
	type caller struct {
		name, claims string
		kind         string // editor, admin, staffRW, other, anon, staffRO
		role         string // login; RoleAPI runs as huey_app with the claims
	}
	var callers []caller
	for _, c := range catalogueCallers() {
		kind := "other"
		switch {
		case c.claims == adminClaims || c.name == "backend":
			kind = "admin"
		case c.writes:
			kind = "editor"
		}
		callers = append(callers, caller{c.name, c.claims, kind, dbtest.RoleAPI})
	}
	callers = append(callers,
		caller{"anonymous", `{"kind":"anonymous","principals":["system:everyone"]}`, "anon", dbtest.RoleAPI},
		caller{"no claims", "", "anon", dbtest.RoleAPI},
		caller{"authenticating", `{"kind":"authenticating","principals":["role:admin","role:educator"],"is_admin":true}`, "anon", dbtest.RoleAPI},
		caller{"staff rw", "", "staffRW", dbtest.RoleStaffRW},
		caller{"staff ro", "", "staffRO", dbtest.RoleStaffRO},
	)
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tx := dbtest.Tx(t, d.Pool(t, c.role))
			switch {
			case c.role != dbtest.RoleAPI:
			case c.claims == "":
				exec(t, tx, `SELECT set_config('role', 'huey_app', true)`)
			default:
				dbtest.As(t, tx, c.claims)
			}
			for _, table := range catalogueTables {
				want := fixtureRows(table)
				if c.kind == "anon" {
					want = 0
				}
				if n := scalar[int](t, tx, "SELECT count(*) FROM "+table); n != want {
					t.Errorf("sees %d rows of %s, want %d", n, table, want)
				}
			}
			for _, w := range catalogueWrites {
				want := map[string]int64{"editor": w.want.editor, "admin": w.want.admin, "staffRW": w.want.staffRW,
					"other": w.want.other, "anon": w.want.anon, "staffRO": w.want.staffRO}[c.kind]
				if got := affects(t, tx, w.sql); got != want {
					t.Errorf("%s: %d rows, want %d", w.name, got, want)
				}
			}
		})
	}
}

// The catalogue functions under each caller's row security: an editor's
// upsert works, anyone else's is refused by Postgres; only admins delete.
func TestCatalogueFunctionsRespectF8(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	work := catalogueFixture(t, d)
	ctx := context.Background()
	for i, c := range catalogueCallers() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tx := txAs(t, d, c.claims)
			_, err := catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: isbn13(100 + i), Title: ptr(fmt.Sprint("Book ", i)),
				Authors: []catalog.Person{{LastName: "Writer"}}, Hydrated: true,
				LabelSet: &catalog.LabelSetPatch{AgeOrigin: ptr(catalog.OriginHuman), MinAge: ptr(5)}})
			var pgErr *pgconn.PgError
			if c.writes && err != nil {
				t.Errorf("upsert: %v", err)
			}
			if !c.writes && (!errors.As(err, &pgErr) || pgErr.Code != "42501") {
				t.Errorf("upsert: %v, want a row-level security refusal (42501)", err)
			}
			if c.writes {
				if _, err := catalog.ApplyLabelSetPatch(ctx, tx, work, catalog.LabelSetPatch{AgeOrigin: ptr(catalog.OriginHuman), MaxAge: ptr(9)}); err != nil {
					t.Errorf("patch labels: %v", err)
				}
			}
		})
	}
	t.Run("staff rw", func(t *testing.T) {
		t.Parallel()
		tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleStaffRW))
		res, err := catalog.BulkUpsertEditions(ctx, tx, []catalog.EditionIn{{ISBN: isbn13(200), Title: ptr("Imported"),
			Authors: []catalog.Person{{LastName: "Writer"}}, Hydrated: true}, {ISBN: isbn13(201)}})
		if err != nil || res.Created != 2 {
			t.Errorf("importer bulk upsert: %+v, %v", res, err)
		}
		if err := catalog.DeleteWork(ctx, tx, work); err == nil {
			t.Error("the importer deleted a work")
		}
	})
	t.Run("staff ro", func(t *testing.T) {
		t.Parallel()
		tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleStaffRO))
		if _, err := catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: isbn13(300)}); err == nil {
			t.Error("read-only staff wrote an edition")
		}
	})
}
