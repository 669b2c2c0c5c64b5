package importcsv

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/schema/catalog"
)

func names(ps []person) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.First+"|"+p.Last)
	}
	return out
}

func TestContributors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, author, illustrator string
		authors, illustrators     []string
	}{
		{"one", "Aaron Blabey", "", []string{"Aaron|Blabey"}, []string{}},
		{"illustrated by", "Jackie French; illustrated by Bruce Whatley", "",
			[]string{"Jackie|French"}, []string{"Bruce|Whatley"}},
		{"space before semicolon", "Sally Morgan ;illustrated by Tania Erzinger", "",
			[]string{"Sally|Morgan"}, []string{"Tania|Erzinger"}},
		{"comma before marker", "Kerry Greenwood, illustrated by Annie White", "",
			[]string{"Kerry|Greenwood"}, []string{"Annie|White"}},
		{"illustrations by", "Victor Kelleher; illustrations by Stephen Michael King", "",
			[]string{"Victor|Kelleher"}, []string{"Stephen Michael|King"}},
		{"foreword dropped", "Loll Kirby; foreword by Anna Taylor; illustrated by Adelina Lirius", "",
			[]string{"Loll|Kirby"}, []string{"Adelina|Lirius"}},
		{"several each", "Greg James, Chris Smith; illustrated by Erica Salcedo, Greg James", "",
			[]string{"Greg|James", "Chris|Smith"}, []string{"Erica|Salcedo", "Greg|James"}},
		{"inverted name", "Fraillon, Zana; illustrated by Grahame Baker-Smith", "Grahame Baker-Smith",
			[]string{"Zana|Fraillon"}, []string{"Grahame|Baker-Smith"}},
		{"two inverted", "Hashmi, Kerri & Marshall, Kerri", "",
			[]string{"Kerri|Hashmi", "Kerri|Marshall"}, []string{}},
		{"comma list with and", "Paul Soares, Jordan Maron, and Stephanie Milton", "",
			[]string{"Paul|Soares", "Jordan|Maron", "Stephanie|Milton"}, []string{}},
		{"shared surname", "Prue & Kerry Mason", "Tom Jellett",
			[]string{"Prue|Mason", "Kerry|Mason"}, []string{"Tom|Jellett"}},
		{"role word segment", "Andy Griffiths;author;Terry Denton;illustrator", "",
			[]string{"Andy|Griffiths"}, []string{"Terry|Denton"}},
		{"parenthesised role", "Andy Griffiths, Terry Denton (illustrator)", "",
			[]string{"Andy|Griffiths"}, []string{"Terry|Denton"}},
		{"illustrator column moves a co-author", "Margaret Wild & Ritva Voutila", "Ritva Voutila",
			[]string{"Margaret|Wild"}, []string{"Ritva|Voutila"}},
		{"illustrator column keeps a sole author", "Aaron Blabey", "Aaron Blabey",
			[]string{"Aaron|Blabey"}, []string{"Aaron|Blabey"}},
		{"marker without a name falls back to the column", "Myriam Dahman, Nicolas Digard; illustrated by",
			"Ju\u00cc\u0081lia Sarda\u00cc\u20ac", []string{"Myriam|Dahman", "Nicolas|Digard"}, []string{"Júlia|Sardà"}},
		{"marker wins over the column", "Kirli Saunders; illustrated by Matt Ottley", "Matthew Ottley",
			[]string{"Kirli|Saunders"}, []string{"Matt|Ottley"}},
		{"author also illustrator", "Shaun Tan; illustrated by Shaun Tan", "",
			[]string{"Shaun|Tan"}, []string{"Shaun|Tan"}},
		{"decomposed accents composed", "Rene\u0301 Goscinny ; illustrated by Albert Uderzo", "",
			[]string{"René|Goscinny"}, []string{"Albert|Uderzo"}},
		{"single name", "Zainab", "", []string{"|Zainab"}, []string{}},
		{"empty", "", "", []string{}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, i := contributors(c.author, c.illustrator)
			if got := names(a); !reflect.DeepEqual(got, c.authors) {
				t.Errorf("authors %q, want %q", got, c.authors)
			}
			if got := names(i); !reflect.DeepEqual(got, c.illustrators) {
				t.Errorf("illustrators %q, want %q", got, c.illustrators)
			}
		})
	}
}

func TestHues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		cells []string
		want  []string
		warns int
	}{
		{"three slots", []string{"hue05_funny_comic", "hue12_funny_quirky", "hue01_dark_suspense"},
			[]string{"hue05_funny_comic", "hue12_funny_quirky", "hue01_dark_suspense"}, 0},
		{"space in key", []string{"hue02 _beautiful_whimsical", "", ""}, []string{"hue02_beautiful_whimsical"}, 0},
		{"legacy keys by number", []string{"hue08_charming_inspiring", "hue13_straightforward", ""},
			[]string{"hue08_charming_courageous", "hue13_informative"}, 0},
		{"DO NOT USE skipped, next moves up", []string{"DO NOT USE hue04_charming joyful", "hue10_inspiring", ""},
			[]string{"hue10_inspiring"}, 1},
		{"only DO NOT USE", []string{"DO NOT USE hue04_charming joyful", "", ""}, nil, 1},
		{"not a hue", []string{"When Hitler Stole Pink Rabbit", "", ""}, nil, 1},
		{"repeated hue once", []string{"hue05_funny_comic", "hue05_funny_comic", ""}, []string{"hue05_funny_comic"}, 0},
		{"list in a cell", []string{"hue01_dark_suspense, hue03_dark_beautiful", "", ""},
			[]string{"hue01_dark_suspense", "hue03_dark_beautiful"}, 0},
		{"unknown number", []string{"hue99_nothing", "", ""}, nil, 1},
		{"empty", []string{"", "", ""}, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			warns := 0
			got := hues(c.cells, func(string) { warns++ })
			if !reflect.DeepEqual(got, c.want) || warns != c.warns {
				t.Errorf("got %q (%d warnings), want %q (%d)", got, warns, c.want, c.warns)
			}
		})
	}
}

// TestHueKeysAreCanonical keeps the importer's hue numbers in step with the
// keys the catalogue seeds.
func TestHueKeysAreCanonical(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 13; n++ {
		k := hueKey(n)
		if c, ok := catalog.CanonicalHueKey(k); !ok || c != k {
			t.Errorf("hue %d: %q is not a canonical key (%q %v)", n, k, c, ok)
		}
	}
	for _, legacy := range []string{"hue08_charming_inspiring", "hue13_straightforward"} {
		c, _ := catalog.CanonicalHueKey(legacy)
		if got := hues([]string{legacy}, func(string) {}); len(got) != 1 || got[0] != c {
			t.Errorf("%s → %q, the catalogue says %q", legacy, got, c)
		}
	}
}

func TestReadingAbilities(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cell  string
		want  []string
		warns int
	}{
		{"Spot", []string{"SPOT"}, 0},
		{"Cat The Hat", []string{"CAT_HAT"}, 0},
		{"Treehouse", []string{"TREEHOUSE"}, 0},
		{"Charlie and The Chocolate Factory,Harry Potter", []string{"CHARLIE_CHOCOLATE", "HARRY_POTTER"}, 0},
		{"Harry Potter,Charlie and The Chocolate Factory,Treehouse", []string{"HARRY_POTTER", "CHARLIE_CHOCOLATE", "TREEHOUSE"}, 0},
		{"Where's Spot, The Cat in the Hat", []string{"SPOT", "CAT_HAT"}, 0},
		{"CAT_HAT,cat the hat", []string{"CAT_HAT"}, 0},
		{"Spot,Goosebumps", []string{"SPOT"}, 1},
		{"", nil, 0},
	}
	for _, c := range cases {
		warns := 0
		got := readingAbilities(c.cell, func(string) { warns++ })
		if !reflect.DeepEqual(got, c.want) || warns != c.warns {
			t.Errorf("%q: got %q (%d warnings), want %q (%d)", c.cell, got, warns, c.want, c.warns)
		}
	}
}

func TestAgeRange(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cell   string
		lo, hi int
		ok     bool
		warns  int
	}{
		{"7to9,10to12", 7, 12, true, 0},
		{"5to6,7to9,0to4", 0, 9, true, 0},
		{"10to12,13plus", 10, OpenAgeMax, true, 0},
		{"Stage2,Stage3,7to9,10to12", 7, 12, true, 0}, // stages only without ages
		{"Stage2,Stage3", 8, 12, true, 0},
		{"Stage3", 10, 12, true, 0},
		{"5-8", 5, 8, true, 0},
		{"9+", 9, OpenAgeMax, true, 0},
		{"16+", 16, 16, true, 0},
		{"12 to 14", 12, 14, true, 0},
		{"8 - 10 years", 8, 10, true, 0},
		{"7", 7, 7, true, 0},
		{"Ages 6-9", 6, 9, true, 0},
		{"9-7", 7, 9, true, 0},
		{"teen", 0, 0, false, 1},
		{"", 0, 0, false, 0},
	}
	for _, c := range cases {
		warns := 0
		lo, hi, ok := ageRange(c.cell, func(string) { warns++ })
		if lo != c.lo || hi != c.hi || ok != c.ok || warns != c.warns {
			t.Errorf("%q: got %d-%d %v (%d warnings), want %d-%d %v (%d)", c.cell, lo, hi, ok, warns, c.lo, c.hi, c.ok, c.warns)
		}
	}
}

func TestSeries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, statement string
		want            string
		n               int
	}{
		{"Treehouse", "Treehouse books ; 2", "Treehouse", 2},
		{"A series of unfortunate events", "Series of unfortunate events ; 7", "A series of unfortunate events", 7},
		{"Percy Jackson and the Olympians;", "Percy Jackson and the olympians ; 5", "Percy Jackson and the Olympians", 5},
		{"Harry Potter", "Harry Potter series ; 03.", "Harry Potter", 3},
		{"Zac Powers", "Zac Power test drive ; 8", "Zac Powers", 0},
		{"Tashi", "Tashi", "Tashi", 0},
		{"", "Ella diaries ; 11", "Ella diaries", 11},
		{"", "Special needs collection", "", 0},
		{"", "", "", 0},
	}
	for _, c := range cases {
		if got, n := series(c.name, c.statement); got != c.want || n != c.n {
			t.Errorf("series(%q, %q) = %q, %d; want %q, %d", c.name, c.statement, got, n, c.want, c.n)
		}
	}
}

func TestCleanText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Rau\u00cc\u0081l Nieto Guridi":                         "Raúl Nieto Guridi",
		"the kind of \u00e2\u20ac\u02dcrules\u00e2\u20ac\u2122": "the kind of ‘rules’",
		"René Goscinny":      "René Goscinny", // already right: untouched
		"O’Hagan":            "O’Hagan",
		"plain ascii":        "plain ascii",
		"Ast\u00c3\u00a9rix": "Astérix",
	} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

// testHeader is the real file's header, in part and out of order.
func testHeader() []string {
	return []string{"BookTitle", "Author", "controversial", "Checked", "Age Range", "reading_ability",
		"Hue Primary", "Hue Secondary", "Hue Tertiary", "Cover Image - Booko", "coverImage", "ISBN",
		"Summary Long - SLNSW", "Scout Summary", "Oliver Summary", "ResourceSeries", "Published", "ISBN13", "ISBN10",
		"Blacktown Illustrator", "Blacktown SeriesTitle", "Genre"}
}

func row(fields map[string]string) []string {
	header := testHeader()
	rec := make([]string, len(header))
	for i, h := range header {
		rec[i] = fields[h]
	}
	return rec
}

func TestMapRow(t *testing.T) {
	t.Parallel()
	cols := findColumns(testHeader())
	full := row(map[string]string{
		"BookTitle": " The 26-Storey Treehouse ", "Author": "Andy Griffiths & Terry Denton",
		"Blacktown Illustrator": "Terry Denton", "Checked": "checked", "Age Range": "7to9,10to12",
		"reading_ability": "Treehouse,Cat The Hat", "Hue Primary": "DO NOT USE hue04_charming joyful",
		"Hue Secondary": "hue05_funny_comic", "ISBN": "0143782894, 9780143782896", "ISBN13": "",
		"coverImage":    "https://wriveted-book-covers.s3-ap-southeast-2.amazonaws.com/Stage2_B/26.jpg",
		"Scout Summary": "Having added a further 13 storeys…", "Oliver Summary": "Summary: Join Andy and Terry",
		"ResourceSeries": "Treehouse", "Blacktown SeriesTitle": "Treehouse books ; 2", "Published": "2012",
		"controversial": "yes", "Genre": "Funny,Adventure & Action, Funny",
	})
	var warns []string
	b, skip := mapRow(cols, full, 7, func(w string) { warns = append(warns, w) })
	if skip != "" {
		t.Fatalf("skipped: %s", skip)
	}
	want := book{line: 7, isbn: "9780143782896", otherISBNs: []string{}, title: "The 26-Storey Treehouse",
		authors: []person{{"Andy", "Griffiths"}}, illustrators: []person{{"Terry", "Denton"}},
		series: "Treehouse", seriesNumber: 2,
		coverURL:  "https://wriveted-book-covers.s3-ap-southeast-2.amazonaws.com/Stage2_B/26.jpg",
		published: 2012, hues: []string{"hue05_funny_comic"}, readingAbilities: []string{"TREEHOUSE", "CAT_HAT"},
		hasAge: true, minAge: 7, maxAge: 12, summary: "Having added a further 13 storeys…",
		summaryShort: "Having added a further 13 storeys…", summaryLong: "Join Andy and Terry",
		checked: true, controversial: true, genres: []string{"Funny", "Adventure & Action"}}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("got  %+v\nwant %+v", b, want)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "DO NOT USE") {
		t.Errorf("warnings %q", warns)
	}

	for _, c := range []struct {
		name   string
		fields map[string]string
		skip   string
		isbn   string
		others []string
	}{
		{"no title", map[string]string{"ISBN": "9781742611273"}, SkipNoTitle, "", nil},
		{"no ISBN", map[string]string{"BookTitle": "Dogasaurus"}, SkipNoISBN, "", nil},
		{"invalid ISBN", map[string]string{"BookTitle": "X", "ISBN": "9781742611274"}, SkipInvalidISBN, "", nil},
		{"ISBN13 preferred", map[string]string{"BookTitle": "X", "ISBN13": "9780143782797", "ISBN": "9781742611273"},
			"", "9780143782797", []string{"9781742611273"}},
		{"ISBN10 when the others are invalid", map[string]string{"BookTitle": "X", "ISBN13": "123", "ISBN10": "0-14-378289-4"},
			"", "9780143782896", []string{}},
		{"short ISBN-10 padded", map[string]string{"BookTitle": "X", "ISBN": "330362151"}, "", "9780330362153", []string{}},
		{"several in one cell", map[string]string{"BookTitle": "X", "ISBN": "9781743533222, 9781743537411"},
			"", "9781743533222", []string{"9781743537411"}},
	} {
		b, skip := mapRow(cols, row(c.fields), 2, func(string) {})
		if skip != c.skip || b.isbn != c.isbn || (c.skip == "" && !reflect.DeepEqual(append([]string{}, b.otherISBNs...), c.others)) {
			t.Errorf("%s: skip %q isbn %q others %q; want %q %q %q", c.name, skip, b.isbn, b.otherISBNs, c.skip, c.isbn, c.others)
		}
	}
}

func TestMapRowFallbacks(t *testing.T) {
	t.Parallel()
	cols := findColumns(testHeader())
	var warns []string
	b, skip := mapRow(cols, row(map[string]string{
		"BookTitle": "Rules of Summer", "Author": "Shaun Tan", "ISBN": "9780734410672",
		"coverImage":          "3-ap-southeast-2.amazonaws.com/040321/x.jpg",
		"Cover Image - Booko": "https://booko.com.au/9780734410672/Rules-of-Summer",
		"Oliver Summary":      "Summary: Combining humour and surreal fantasy…\n\nSecond paragraph.",
		"Published":           "circa 2013?", "Checked": "", "Age Range": "",
	}), 3, func(w string) { warns = append(warns, w) })
	if skip != "" {
		t.Fatal(skip)
	}
	if b.coverURL != "" || b.summary != "Combining humour and surreal fantasy…\n\nSecond paragraph." || b.summaryShort != "" ||
		b.published != 2013 || b.checked || b.hasAge || b.controversial {
		t.Errorf("%+v", b)
	}
	if len(warns) != 1 || warns[0] != "cover URL not usable" {
		t.Errorf("warnings %q", warns)
	}
	b, _ = mapRow(cols, row(map[string]string{"BookTitle": "X", "ISBN": "9780734410672",
		"Cover Image - Booko": "https://covers.booktopia.com.au/big/9780734410672/rules.jpg"}), 4, func(string) {})
	if b.coverURL != "https://covers.booktopia.com.au/big/9780734410672/rules.jpg" {
		t.Errorf("Booko image not used: %q", b.coverURL)
	}
}

func TestReadTable(t *testing.T) {
	t.Parallel()
	in := "\xEF\xBB\xBFBookTitle,ISBN,Scout Summary\n" +
		"\"Quoted, title\",9780734410672,\"two\nlines\"\n" +
		",,\n" +
		"Bare \"quote\" title,123,x\n" +
		"Short row\n"
	tb, err := readTable(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if tb.header[0] != "BookTitle" {
		t.Errorf("BOM kept: %q", tb.header[0])
	}
	if len(tb.recs) != 3 || tb.recs[0][2] != "two\nlines" || tb.recs[1][0] != `Bare "quote" title` || len(tb.recs[2]) != 1 {
		t.Errorf("records %q", tb.recs)
	}
	if !reflect.DeepEqual(tb.lines, []int{2, 5, 6}) {
		t.Errorf("lines %v", tb.lines)
	}
}
