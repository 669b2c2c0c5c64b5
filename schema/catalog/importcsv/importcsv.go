// Package importcsv loads the labelled-books CSV format (the spreadsheet the
// Wriveted team tags books in; a sample is shared/data/labelled-books.csv)
// into the catalogue: works, editions, authors, illustrators, series, and
// each work's labels (hues, reading abilities, ages, summary, recommend
// status, checked) with origin HUMAN.
//
// It is the reusable half of `scripts/import-books`; `make run` seeds a new
// database with it and tests load the sample data through it. Every write
// goes through package catalog (UpsertEdition's procedure, in bulk, and
// ApplyLabelSetPatch), inside the caller's transaction, so row-level
// security binds the import like any other caller: it needs a role that may
// write the catalogue (huey_staff_rw). It imports schema/catalog and
// schema/db only.
//
// Importing is idempotent: a second import of the same file creates nothing
// and reports every row unchanged. Editions that are already hydrated keep
// their metadata (the catalogue's upsert leaves them alone); their work's
// labels are re-applied under the label-authority rules, so a corrected
// spreadsheet updates the labels.
package importcsv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/wriveted/huey-api/schema/catalog"
)

// Summary is what an import did. RowsRead = Created + Updated + Unchanged + Skipped.
type Summary struct {
	RowsRead  int // data rows in the file (blank lines are not rows)
	Created   int // rows whose edition did not exist
	Updated   int // rows whose edition existed and changed: hydrated, relinked or relabelled
	Unchanged int // rows whose edition, work and labels were already as the row says
	Skipped   int // rows not imported; SkipReasons says why
	// SkipReasons counts skipped rows by reason (the Skip* constants).
	SkipReasons map[string]int
	// Warnings counts what was ignored in imported rows: a hue cell marked
	// DO NOT USE, an unknown reading ability, an unusable cover URL, …
	Warnings map[string]int
	// OtherEditions counts editions created, unhydrated, for the additional
	// ISBNs a row lists; they join the row's work.
	OtherEditions int
}

// Options tune an import; the zero value is ready to use.
type Options struct {
	// Progress, when set, is called as rows are written with the number of
	// rows handled so far and the number to write (rows read less skipped).
	Progress func(done, total int)
	// BatchSize is the number of rows written per set of statements; 0 means 100.
	BatchSize int
}

// Import reads the CSV from r and writes its books through tx. It returns an
// error, and the caller should roll back, when the file cannot be read or a
// write fails (a role that may not write the catalogue fails here with
// SQLSTATE 42501); rows with no title or no valid ISBN are skipped and
// counted, not errors.
func Import(ctx context.Context, tx catalog.DBTX, r io.Reader, opts Options) (Summary, error) {
	sum := Summary{SkipReasons: map[string]int{}, Warnings: map[string]int{}}
	t, err := readTable(r)
	if err != nil {
		return sum, err
	}
	cols := findColumns(t.header)
	if cols.title < 0 || len(cols.isbns) == 0 {
		return sum, errors.New("not a labelled-books CSV: it needs a BookTitle column and an ISBN, ISBN13 or ISBN10 column")
	}
	sum.RowsRead = len(t.recs)

	books := make([]book, 0, len(t.recs))
	seen := map[string]bool{}
	for i, rec := range t.recs {
		var warns []string
		b, skip := mapRow(cols, rec, t.lines[i], func(w string) { warns = append(warns, w) })
		if skip == "" && seen[b.isbn] {
			skip = SkipDuplicateISBN
		}
		if skip != "" {
			sum.Skipped++
			sum.SkipReasons[skip]++
			continue
		}
		seen[b.isbn] = true
		for _, w := range warns {
			sum.Warnings[w]++
		}
		books = append(books, b)
	}

	var all []string
	for _, b := range books {
		all = append(all, b.isbn)
		all = append(all, b.otherISBNs...)
	}
	before, err := snapshot(ctx, tx, all)
	if err != nil {
		return sum, err
	}

	size := opts.BatchSize
	if size <= 0 {
		size = 100
	}
	for start := 0; start < len(books); start += size {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		batch := books[start:min(start+size, len(books))]
		if err := write(ctx, tx, batch, func(w string) { sum.Warnings[w]++ }); err != nil {
			return sum, err
		}
		if opts.Progress != nil {
			opts.Progress(start+len(batch), len(books))
		}
	}

	after, err := snapshot(ctx, tx, all)
	if err != nil {
		return sum, err
	}
	primary := map[string]bool{}
	for _, b := range books {
		primary[b.isbn] = true
		old, existed := before[b.isbn]
		switch now := after[b.isbn]; {
		case !existed:
			sum.Created++
		case old != now:
			sum.Updated++
		default:
			sum.Unchanged++
		}
	}
	counted := map[string]bool{}
	for _, isbn := range all {
		if _, existed := before[isbn]; !existed && !primary[isbn] && !counted[isbn] {
			if _, ok := after[isbn]; ok {
				counted[isbn] = true
				sum.OtherEditions++
			}
		}
	}
	return sum, nil
}

// write upserts a batch of rows: the catalogue's bulk upsert creates or
// hydrates their editions and, for works it creates or finds by title and
// author, applies the labels. Rows whose edition or other ISBNs existed
// before (already hydrated, or joined to a work through another ISBN) get
// their labels applied here, since the upsert leaves those alone.
func write(ctx context.Context, tx catalog.DBTX, batch []book, warn func(string)) error {
	var isbns []string
	for _, b := range batch {
		isbns = append(isbns, b.isbn)
		isbns = append(isbns, b.otherISBNs...)
	}
	existing, err := editionWorks(ctx, tx, isbns)
	if err != nil {
		return err
	}
	items := make([]catalog.EditionIn, len(batch))
	for i, b := range batch {
		items[i] = b.editionIn()
	}
	if _, err := catalog.BulkUpsertEditions(ctx, tx, items); err != nil {
		return err
	}
	var relabel []int
	for i, b := range batch {
		pre := existing[b.isbn] != nil
		for _, o := range b.otherISBNs {
			pre = pre || existing[o] != nil
		}
		if pre && items[i].LabelSet != nil && !items[i].LabelSet.Empty() {
			relabel = append(relabel, i)
		}
	}
	if len(relabel) == 0 {
		return nil
	}
	isbns = isbns[:0]
	for _, i := range relabel {
		isbns = append(isbns, batch[i].isbn)
	}
	works, err := editionWorks(ctx, tx, isbns)
	if err != nil {
		return err
	}
	patched := map[int64]bool{}
	for _, i := range relabel {
		w := works[batch[i].isbn]
		if w == nil || *w == 0 {
			warn("labels not applied: the edition exists without a work")
			continue
		}
		if patched[*w] {
			continue // an earlier row of the batch labelled this work
		}
		patched[*w] = true
		if _, err := catalog.ApplyLabelSetPatch(ctx, tx, *w, *items[i].LabelSet); err != nil {
			return fmt.Errorf("label %s (line %d): %w", batch[i].isbn, batch[i].line, err)
		}
	}
	return nil
}

// editionWorks returns the work id of each existing edition among isbns
// (pointing at 0 when it has none); absent editions are not in the map.
func editionWorks(ctx context.Context, tx catalog.DBTX, isbns []string) (map[string]*int64, error) {
	rows, err := tx.Query(ctx, `SELECT isbn, coalesce(work_id, 0) FROM public.editions WHERE isbn = ANY($1::text[])`, isbns)
	if err != nil {
		return nil, fmt.Errorf("read editions: %w", err)
	}
	defer rows.Close()
	out := map[string]*int64{}
	for rows.Next() {
		var isbn string
		var w int64
		if err := rows.Scan(&isbn, &w); err != nil {
			return nil, fmt.Errorf("read editions: %w", err)
		}
		out[isbn] = &w
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read editions: %w", err)
	}
	return out, nil
}

// snapshot returns, per existing edition among isbns, a digest of
// everything an import can change: the edition, its illustrators, its work
// with its authors and series, and the work's latest labelset with its hues
// and reading abilities (timestamps excepted).
func snapshot(ctx context.Context, tx catalog.DBTX, isbns []string) (map[string]string, error) {
	rows, err := tx.Query(ctx, `
SELECT e.isbn, md5(json_build_array(
  e.hydrated, e.work_id, e.edition_title, e.edition_subtitle, e.leading_article, e.cover_url, e.date_published, e.info,
  (SELECT array_agg(i.illustrator_id ORDER BY i.illustrator_id) FROM public.illustrator_edition_association i WHERE i.edition_id = e.id),
  w.type, w.title, w.subtitle, w.leading_article, w.info,
  (SELECT array_agg(a.author_id ORDER BY a.author_id) FROM public.author_work_association a WHERE a.work_id = e.work_id),
  (SELECT array_agg(s.series_id || ':' || coalesce(s.order_id::text, '') ORDER BY s.series_id)
     FROM public.series_works_association s WHERE s.work_id = e.work_id),
  l.id, l.min_age, l.max_age, l.checked, l.info, l.recommend_status, l.hue_origin, l.reading_ability_origin,
  l.age_origin, l.recommend_status_origin, l.huey_summary, l.summary_origin, l.labelled_by_user_id, l.labelled_by_sa_id,
  (SELECT array_agg(h.hue_id || ':' || h.ordinal ORDER BY h.hue_id, h.ordinal)
     FROM public.labelset_hue_association h WHERE h.labelset_id = l.id),
  (SELECT array_agg(r.reading_ability_id ORDER BY r.reading_ability_id)
     FROM public.labelset_reading_ability_association r WHERE r.labelset_id = l.id)
)::text)
FROM public.editions e
LEFT JOIN public.works w ON w.id = e.work_id
LEFT JOIN LATERAL (SELECT * FROM public.labelsets x WHERE x.work_id = e.work_id ORDER BY x.id DESC LIMIT 1) l ON true
WHERE e.isbn = ANY($1::text[])`, isbns)
	if err != nil {
		return nil, fmt.Errorf("read the catalogue: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var isbn, digest string
		if err := rows.Scan(&isbn, &digest); err != nil {
			return nil, fmt.Errorf("read the catalogue: %w", err)
		}
		out[isbn] = digest
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the catalogue: %w", err)
	}
	return out, nil
}

// editionIn is the row as the catalogue's edition input, hydrated so the
// whole upsert procedure runs (work, people, series, labels).
func (b book) editionIn() catalog.EditionIn {
	in := catalog.EditionIn{ISBN: b.isbn, OtherISBNs: b.otherISBNs, Hydrated: true, Title: ptr(b.title)}
	for _, p := range b.authors {
		in.Authors = append(in.Authors, p.catalog())
	}
	for _, p := range b.illustrators {
		in.Illustrators = append(in.Illustrators, p.catalog())
	}
	if b.series != "" {
		in.SeriesName = ptr(b.series)
		if b.seriesNumber > 0 {
			in.SeriesNumber = ptr(b.seriesNumber)
		}
	}
	if b.coverURL != "" {
		in.CoverURL = ptr(b.coverURL)
	}
	if b.published > 0 {
		in.DatePublished = ptr(b.published)
	}
	info := map[string]any{}
	if b.summaryShort != "" {
		info["summary_short"] = b.summaryShort
	}
	if b.summaryLong != "" {
		info["summary_long"] = b.summaryLong
	}
	if len(info) > 0 {
		in.Info = info
	}
	ls := b.labelSet()
	in.LabelSet = &ls
	return in
}

// labelSet is the row's labels as a patch with origin HUMAN. A group the
// row says nothing about is left out, so it cannot clear what is stored.
func (b book) labelSet() catalog.LabelSetPatch {
	human := catalog.OriginHuman
	p := catalog.LabelSetPatch{Checked: ptr(b.checked)}
	slots := []**string{&p.HuePrimaryKey, &p.HueSecondaryKey, &p.HueTertiaryKey}
	for i, k := range b.hues {
		*slots[i] = ptr(k)
	}
	if len(b.hues) > 0 {
		p.HueOrigin = ptr(human)
	}
	if len(b.readingAbilities) > 0 {
		p.ReadingAbilityKeys = b.readingAbilities
		p.ReadingAbilityOrigin = ptr(human)
	}
	if b.hasAge {
		p.MinAge, p.MaxAge, p.AgeOrigin = ptr(b.minAge), ptr(b.maxAge), ptr(human)
	}
	if b.summary != "" {
		p.HueySummary, p.SummaryOrigin = ptr(b.summary), ptr(human)
	}
	if b.controversial {
		p.RecommendStatus, p.RecommendStatusOrigin = ptr(catalog.RecommendBadControversial), ptr(human)
	}
	if len(b.genres) > 0 {
		gs := make([]any, len(b.genres))
		for i, g := range b.genres {
			gs[i] = map[string]any{"name": g, "source": "HUMAN"}
		}
		p.Info = map[string]any{"genres": gs}
	}
	return p
}

func (p person) catalog() catalog.Person {
	out := catalog.Person{LastName: p.Last}
	if p.First != "" {
		out.FirstName = ptr(p.First)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// Write prints the summary for a person at a terminal.
func (s Summary) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "rows read:  %d\n", s.RowsRead)
	fmt.Fprintf(&b, "created:    %d\n", s.Created)
	fmt.Fprintf(&b, "updated:    %d\n", s.Updated)
	fmt.Fprintf(&b, "unchanged:  %d\n", s.Unchanged)
	fmt.Fprintf(&b, "skipped:    %d\n", s.Skipped)
	writeCounts(&b, s.SkipReasons)
	if s.OtherEditions > 0 {
		fmt.Fprintf(&b, "other editions created (additional ISBNs of a row): %d\n", s.OtherEditions)
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintf(&b, "ignored in imported rows:\n")
		writeCounts(&b, s.Warnings)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCounts(b *strings.Builder, counts map[string]int) {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		fmt.Fprintf(b, "  %5d  %s\n", counts[k], k)
	}
}
