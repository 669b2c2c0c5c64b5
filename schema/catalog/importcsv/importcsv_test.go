package importcsv

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/sampledata"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// counts are the catalogue's row counts, read as a superuser.
type counts struct {
	Works, Editions, Hydrated, Authors, Illustrators, Series, Labelsets, WithHues, WithAbilities, WithAges,
	WithSummary, Checked, SearchRows int
}

func catalogueCounts(t *testing.T, pool *pgxpool.Pool) counts {
	t.Helper()
	var c counts
	err := pool.QueryRow(context.Background(), `SELECT
	  (SELECT count(*) FROM works), (SELECT count(*) FROM editions), (SELECT count(*) FROM editions WHERE hydrated),
	  (SELECT count(*) FROM authors), (SELECT count(*) FROM illustrators), (SELECT count(*) FROM series),
	  (SELECT count(*) FROM labelsets),
	  (SELECT count(DISTINCT labelset_id) FROM labelset_hue_association),
	  (SELECT count(DISTINCT labelset_id) FROM labelset_reading_ability_association),
	  (SELECT count(*) FROM labelsets WHERE min_age IS NOT NULL AND max_age IS NOT NULL AND age_origin = 'HUMAN'),
	  (SELECT count(*) FROM labelsets WHERE huey_summary IS NOT NULL AND summary_origin = 'HUMAN'),
	  (SELECT count(*) FROM labelsets WHERE checked),
	  (SELECT count(*) FROM search_view_v1)`).Scan(&c.Works, &c.Editions, &c.Hydrated, &c.Authors, &c.Illustrators,
		&c.Series, &c.Labelsets, &c.WithHues, &c.WithAbilities, &c.WithAges, &c.WithSummary, &c.Checked, &c.SearchRows)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sample(t *testing.T) string {
	t.Helper()
	p, ok := sampledata.LabelledBooks()
	if !ok {
		t.Fatalf("the sample data is missing: looked for %s", p)
	}
	return p
}

func load(t *testing.T, pool *pgxpool.Pool, path string, opts LoadOptions) Summary {
	t.Helper()
	f, err := os.Open(path) // #nosec G304 -- test data
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	sum, err := Load(context.Background(), pool, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %s in %s: %+v", path, time.Since(start).Round(time.Millisecond), sum)
	return sum
}

// TestImportSample loads the real sample file as huey_staff_rw, then again:
// the second import creates nothing and changes nothing.
func TestImportSample(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	rw := d.Pool(t, dbtest.RoleStaffRW)
	super := d.SuperPool(t)
	path := sample(t)

	var calls, last int
	sum := load(t, rw, path, LoadOptions{Options: Options{BatchSize: 50, Progress: func(done, total int) {
		if done < last || done > total {
			t.Errorf("progress went from %d to %d of %d", last, done, total)
		}
		calls, last = calls+1, done
	}}})
	want := Summary{RowsRead: 487, Created: 465, Skipped: 22, OtherEditions: 10,
		SkipReasons: map[string]int{SkipNoISBN: 20, SkipDuplicateISBN: 2},
		Warnings: map[string]int{"hue marked DO NOT USE ignored": 26, "hue cell without a hueNN key ignored": 1,
			"cover URL not usable": 1}}
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("first import:\n got %+v\nwant %+v", sum, want)
	}
	if calls != 10 || last != 465 {
		t.Errorf("progress called %d times, last at %d", calls, last)
	}
	got := catalogueCounts(t, super)
	// 465 rows with a new ISBN, 10 more ISBNs listed beside theirs; 265 rows
	// name a usable hue; one work has no author, so no search row.
	wantCounts := counts{Works: 465, Editions: 475, Hydrated: 465, Authors: 302, Illustrators: 150, Series: 82,
		Labelsets: 465, WithHues: 265, WithAbilities: 465, WithAges: 465, WithSummary: 465, Checked: 331, SearchRows: 464}
	if got != wantCounts {
		t.Errorf("catalogue after the first import:\n got %+v\nwant %+v", got, wantCounts)
	}

	again := load(t, rw, path, LoadOptions{})
	want.Created, want.Unchanged, want.OtherEditions = 0, 465, 0
	if !reflect.DeepEqual(again, want) {
		t.Errorf("second import:\n got %+v\nwant %+v", again, want)
	}
	if after := catalogueCounts(t, super); after != got {
		t.Errorf("the second import changed the catalogue:\n got %+v\nwant %+v", after, got)
	}

	// One book, end to end.
	var title, authors, illustrators, seriesTitle, hues, abilities, summary, cover string
	var order, minAge, maxAge, published int
	var checked bool
	err := super.QueryRow(context.Background(), `
SELECT e.title, e.cover_url, e.date_published,
  (SELECT string_agg(coalesce(a.first_name || ' ', '') || a.last_name, ', ' ORDER BY a.last_name)
     FROM author_work_association x JOIN authors a ON a.id = x.author_id WHERE x.work_id = w.id),
  (SELECT string_agg(coalesce(i.first_name || ' ', '') || i.last_name, ', ')
     FROM illustrator_edition_association x JOIN illustrators i ON i.id = x.illustrator_id WHERE x.edition_id = e.id),
  s.title, sw.order_id,
  (SELECT string_agg(h.key || ':' || x.ordinal, ', ' ORDER BY x.ordinal)
     FROM labelset_hue_association x JOIN hues h ON h.id = x.hue_id WHERE x.labelset_id = l.id),
  (SELECT string_agg(r.key, ', ' ORDER BY r.id)
     FROM labelset_reading_ability_association x JOIN reading_abilities r ON r.id = x.reading_ability_id WHERE x.labelset_id = l.id),
  l.min_age, l.max_age, l.huey_summary, l.checked
FROM editions e JOIN works w ON w.id = e.work_id JOIN labelsets l ON l.work_id = w.id
JOIN series_works_association sw ON sw.work_id = w.id JOIN series s ON s.id = sw.series_id
WHERE e.isbn = '9780064407694'`).Scan(&title, &cover, &published, &authors, &illustrators, &seriesTitle, &order,
		&hues, &abilities, &minAge, &maxAge, &summary, &checked)
	if err != nil {
		t.Fatal(err)
	}
	if title != "A Series of Unfortunate Events: The Miserable Mill" || authors != "Lemony Snicket" ||
		illustrators != "Brett Helquist" || seriesTitle != "A series of unfortunate events" || order != 4 ||
		hues != "hue03_dark_beautiful:PRIMARY, hue02_beautiful_whimsical:SECONDARY, hue01_dark_suspense:TERTIARY" ||
		abilities != "HARRY_POTTER" || minAge != 7 || maxAge != 12 || published != 2000 || !checked ||
		!strings.HasPrefix(cover, "https://") || summary == "" {
		t.Errorf("The Miserable Mill: %q %q %d %q %q %q #%d %q %q %d-%d %q checked=%v", title, cover, published,
			authors, illustrators, seriesTitle, order, hues, abilities, minAge, maxAge, summary, checked)
	}
}

const craftedHeader = "BookTitle,Author,ISBN,Hue Primary,reading_ability,Age Range,Scout Summary,Checked,controversial\n"

func loadString(t *testing.T, pool *pgxpool.Pool, csv string) Summary {
	t.Helper()
	sum, err := Load(context.Background(), pool, strings.NewReader(csv), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestImportUpdates: a changed row relabels its hydrated edition's work, an
// unhydrated edition (from a school collection) is hydrated, and a
// controversial book gets the BAD_CONTROVERSIAL status.
func TestImportUpdates(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	rw := d.Pool(t, dbtest.RoleStaffRW)
	super := d.SuperPool(t)
	ctx := context.Background()
	if _, err := super.Exec(ctx, `INSERT INTO editions (isbn) VALUES ('9780143782896')`); err != nil {
		t.Fatal(err)
	}
	first := craftedHeader +
		"Pig the Pug,Aaron Blabey,9781742997698,hue05_funny_comic,Cat The Hat,5to6,A greedy pug.,checked,\n" +
		"The Jewel Fish of Karnak,Graeme Base,0143782894,hue02_beautiful_whimsical,Treehouse,7to9,A fish.,,yes\n"
	sum := loadString(t, rw, first)
	if sum.Created != 1 || sum.Updated != 1 || sum.Unchanged != 0 {
		t.Errorf("first: %+v", sum)
	}
	var status, hue string
	if err := super.QueryRow(ctx, `SELECT l.recommend_status::text, l.recommend_status_origin::text FROM editions e
		JOIN labelsets l ON l.work_id = e.work_id WHERE e.isbn = '9780143782896' AND e.hydrated`).Scan(&status, &hue); err != nil ||
		status != "BAD_CONTROVERSIAL" || hue != "HUMAN" {
		t.Errorf("hydrated edition: %q %q %v", status, hue, err)
	}

	changed := strings.Replace(first, "hue05_funny_comic", "hue12_funny_quirky", 1)
	sum = loadString(t, rw, changed)
	if sum.Created != 0 || sum.Updated != 1 || sum.Unchanged != 1 {
		t.Errorf("after a change: %+v", sum)
	}
	if err := super.QueryRow(ctx, `SELECT string_agg(h.key, ',') FROM editions e JOIN labelsets l ON l.work_id = e.work_id
		JOIN labelset_hue_association x ON x.labelset_id = l.id JOIN hues h ON h.id = x.hue_id
		WHERE e.isbn = '9781742997698'`).Scan(&hue); err != nil || hue != "hue12_funny_quirky" {
		t.Errorf("relabelled hue %q %v", hue, err)
	}
	if sum := loadString(t, rw, changed); sum.Unchanged != 2 {
		t.Errorf("again: %+v", sum)
	}
}

// TestReadOnlyStaffCannotImport: huey_staff_ro reads the catalogue but the
// grants and row security refuse its writes; nothing is written.
func TestReadOnlyStaffCannotImport(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	ro := d.Pool(t, dbtest.RoleStaffRO)
	claims := db.Claims{Kind: "staff", Role: dbtest.RoleStaffRO, Principals: []string{"staff:test"}}
	err := db.InTx(ctx, ro, claims, func(tx *db.Tx) error {
		_, err := Import(ctx, tx, strings.NewReader(craftedHeader+"Pig the Pug,Aaron Blabey,9781742997698,,,,,,\n"), Options{})
		return err
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("huey_staff_ro imported: %v", err)
	}
	// Load runs as huey_staff_rw, which the read-only login cannot become.
	if _, err := Load(ctx, ro, strings.NewReader(craftedHeader+"Pig the Pug,Aaron Blabey,9781742997698,,,,,,\n"), LoadOptions{}); err == nil {
		t.Error("Load through the read-only login succeeded")
	}
	if c := catalogueCounts(t, d.SuperPool(t)); c != (counts{}) {
		t.Errorf("written: %+v", c)
	}
}

func TestImportRefusesOtherFiles(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "name,school\nAna,17\n"} {
		if _, err := Import(context.Background(), nil, strings.NewReader(in), Options{}); err == nil {
			t.Errorf("%q: imported", in)
		}
	}
}
