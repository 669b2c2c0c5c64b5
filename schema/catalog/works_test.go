package catalog_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
)

func TestCreateWork(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	tx := txAs(t, d, educatorClaims) // F8: educators create works
	ctx := context.Background()
	existing := scalar[int64](t, tx, `INSERT INTO authors (first_name, last_name) VALUES ('Sue', 'Lawson') RETURNING id`)
	old := scalar[int64](t, tx, `INSERT INTO works (type, title) VALUES ('BOOK', 'Old') RETURNING id`)
	exec(t, tx, `INSERT INTO editions (isbn, work_id, hydrated_at) VALUES ('9781921167188', $1, now())`, old)

	id, err := catalog.CreateWork(ctx, tx, catalog.WorkIn{Title: "Girl Thing", LeadingArticle: ptr("A"), Subtitle: ptr("Diva"),
		Authors: []catalog.AuthorRef{{ID: existing}, {New: &catalog.Person{FirstName: ptr("SUE"), LastName: "lawson"}},
			{New: &catalog.Person{FirstName: ptr("Ann"), LastName: "Other"}}, {ID: existing}},
		EditionISBNs: []string{"978-1-921167-18-8", "nope", "0007453574", "9780007453573"},
		Info:         map[string]any{"genres": []any{}, "other": map[string]any{}}})
	if err != nil {
		t.Fatal(err)
	}
	got := scalar[string](t, tx, `SELECT type || '|' || leading_article || '|' || title || '|' || subtitle || '|' || info::text FROM works WHERE id = $1`, id)
	if got != `BOOK|A|Girl Thing|Diva|{"other": {}, "genres": []}` {
		t.Errorf("work = %s", got)
	}
	if a := workAuthors(t, tx, id); !reflect.DeepEqual(a, []string{"Sue Lawson", "Ann Other"}) {
		t.Errorf("authors = %v: want the existing author once (by id and by name key) and the new one", a)
	}
	eds := scalar[[]string](t, tx, `SELECT array_agg(isbn || ':' || title ORDER BY isbn) FROM editions WHERE work_id = $1`, id)
	if !reflect.DeepEqual(eds, []string{"9780007453573:Girl Thing", "9781921167188:Girl Thing"}) {
		t.Errorf("editions = %v: want both, the existing one moved from the old work", eds)
	}

	_, err = catalog.CreateWork(ctx, tx, catalog.WorkIn{Title: "X", Authors: []catalog.AuthorRef{{ID: 987654}}})
	if !errors.Is(err, catalog.ErrUnknownAuthor) {
		t.Errorf("unknown author id: %v", err)
	}
	if _, err = catalog.CreateWork(ctx, tx, catalog.WorkIn{Title: "X", Type: "NOVEL"}); !errors.Is(err, catalog.ErrInvalidInput) {
		t.Errorf("bad type: %v", err)
	}
}

// Deleting a work detaches its editions: no collection loses a book.
func TestDeleteWorkIsSafe(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super := d.SuperPool(t)
	var work int64
	if err := super.QueryRow(ctx, `
WITH w AS (INSERT INTO works (type, title) VALUES ('BOOK', 'Doomed') RETURNING id),
     a AS (INSERT INTO authors (last_name) VALUES ('Writer') RETURNING id),
     s AS (INSERT INTO series (title) VALUES ('Saga') RETURNING id),
     e AS (INSERT INTO editions (isbn, work_id, hydrated_at) SELECT '9780306406157', id, now() FROM w RETURNING id),
     aw AS (INSERT INTO author_work_association SELECT w.id, a.id FROM w, a),
     sw AS (INSERT INTO series_works_association (series_id, work_id) SELECT s.id, w.id FROM s, w),
     l AS (INSERT INTO labelsets (work_id) SELECT id FROM w)
SELECT id FROM w`).Scan(&work); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO schools (name, state) VALUES ('S', 'ACTIVE')`,
		`INSERT INTO collections (id, school_id, name) SELECT gen_random_uuid(), wriveted_identifier, 'C' FROM schools`,
		`INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available)
		 SELECT id, '9780306406157', 2, 2 FROM collections`,
		`INSERT INTO book_lists (name, type) VALUES ('L', 'HUEY')`,
	} {
		if _, err := super.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := super.Exec(ctx, `INSERT INTO book_list_works (booklist_id, work_id) SELECT id, $1 FROM book_lists`, work); err != nil {
		t.Fatal(err)
	}

	for _, who := range []struct{ name, claims string }{{"educator", educatorClaims},
		{"school admin", claims("user", "school_admin", []int64{1}, "role:educator", "educator:1", "schooladmin:1")}} {
		tx := txAs(t, d, who.claims)
		if err := catalog.DeleteWork(ctx, tx, work); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("%s deletes a work: %v, want db.ErrNotFound (only admins may)", who.name, err)
		}
		if n := scalar[int](t, tx, `SELECT count(*) FROM editions WHERE work_id = $1`, work); n != 1 {
			t.Errorf("%s's refused delete changed editions", who.name)
		}
		_ = tx.Rollback(ctx)
	}

	tx := txAs(t, d, adminClaims)
	if err := catalog.DeleteWork(ctx, tx, work); err != nil {
		t.Fatal(err)
	}
	state := scalar[[]int](t, tx, `SELECT ARRAY[
		(SELECT count(*) FROM works WHERE id = $1),
		(SELECT count(*) FROM editions WHERE isbn = '9780306406157' AND work_id IS NULL AND hydrated),
		(SELECT count(*) FROM collection_items WHERE edition_isbn = '9780306406157'),
		(SELECT count(*) FROM author_work_association WHERE work_id = $1),
		(SELECT count(*) FROM series_works_association WHERE work_id = $1),
		(SELECT count(*) FROM labelsets WHERE work_id IS NULL),
		(SELECT count(*) FROM book_list_works),
		(SELECT count(*) FROM authors) + (SELECT count(*) FROM series)]::int[]`, work)
	// work gone; edition kept, detached; collection item kept; links gone; labelset detached; booklist entry cascaded; people kept
	if want := []int{0, 1, 1, 0, 0, 1, 0, 2}; !reflect.DeepEqual(state, want) {
		t.Errorf("after delete %v, want %v", state, want)
	}
	if err := catalog.DeleteWork(ctx, tx, work); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("deleting it again: %v", err)
	}
}

func TestRefreshSearchView(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	tx := txAs(t, d, adminClaims)
	if _, err := catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: isbn13(1), Title: ptr("Searchable Dragons"),
		Authors: []catalog.Person{{FirstName: ptr("Ima"), LastName: "Writer"}}, SeriesName: ptr("Dragon Saga"), Hydrated: true}); err != nil {
		t.Fatal(err)
	}
	if err := catalog.RefreshSearchView(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if n := scalar[int](t, tx, `SELECT count(*) FROM search_view_v1 WHERE document @@ plainto_tsquery('english', 'dragon writer')`); n != 1 {
		t.Errorf("search finds %d works, want 1", n)
	}
	_ = tx.Rollback(ctx) // the refresh holds the view's lock until then

	edu := txAs(t, d, educatorClaims)
	var pgErr *pgconn.PgError
	if err := catalog.RefreshSearchView(ctx, edu); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("educator refreshes the search view: %v, want 42501", err)
	}

	staff := dbtest.Tx(t, d.Pool(t, dbtest.RoleStaffRW))
	exec(t, staff, `SELECT set_config('request.jwt.claims', '{"kind":"staff","principals":["staff:import"]}', true)`)
	if err := catalog.RefreshSearchView(ctx, staff); err != nil {
		t.Errorf("staff script refreshes the search view: %v", err)
	}
}
