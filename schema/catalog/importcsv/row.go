package importcsv

import (
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wriveted/huey-api/schema/catalog"
)

// Skip reasons: the keys of Summary.SkipReasons.
const (
	SkipNoTitle       = "no title"
	SkipNoISBN        = "no ISBN"
	SkipInvalidISBN   = "no valid ISBN"
	SkipDuplicateISBN = "ISBN repeated in the file (first row wins)"
)

// maxCoverURL is the width of editions.cover_url (domain.md §6.8).
const maxCoverURL = 200

var (
	yearRe         = regexp.MustCompile(`\b(1[5-9]\d\d|20\d\d)\b`)
	dateDigitsRe   = regexp.MustCompile(`^\d{8}$`)
	seriesNumberRe = regexp.MustCompile(`^(.*?)\s*;\s*0*(\d{1,4})\.?\s*$`)
	summaryLabelRe = regexp.MustCompile(`(?i)^(summary|annotation)\s*[:.]\s*`)
	imagePathRe    = regexp.MustCompile(`(?i)\.(jpe?g|png|gif|webp)$`)
)

// columns locates the columns the importer reads in a header row. A column
// is found by its name, ignoring case, spaces and punctuation; -1 when absent.
type columns struct {
	title, author, illustrator            int
	isbns                                 []int // ISBN13, ISBN, ISBN10: the order of preference
	ageRange, readingAbility              int
	huePrimary, hueSecondary, hueTertiary int
	summaries                             []int // best first: Scout, Oliver, SLNSW long, Blacktown
	longSummaries                         []int // SLNSW long, Oliver, Blacktown
	checked, controversial                int
	series, seriesTitle                   int
	published                             int
	covers                                []int // coverImage, then Cover Image - Booko
	genre                                 int
}

func findColumns(header []string) columns {
	idx := map[string]int{}
	for i, h := range header {
		k := nameKey(h)
		if _, dup := idx[k]; !dup {
			idx[k] = i
		}
	}
	col := func(names ...string) int {
		for _, n := range names {
			if i, ok := idx[nameKey(n)]; ok {
				return i
			}
		}
		return -1
	}
	cols := func(names ...string) []int {
		var out []int
		for _, n := range names {
			if i := col(n); i >= 0 {
				out = append(out, i)
			}
		}
		return out
	}
	return columns{
		title:          col("BookTitle", "Book Title", "Title"),
		author:         col("Author", "Authors"),
		illustrator:    col("Blacktown Illustrator", "Illustrator", "Illustrators"),
		isbns:          cols("ISBN13", "ISBN", "ISBN10"),
		ageRange:       col("Age Range"),
		readingAbility: col("reading_ability", "Reading Ability"),
		huePrimary:     col("Hue Primary"),
		hueSecondary:   col("Hue Secondary"),
		hueTertiary:    col("Hue Tertiary"),
		summaries:      cols("Scout Summary", "Oliver Summary", "Summary Long - SLNSW", "Blacktown Summary"),
		longSummaries:  cols("Summary Long - SLNSW", "Oliver Summary", "Blacktown Summary"),
		checked:        col("Checked"),
		controversial:  col("controversial"),
		series:         col("ResourceSeries", "Series"),
		seriesTitle:    col("Blacktown SeriesTitle"),
		published:      col("Published", "Date Published", "Year"),
		covers:         cols("coverImage", "Cover Image - Booko"),
		genre:          col("Genre"),
	}
}

// book is one row mapped to what the catalogue stores.
type book struct {
	line         int // the row's first line in the file
	isbn         string
	otherISBNs   []string
	title        string
	authors      []person
	illustrators []person
	series       string
	seriesNumber int // 0: none
	coverURL     string
	published    int // 0: none

	hues             []string // primary, secondary, tertiary
	readingAbilities []string
	hasAge           bool
	minAge, maxAge   int
	summary          string // huey_summary
	summaryShort     string // edition info
	summaryLong      string // edition info
	checked          bool
	controversial    bool
	genres           []string
}

// mapRow maps one record. It returns a skip reason ("" to import) and calls
// warn for each cell it had to ignore.
func mapRow(c columns, rec []string, line int, warn func(string)) (book, string) {
	cell := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	b := book{line: line, title: cleanText(cell(c.title))}
	if b.title == "" {
		return b, SkipNoTitle
	}
	var isbnCells []string
	for _, i := range c.isbns {
		isbnCells = append(isbnCells, cell(i))
	}
	isbns, invalid := isbnList(isbnCells)
	switch {
	case len(isbns) == 0 && invalid == 0:
		return b, SkipNoISBN
	case len(isbns) == 0:
		return b, SkipInvalidISBN
	case invalid > 0:
		warn("invalid extra ISBN ignored")
	}
	b.isbn, b.otherISBNs = isbns[0], isbns[1:]

	b.authors, b.illustrators = contributors(cell(c.author), cell(c.illustrator))
	b.series, b.seriesNumber = series(cell(c.series), cell(c.seriesTitle))
	for n, i := range c.covers {
		if b.coverURL = coverURL(cell(i), n > 0); b.coverURL != "" {
			break
		}
		if n == 0 && cell(i) != "" {
			warn("cover URL not usable")
		}
	}
	b.published = published(cell(c.published))
	if b.published == 0 && cell(c.published) != "" {
		warn("publication date not understood")
	}

	b.hues = hues([]string{cell(c.huePrimary), cell(c.hueSecondary), cell(c.hueTertiary)}, warn)
	b.readingAbilities = readingAbilities(cell(c.readingAbility), warn)
	b.minAge, b.maxAge, b.hasAge = ageRange(cell(c.ageRange), warn)
	for n, i := range c.summaries {
		if s := summaryText(cell(i)); s != "" {
			b.summary = s
			if n == 0 {
				b.summaryShort = s
			}
			break
		}
	}
	for _, i := range c.longSummaries {
		if s := summaryText(cell(i)); s != "" {
			b.summaryLong = s
			break
		}
	}
	b.checked = truthy(cell(c.checked))
	b.controversial = truthy(cell(c.controversial))
	b.genres = genres(cleanText(cell(c.genre)))
	return b, ""
}

// isbnList returns the valid ISBNs (normalised, distinct, in order) of the
// cells, and how many candidates were invalid. A cell may hold several
// ISBNs ("9781742614212, 1742614213").
func isbnList(cells []string) (valid []string, invalid int) {
	for _, c := range cells {
		for _, tok := range listSepRe.Split(c, -1) {
			if tok == "" {
				continue
			}
			parts := []string{tok}
			if _, err := catalog.NormalizeISBN(tok); err != nil && strings.ContainsAny(tok, " \t") {
				parts = strings.Fields(tok) // "9780143782797 0143782797"
			}
			for _, p := range parts {
				n, err := catalog.NormalizeISBN(p)
				switch {
				case err != nil:
					invalid++
				case !slices.Contains(valid, n):
					valid = append(valid, n)
				}
			}
		}
	}
	return valid, invalid
}

// series is the series name (ResourceSeries, trimmed of a trailing ";") and
// its number, read from a library series statement ("Treehouse books ; 2")
// when that names the same series (one title key a prefix of the other).
// Without a series name, a numbered series statement gives both.
func series(name, statement string) (string, int) {
	name = strings.Trim(cleanText(name), " ;,.")
	statement = cleanText(statement)
	m := seriesNumberRe.FindStringSubmatch(statement)
	if m == nil {
		return name, 0
	}
	n, _ := strconv.Atoi(m[2])
	stName := strings.Trim(m[1], " ;,.")
	if name == "" {
		return stName, n
	}
	a, b := seriesKey(name), seriesKey(stName)
	if a != "" && b != "" && (strings.HasPrefix(a, b) || strings.HasPrefix(b, a)) {
		return name, n
	}
	return name, 0
}

// seriesKey is the catalogue's series title key (domain.md §6.5): leading
// "the "/"a " and every non-alphanumeric removed.
func seriesKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "the "), "a ")
	return nameKey(s)
}

// coverURL returns raw when it is an absolute http(s) URL that fits the
// column; mustBeImage also requires an image file name (the Booko column
// mostly links to shop pages).
func coverURL(raw string, mustBeImage bool) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > maxCoverURL {
		return ""
	}
	if mustBeImage && !imagePathRe.MatchString(path.Base(u.Path)) {
		return ""
	}
	return raw
}

// published reads a publication date as the integer the catalogue stores:
// a year ("2019"), or yyyymmdd as given; otherwise the first plausible year
// in the cell; 0 when there is none.
func published(cell string) int {
	if dateDigitsRe.MatchString(cell) {
		n, _ := strconv.Atoi(cell)
		return n
	}
	if m := yearRe.FindString(cell); m != "" {
		n, _ := strconv.Atoi(m)
		return n
	}
	return 0
}

// summaryText cleans a summary cell and drops a leading "Summary:" label.
func summaryText(cell string) string {
	return summaryLabelRe.ReplaceAllString(cleanParagraph(cell), "")
}
