package catalog_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
)

// BenchmarkBulkUpsert10000Editions loads 10 000 editions with fresh ISBNs
// per iteration through db.InTx as huey_app with admin claims (RLS on),
// committing each load:
//
//   - hydrated: every item hydrated, with a title (a new work each), one or
//     two authors from a pool of 2 000, an illustrator on every second item,
//     a series on every fifth, another ISBN on every fourth, a labelset
//     (ages and hues, HUMAN) and info;
//   - bare: ISBNs only (the unhydrated path);
//   - hydrate-existing: the hydrated load of 10 000 editions that exist
//     unhydrated (loaded untimed first), as when a school's collection is
//     hydrated after its upload.
func BenchmarkBulkUpsert10000Editions(b *testing.B) {
	d := dbtest.NewDB(b)
	pool := d.Pool(b, dbtest.RoleAPI)
	id := uuid.New().String()
	claims := db.Claims{Kind: "user", UserType: "wriveted", ID: id, IsAdmin: true,
		Principals: []string{"system:everyone", "system:authenticated", "user:" + id, "role:admin"}}
	ctx := context.Background()
	const n = 10000
	next := 0 // fresh ISBNs across every run of every sub-benchmark

	hydrated := func(testing.TB) []catalog.EditionIn {
		items := make([]catalog.EditionIn, n)
		for i := range items {
			next++
			k := next
			in := catalog.EditionIn{ISBN: isbn13(100_000_000 + k), Hydrated: true,
				Title:          ptr(fmt.Sprintf("Book %d", k)),
				Authors:        []catalog.Person{{FirstName: ptr("Author"), LastName: fmt.Sprint("No", k%2000)}},
				CoverURL:       ptr(fmt.Sprintf("https://example.com/%d.jpg", k)),
				DatePublished:  ptr(2000 + k%24),
				Info:           map[string]any{"pages": "123", "genres": []any{map[string]any{"name": "Fiction", "source": "BIC"}}},
				LeadingArticle: ptr("The"),
				LabelSet: &catalog.LabelSetPatch{MinAge: ptr(5 + k%5), MaxAge: ptr(9 + k%5), AgeOrigin: ptr(catalog.OriginHuman),
					HuePrimaryKey: ptr("hue05_funny_comic"), HueSecondaryKey: ptr("hue12_funny_quirky"), HueOrigin: ptr(catalog.OriginHuman),
					Checked: ptr(true)},
			}
			if k%3 == 0 {
				in.Authors = append(in.Authors, catalog.Person{FirstName: ptr("Co"), LastName: fmt.Sprint("Author", k%500)})
			}
			if k%2 == 0 {
				in.Illustrators = []catalog.Person{{FirstName: ptr("Ill"), LastName: fmt.Sprint("Ustrator", k%500)}}
			}
			if k%5 == 0 {
				in.SeriesName, in.SeriesNumber = ptr(fmt.Sprint("Series ", k%300)), ptr(k%12)
			}
			if k%4 == 0 {
				in.OtherISBNs = []string{isbn13(500_000_000 + k)}
			}
			items[i] = in
		}
		return items
	}
	bare := func(testing.TB) []catalog.EditionIn {
		items := make([]catalog.EditionIn, n)
		for i := range items {
			next++
			items[i] = catalog.EditionIn{ISBN: isbn13(700_000_000 + next)}
		}
		return items
	}

	load := func(items []catalog.EditionIn) (catalog.BulkResult, error) {
		var res catalog.BulkResult
		err := db.InTx(ctx, pool, claims, func(tx *db.Tx) error {
			var err error
			res, err = catalog.BulkUpsertEditions(ctx, tx, items)
			return err
		})
		return res, err
	}
	hydrateExisting := func(tb testing.TB) []catalog.EditionIn {
		items := hydrated(tb)
		isbns := make([]catalog.EditionIn, len(items))
		for i, in := range items {
			isbns[i] = catalog.EditionIn{ISBN: in.ISBN}
		}
		if _, err := load(isbns); err != nil {
			tb.Fatal(err)
		}
		return items
	}

	for _, bc := range []struct {
		name    string
		items   func(testing.TB) []catalog.EditionIn
		created int
	}{{"hydrated", hydrated, n}, {"bare", bare, n}, {"hydrate-existing", hydrateExisting, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				items := bc.items(b)
				b.StartTimer()
				res, err := load(items)
				if err != nil {
					b.Fatal(err)
				}
				if res.Created != bc.created {
					b.Fatalf("created %d, want %d", res.Created, bc.created)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "editions/s")
		})
	}
}
