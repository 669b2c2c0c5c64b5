package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/dbtest"
)

type editionRow struct {
	id                                        int64
	workID                                    *int64
	editionTitle, title, article, cover, info *string
	published                                 *int32
	hydrated                                  bool
}

func readEdition(t testing.TB, tx pgx.Tx, isbn string) (editionRow, bool) {
	t.Helper()
	var e editionRow
	err := tx.QueryRow(context.Background(), `
SELECT id, work_id, edition_title, title, leading_article, cover_url, info::text, date_published, hydrated
FROM editions WHERE isbn = $1`, isbn).
		Scan(&e.id, &e.workID, &e.editionTitle, &e.title, &e.article, &e.cover, &e.info, &e.published, &e.hydrated)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, false
	}
	if err != nil {
		t.Fatalf("read edition %s: %v", isbn, err)
	}
	return e, true
}

func workAuthors(t testing.TB, tx pgx.Tx, workID int64) []string {
	t.Helper()
	return scalar[[]string](t, tx, `SELECT coalesce(array_agg(coalesce(a.first_name || ' ', '') || a.last_name ORDER BY a.id), '{}')
		FROM author_work_association x JOIN authors a ON a.id = x.author_id WHERE x.work_id = $1`, workID)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestUpsertEditionCreates(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	tx := txAs(t, d, adminClaims)
	ctx := context.Background()
	in := catalog.EditionIn{
		ISBN: "978-0-14-378279-7", OtherISBNs: []string{"0007453574", "bogus", "9780143782797"},
		Title: ptr("The 13-Storey Treehouse"), Subtitle: ptr("A Treehouse Book"), LeadingArticle: ptr("The"),
		SeriesName: ptr("Treehouse"), SeriesNumber: ptr(1),
		Authors:      []catalog.Person{{FirstName: ptr("Andy"), LastName: "Griffiths"}, {FirstName: ptr("ANDY"), LastName: "griffiths"}},
		Illustrators: []catalog.Person{{FirstName: ptr("Terry"), LastName: "Denton"}},
		CoverURL:     ptr("https://example.com/c.jpg"), DatePublished: ptr(2011),
		Info:     map[string]any{"pages": "256"},
		LabelSet: &catalog.LabelSetPatch{MinAge: ptr(6), MaxAge: ptr(10), AgeOrigin: ptr(catalog.OriginHuman)},
		Hydrated: true,
	}
	res, err := catalog.UpsertEdition(ctx, tx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.ISBN != "9780143782797" || res.WorkID == nil || res.ID == 0 {
		t.Fatalf("result %+v", res)
	}
	e, _ := readEdition(t, tx, res.ISBN)
	got := []any{deref(e.editionTitle), deref(e.title), deref(e.article), deref(e.cover), deref(e.published), e.hydrated, deref(e.info)}
	want := []any{"The 13-Storey Treehouse", "The 13-Storey Treehouse", "The", "https://example.com/c.jpg", int32(2011), true, `{"pages": "256"}`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("edition = %v, want %v", got, want)
	}
	w := *res.WorkID
	if title := scalar[string](t, tx, `SELECT type::text || ' ' || title FROM works WHERE id = $1`, w); title != "BOOK The 13-Storey Treehouse" {
		t.Errorf("work = %q", title)
	}
	if a := workAuthors(t, tx, w); !reflect.DeepEqual(a, []string{"Andy Griffiths"}) {
		t.Errorf("authors = %v, want Andy Griffiths once (name key dedup)", a)
	}
	if s := scalar[string](t, tx, `SELECT s.title || ' #' || x.order_id || ' ' || x.primary_works FROM series_works_association x
		JOIN series s ON s.id = x.series_id WHERE x.work_id = $1`, w); s != "Treehouse #1 true" {
		t.Errorf("series link = %q", s)
	}
	if il := scalar[string](t, tx, `SELECT string_agg(i.first_name || ' ' || i.last_name, ',') FROM illustrator_edition_association x
		JOIN illustrators i ON i.id = x.illustrator_id WHERE x.edition_id = $1`, res.ID); il != "Terry Denton" {
		t.Errorf("illustrators = %q", il)
	}
	// the other valid ISBN is a bare edition of the same work; the invalid one and its own are dropped
	other, ok := readEdition(t, tx, "9780007453573")
	if !ok || other.workID == nil || *other.workID != w || other.hydrated || other.editionTitle != nil {
		t.Errorf("other ISBN edition = %+v (exists %v)", other, ok)
	}
	if n := scalar[int](t, tx, `SELECT count(*) FROM editions`); n != 2 {
		t.Errorf("%d editions, want 2", n)
	}
	if ages := scalar[string](t, tx, `SELECT min_age || '-' || max_age || ' ' || age_origin FROM labelsets WHERE work_id = $1`, w); ages != "6-10 HUMAN" {
		t.Errorf("labelset = %q", ages)
	}
}

func TestUpsertEditionHydratesThenRefuses(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	tx := txAs(t, d, adminClaims)
	ctx := context.Background()
	isbn := "9780306406157"
	exec(t, tx, `INSERT INTO editions (isbn, cover_url) VALUES ($1, 'https://example.com/old.jpg')`, isbn)
	res, err := catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: "0-306-40615-2", Title: ptr("Sample"),
		LeadingArticle: ptr("A"), DatePublished: ptr(20190301), Authors: []catalog.Person{{LastName: "Writer"}},
		Illustrators: []catalog.Person{{LastName: "Drawer"}}, Hydrated: false})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.WorkID == nil {
		t.Fatalf("result %+v, want the existing edition hydrated onto a new work", res)
	}
	e, _ := readEdition(t, tx, isbn)
	if !e.hydrated || e.editionTitle != nil || deref(e.title) != "Sample" || deref(e.article) != "A" ||
		deref(e.cover) != "https://example.com/old.jpg" || deref(e.published) != int32(20190301) {
		t.Errorf("hydrated edition = %+v: want hydrated, no edition_title (spec), title from the work, cover kept", e)
	}
	if n := scalar[int](t, tx, `SELECT count(*) FROM illustrator_edition_association WHERE edition_id = $1`, e.id); n != 1 {
		t.Errorf("%d illustrators linked, want 1", n)
	}

	res, err = catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: isbn, Title: ptr("Again")})
	if !errors.Is(err, catalog.ErrAlreadyHydrated) || res.ISBN != isbn {
		t.Fatalf("second upsert: %+v, %v; want ErrAlreadyHydrated with the ISBN", res, err)
	}
	if _, err := catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: "not-an-isbn"}); !errors.Is(err, catalog.ErrInvalidISBN) {
		t.Fatalf("invalid ISBN: %v", err)
	}
}

func TestUpsertEditionFindsWorkThroughOtherISBNs(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	tx := txAs(t, d, adminClaims)
	ctx := context.Background()
	w := scalar[int64](t, tx, `INSERT INTO works (type, title) VALUES ('BOOK', 'Original Title') RETURNING id`)
	exec(t, tx, `INSERT INTO editions (isbn, work_id) VALUES ('9780306406157', $1)`, w)
	res, err := catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: "9780804429573", OtherISBNs: []string{"0306406152"},
		Title: ptr("Localised Title"), Authors: []catalog.Person{{LastName: "Someone"}}, Hydrated: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.WorkID == nil || *res.WorkID != w {
		t.Fatalf("work = %v, want %d found through the other ISBN", res.WorkID, w)
	}
	if n := scalar[int](t, tx, `SELECT count(*) FROM works`); n != 1 {
		t.Errorf("%d works, want no new one", n)
	}
	e, _ := readEdition(t, tx, res.ISBN)
	if deref(e.title) != "Localised Title" {
		t.Errorf("title = %v", deref(e.title))
	}
}

func TestUpsertEditionReusesWorkAndDedupesNames(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	tx := txAs(t, d, adminClaims)
	ctx := context.Background()
	first, err := catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: isbn13(1), Title: ptr("The Magician's Nephew"),
		Authors: []catalog.Person{{FirstName: ptr("C.S."), LastName: "Lewis"}}, SeriesName: ptr("The Chronicles of Narnia"),
		SeriesNumber: ptr(6), Hydrated: true})
	if err != nil {
		t.Fatal(err)
	}
	// Same title, the same author spelt differently: the same work.
	second, err := catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: isbn13(2), Title: ptr("The Magician's Nephew"),
		Authors: []catalog.Person{{FirstName: ptr("C S"), LastName: "Lewis"}}, SeriesName: ptr("Chronicles of Narnia"),
		Hydrated: true})
	if err != nil {
		t.Fatal(err)
	}
	if *first.WorkID != *second.WorkID {
		t.Errorf("works %d and %d, want one (same title, same author by name key)", *first.WorkID, *second.WorkID)
	}
	// Another title by the same author: a new work, the same author, the same series (title key).
	third, err := catalog.UpsertEdition(ctx, tx, catalog.EditionIn{ISBN: isbn13(3), Title: ptr("The Last Battle"),
		Authors: []catalog.Person{{FirstName: ptr("c. s."), LastName: "LEWIS"}}, SeriesName: ptr("the chronicles of narnia!"),
		SeriesNumber: ptr(7), Hydrated: true})
	if err != nil {
		t.Fatal(err)
	}
	if *third.WorkID == *first.WorkID {
		t.Error("a different title reused the work")
	}
	if n := scalar[int](t, tx, `SELECT count(*) FROM authors`); n != 1 {
		t.Errorf("%d authors, want 1 (C.S. Lewis = C S Lewis)", n)
	}
	if n := scalar[int](t, tx, `SELECT count(*) FROM series`); n != 1 {
		t.Errorf("%d series, want 1 (by title key)", n)
	}
	links := scalar[[]string](t, tx, `SELECT array_agg(w.title || ' #' || x.order_id ORDER BY x.order_id) FROM series_works_association x
		JOIN works w ON w.id = x.work_id`)
	if !reflect.DeepEqual(links, []string{"The Magician's Nephew #6", "The Last Battle #7"}) {
		t.Errorf("series links = %v", links)
	}
	if a := workAuthors(t, tx, *third.WorkID); !reflect.DeepEqual(a, []string{"C.S. Lewis"}) {
		t.Errorf("authors of the third work = %v", a)
	}
}

// bulkItems: the spec's example (api.md §3.3) plus what the counts must tell apart.
func TestBulkUpsertEditions(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	tx := txAs(t, d, adminClaims)
	ctx := context.Background()
	hydratedISBN, unhydratedISBN := isbn13(10), isbn13(11)
	exec(t, tx, `INSERT INTO editions (isbn, hydrated_at, edition_title) VALUES ($1, now(), 'Already here')`, hydratedISBN)
	exec(t, tx, `INSERT INTO editions (isbn) VALUES ($1)`, unhydratedISBN)
	items := []catalog.EditionIn{
		{ISBN: "9780143782797", Hydrated: true, Title: ptr("The 13-Storey Treehouse"),
			Authors:      []catalog.Person{{FirstName: ptr("Andy"), LastName: "Griffiths"}},
			Illustrators: []catalog.Person{{FirstName: ptr("Terry"), LastName: "Denton"}},
			SeriesName:   ptr("Treehouse"), SeriesNumber: ptr(1), CoverURL: ptr("https://example.com/t.jpg"),
			DatePublished: ptr(2011), Info: map[string]any{"pages": 256},
			LabelSet: &catalog.LabelSetPatch{MinAge: ptr(6), MaxAge: ptr(10), AgeOrigin: ptr(catalog.OriginHuman)}},
		{ISBN: "0007453574"},
		{ISBN: "not-an-isbn"},
		{ISBN: hydratedISBN, Hydrated: true, Title: ptr("Overwrite?")}, // skipped: already hydrated
		{ISBN: unhydratedISBN, Hydrated: true, Title: ptr("Hydrate me"), // hydrated, not created
			Authors: []catalog.Person{{FirstName: ptr("Andy"), LastName: "Griffiths"}}},
		{ISBN: isbn13(12), Hydrated: true, Title: ptr("First wins")},
		{ISBN: isbn13(12), Hydrated: true, Title: ptr("Second loses")},
		{ISBN: isbn13(13), Title: ptr("discarded")}, // bare
		{ISBN: isbn13(13)},                           // duplicate bare
		{ISBN: unhydratedISBN},                       // exists
		{ISBN: "978-0-14-378279-7", Hydrated: false}, // created by the hydrated item above
	}
	res, err := catalog.BulkUpsertEditions(ctx, tx, items)
	if err != nil {
		t.Fatal(err)
	}
	// distinct valid: 9780143782797, 9780007453573, hydratedISBN, unhydratedISBN, 12, 13
	want := catalog.BulkResult{Processed: 6, Created: 4, Hydrated: 1, Skipped: 1}
	if res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	if e, _ := readEdition(t, tx, hydratedISBN); deref(e.editionTitle) != "Already here" {
		t.Errorf("already hydrated edition changed: %+v", e)
	}
	if e, _ := readEdition(t, tx, isbn13(12)); deref(e.editionTitle) != "First wins" {
		t.Errorf("duplicate ISBN: edition_title %v, want the first occurrence's", deref(e.editionTitle))
	}
	if e, _ := readEdition(t, tx, isbn13(13)); e.editionTitle != nil || e.hydrated {
		t.Errorf("unhydrated item kept fields: %+v", e)
	}
	e, _ := readEdition(t, tx, "9780143782797")
	if deref(e.title) != "The 13-Storey Treehouse" || !e.hydrated || e.workID == nil || deref(e.info) != `{"pages": 256}` {
		t.Errorf("treehouse edition = %+v", e)
	}
	if a := workAuthors(t, tx, *e.workID); !reflect.DeepEqual(a, []string{"Andy Griffiths"}) {
		t.Errorf("treehouse authors = %v", a)
	}
	if s := scalar[string](t, tx, `SELECT min_age || '-' || max_age FROM labelsets WHERE work_id = $1`, *e.workID); s != "6-10" {
		t.Errorf("treehouse labelset ages = %q", s)
	}
	u, _ := readEdition(t, tx, unhydratedISBN)
	if !u.hydrated || deref(u.title) != "Hydrate me" || u.workID == nil {
		t.Errorf("hydrated existing edition = %+v", u)
	}
	if n := scalar[int](t, tx, `SELECT count(*) FROM authors`); n != 1 {
		t.Errorf("%d authors, want 1", n)
	}

	// Repeating the load creates nothing and changes nothing.
	before := scalar[string](t, tx, `SELECT string_agg(isbn || coalesce(work_id::text, '-') || coalesce(title, '-') || hydrated, ',' ORDER BY isbn) FROM editions`)
	res, err = catalog.BulkUpsertEditions(ctx, tx, items)
	if err != nil {
		t.Fatal(err)
	}
	if want := (catalog.BulkResult{Processed: 6, Skipped: 4}); res != want {
		t.Errorf("repeat: %+v, want %+v", res, want)
	}
	after := scalar[string](t, tx, `SELECT string_agg(isbn || coalesce(work_id::text, '-') || coalesce(title, '-') || hydrated, ',' ORDER BY isbn) FROM editions`)
	if before != after {
		t.Errorf("repeat changed editions:\n%s\n%s", before, after)
	}
	if n := scalar[int](t, tx, `SELECT count(*) FROM works`); n != 3 {
		t.Errorf("%d works, want 3", n)
	}
}

// Later items see what earlier items of the same load did, as the
// one-by-one procedure would.
func TestBulkUpsertEditionsIsSequential(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	tx := txAs(t, d, adminClaims)
	ctx := context.Background()
	author := []catalog.Person{{FirstName: ptr("Ann"), LastName: "Martin"}}
	res, err := catalog.BulkUpsertEditions(ctx, tx, []catalog.EditionIn{
		{ISBN: isbn13(1), OtherISBNs: []string{isbn13(2), isbn13(5)}, Title: ptr("Dawn"), Authors: author, Hydrated: true,
			LabelSet: &catalog.LabelSetPatch{HueOrigin: ptr(catalog.OriginOther), HuePrimaryKey: ptr("hue01_dark_suspense")}},
		{ISBN: isbn13(2), Title: ptr("Dawn (UK)"), Hydrated: true}, // its bare edition now has the work
		{ISBN: isbn13(3), Title: ptr("Dawn"), Authors: author, Hydrated: true, // same title and author: same work
			LabelSet: &catalog.LabelSetPatch{HueOrigin: ptr(catalog.OriginHuman), HuePrimaryKey: ptr("hue10_inspiring")}},
		{ISBN: isbn13(4), Title: ptr("Dawn"), Hydrated: true}, // no authors: a new work
		{ISBN: isbn13(5)}, // bare, but already created by the first item: counted once
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (catalog.BulkResult{Processed: 5, Created: 5}); res != want {
		t.Errorf("result %+v, want %+v (the first item created the second and fifth ISBNs' rows)", res, want)
	}
	works := map[string]int64{}
	for i := 1; i <= 4; i++ {
		e, _ := readEdition(t, tx, isbn13(i))
		if e.workID == nil || !e.hydrated {
			t.Fatalf("edition %d = %+v", i, e)
		}
		works[fmt.Sprint(i)] = *e.workID
	}
	if works["1"] != works["2"] || works["1"] != works["3"] || works["1"] == works["4"] {
		t.Errorf("works %v: want 1, 2, 3 on one work and 4 on another", works)
	}
	if e, _ := readEdition(t, tx, isbn13(2)); e.editionTitle != nil || deref(e.title) != "Dawn" {
		t.Errorf("edition 2 = %+v: hydrated from bare, so no edition_title and the work's title", e)
	}
	hues := scalar[[]string](t, tx, `SELECT array_agg(h.key || ':' || x.ordinal ORDER BY h.key) FROM labelsets l
		JOIN labelset_hue_association x ON x.labelset_id = l.id JOIN hues h ON h.id = x.hue_id WHERE l.work_id = $1`, works["1"])
	if !reflect.DeepEqual(hues, []string{"hue10_inspiring:PRIMARY"}) {
		t.Errorf("hues = %v, want the second patch (HUMAN outweighs OTHER) applied after the first", hues)
	}
	if n := scalar[int](t, tx, `SELECT count(*) FROM labelsets`); n != 1 {
		t.Errorf("%d labelsets, want 1", n)
	}
}

func TestBulkUpsertEditionsEmptyAndInvalid(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	tx := txAs(t, d, adminClaims)
	res, err := catalog.BulkUpsertEditions(context.Background(), tx, []catalog.EditionIn{{ISBN: "x"}, {ISBN: ""}})
	if err != nil || res != (catalog.BulkResult{}) {
		t.Fatalf("%+v, %v", res, err)
	}
	isbns := scalar[[]string](t, tx, `SELECT coalesce(array_agg(isbn), '{}') FROM editions`)
	if !slices.Equal(isbns, []string{}) {
		t.Errorf("editions %v", isbns)
	}
	_, err = catalog.BulkUpsertEditions(context.Background(), tx, []catalog.EditionIn{{ISBN: isbn13(1), Hydrated: true,
		DatePublished: ptr(1 << 40)}})
	if !errors.Is(err, catalog.ErrInvalidInput) {
		t.Errorf("date_published out of int4: %v, want ErrInvalidInput", err)
	}
}
