package catalog

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"
)

// UpsertEdition is POST /edition, "create or hydrate" (api.md §2.9 steps 1–7):
//
//  1. the ISBN is normalised (ErrInvalidISBN); other ISBNs are normalised,
//     invalid ones and the edition's own dropped;
//  2. an existing hydrated edition is refused with ErrAlreadyHydrated (the
//     result then carries the normalised ISBN) and nothing is written;
//  3. the work is the first work found on the editions of the other ISBNs,
//     then on the edition's own;
//  4. authors and illustrators are got or created by name key;
//  5. with a non-empty title and no work found: the BOOK work with that exact
//     title and any of the authors, else a new one (type BOOK, the title, no
//     info) linked to the authors and, when a series name is given, to the
//     series got or created by title key at position series_number; a
//     non-empty labelset patch is applied to that work (ApplyLabelSetPatch);
//     every other ISBN is got or created as a bare edition and moved to it;
//  6. an existing unhydrated edition is hydrated: leading_article,
//     date_published, cover_url and info are set from the input (kept when the
//     input omits them), its illustrators replaced by the input's (kept when
//     it names none), work_id set to the work found or created (or NULL) and
//     hydrated_at to now; title and subtitle are not copied (as the spec says).
//     Otherwise a new edition is inserted with edition_title = title,
//     edition_subtitle = subtitle, the other fields, info {} when absent, the
//     work, the illustrators, and hydrated_at = now only when in.Hydrated;
//  7. no event is recorded (the spec records none for POST /edition).
//
// A write the caller may not make fails with the Postgres error (42501).
func UpsertEdition(ctx context.Context, tx DBTX, in EditionIn) (EditionResult, error) {
	isbn, err := NormalizeISBN(in.ISBN)
	if err != nil {
		return EditionResult{}, fmt.Errorf("upsert edition %q: %w", in.ISBN, err)
	}
	it := &upsertItem{in: &in, isbn: isbn, others: normalizeISBNs(in.OtherISBNs, isbn)}
	out, err := upsertEditions(ctx, tx, []*upsertItem{it}, true, "")
	if err != nil {
		if errors.Is(err, ErrAlreadyHydrated) {
			return EditionResult{ISBN: isbn}, fmt.Errorf("upsert edition %s: %w", isbn, err)
		}
		return EditionResult{}, fmt.Errorf("upsert edition %s: %w", isbn, err)
	}
	st := out.states[isbn]
	if st.id == 0 {
		return EditionResult{}, fmt.Errorf("upsert edition %s: it was created concurrently; retry", isbn)
	}
	res := EditionResult{ID: st.id, ISBN: isbn, Created: st.isNew}
	if w := out.workID(st.workID); w != 0 {
		res.WorkID = &w
	}
	return res, nil
}

// BulkUpsertEditions is POST /editions (api.md §2.9):
//
//  1. every ISBN is normalised; items with an invalid one are dropped;
//  2. items with Hydrated true go through the UpsertEdition procedure, the
//     first occurrence of each ISBN winning, in input order (an earlier item's
//     work, other ISBNs and edition are visible to later ones); editions that
//     are already hydrated are skipped silently;
//  3. items with Hydrated false insert a bare edition (ISBN only) unless one
//     exists; their other fields are discarded;
//  4. Processed is the number of distinct valid ISBNs; Created the number of
//     those whose edition this call inserted (the original reported the input
//     count: the fixed defect).
//
// The work is done set-based: a fixed number of statements (about a dozen,
// each over arrays of the whole input) however many items there are, never a
// round trip per item. Statements that join the input arrays to the tables
// are planned for their actual arrays (plan_cache_mode force_custom_plan for
// the call, restored after): a generic plan, which the API login forces,
// cannot hash a 10 000-element `= ANY($1)` nor see how large the tables have
// grown since it was made. The inserts that fire the edition title triggers
// run in the caller's mode, so the triggers' statements are not re-planned
// per row. No event is recorded: the route records "Bulk editions added" with the
// message built from the result.
func BulkUpsertEditions(ctx context.Context, tx DBTX, items []EditionIn) (res BulkResult, err error) {
	var prev string
	if err := tx.QueryRow(ctx, `SELECT current_setting('plan_cache_mode'), set_config('plan_cache_mode', 'force_custom_plan', true)`).
		Scan(&prev, new(string)); err != nil {
		return BulkResult{}, fmt.Errorf("bulk upsert editions: %w", err)
	}
	defer func() {
		if err == nil {
			if _, rerr := tx.Exec(ctx, `SELECT set_config('plan_cache_mode', $1, true)`, prev); rerr != nil {
				res, err = BulkResult{}, fmt.Errorf("bulk upsert editions: restore plan_cache_mode: %w", rerr)
			}
		}
	}()

	valid := map[string]bool{}
	var hydrated []*upsertItem
	var bare []string
	hydratedSeen, bareSeen := map[string]bool{}, map[string]bool{}
	for i := range items {
		in := &items[i]
		isbn, err := NormalizeISBN(in.ISBN)
		if err != nil {
			continue // dropped, as the original does (it logs them)
		}
		valid[isbn] = true
		if in.Hydrated {
			if !hydratedSeen[isbn] {
				hydratedSeen[isbn] = true
				hydrated = append(hydrated, &upsertItem{in: in, isbn: isbn, others: normalizeISBNs(in.OtherISBNs, isbn)})
			}
		} else if !bareSeen[isbn] {
			bareSeen[isbn] = true
			bare = append(bare, isbn)
		}
	}
	res.Processed = len(valid)

	out, err := upsertEditions(ctx, tx, hydrated, false, prev)
	if err != nil {
		return BulkResult{}, fmt.Errorf("bulk upsert editions: %w", err)
	}
	res.Hydrated, res.Skipped = out.hydratedExisting, out.skipped

	if len(bare) > 0 {
		slices.Sort(bare) // rows are written in ISBN order, so concurrent loads lock them in one order
		rows, err := tx.Query(ctx, `
INSERT INTO public.editions (isbn) SELECT unnest($1::text[])
ON CONFLICT (isbn) DO NOTHING
RETURNING isbn`, bare)
		if err != nil {
			return BulkResult{}, fmt.Errorf("bulk upsert editions: insert bare editions: %w", err)
		}
		isbns, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return BulkResult{}, fmt.Errorf("bulk upsert editions: insert bare editions: %w", err)
		}
		for _, isbn := range isbns {
			out.inserted[isbn] = true
		}
	}
	// Created: input ISBNs whose rows this call inserted, however (an item's
	// own, another item's other ISBN, or a bare item).
	for isbn := range valid {
		if out.inserted[isbn] {
			res.Created++
		}
	}
	return res, nil
}

// upsertItem is one edition to upsert, with its normalised ISBNs and, once
// resolved, the ids of its people and series.
type upsertItem struct {
	in             *EditionIn
	isbn           string
	others         []string
	authorIDs      []int64
	illustratorIDs []int64
	seriesID       int64
}

// editionState is what the procedure knows and plans for one ISBN: the row
// as read, then as it must be after the call.
type editionState struct {
	id       int64 // editions.id; 0 until inserted
	inDB     bool  // existed before the call
	hydrated bool
	workID   int64 // > 0 an existing work; < 0 the new work -workID-1; 0 none
	isNew    bool  // to insert
	dirty    bool  // existing row to update (work_id, and the fields when hydrate)
	hydrate  bool  // the hydrate fields below apply
	f        editionFields
	// illustrators replace the edition's when setIllustrators.
	illustrators    []int64
	setIllustrators bool
}

// editionFields are the values of an inserted or hydrated edition.
type editionFields struct {
	editionTitle, editionSubtitle, leadingArticle, coverURL, info *string
	datePublished                                                 *int
	hydratedAt                                                    bool
}

// newWork is a work the procedure creates.
type newWork struct {
	title        string
	authorIDs    []int64
	seriesID     int64
	seriesNumber *int
}

// upsertOutcome is what upsertEditions did.
type upsertOutcome struct {
	states           map[string]*editionState
	workIDs          []int64         // ids of the new works
	inserted         map[string]bool // ISBNs whose rows were inserted
	hydratedExisting int
	skipped          int
	modes            planModes
}

func (o *upsertOutcome) workID(ref int64) int64 {
	if ref < 0 {
		return o.workIDs[-ref-1]
	}
	return ref
}

// upsertEditions runs the single-upsert procedure for items in order. The
// database is read and written set-based; the procedure's sequential
// semantics (an item sees what earlier items did) are worked out in memory
// between the reads and the writes. strict refuses an existing hydrated
// edition with ErrAlreadyHydrated instead of skipping it. callerPlans, when
// set, is the caller's plan_cache_mode, the transaction being in
// force_custom_plan: the trigger-firing inserts then run in the caller's mode.
func upsertEditions(ctx context.Context, tx DBTX, items []*upsertItem, strict bool, callerPlans string) (*upsertOutcome, error) {
	out := &upsertOutcome{states: map[string]*editionState{}, inserted: map[string]bool{}, modes: planModes{caller: callerPlans}}
	if len(items) == 0 {
		return out, nil
	}

	// Read the editions of every ISBN involved.
	var all []string
	seen := map[string]bool{}
	for _, it := range items {
		for _, isbn := range append([]string{it.isbn}, it.others...) {
			if !seen[isbn] {
				seen[isbn] = true
				all = append(all, isbn)
			}
		}
	}
	if err := readEditions(ctx, tx, all, out.states); err != nil {
		return nil, err
	}
	var live []*upsertItem // items not skipped
	for _, it := range items {
		if err := it.in.validate(); err != nil {
			return nil, fmt.Errorf("edition %s: %w", it.isbn, err)
		}
		if st := out.states[it.isbn]; st != nil && st.hydrated {
			if strict {
				return nil, ErrAlreadyHydrated
			}
			out.skipped++
			continue
		}
		live = append(live, it)
	}
	if len(live) == 0 {
		return out, nil
	}

	if err := resolvePeopleAndSeries(ctx, tx, live); err != nil {
		return nil, err
	}
	found, err := findWorks(ctx, tx, live)
	if err != nil {
		return nil, err
	}

	// The procedure, item by item, in memory.
	var works []newWork
	var patches []workPatch // workID: a work reference, resolved after the works exist
	for _, it := range live {
		in := it.in
		st := out.states[it.isbn]
		work := int64(0)
		for _, isbn := range append(append([]string(nil), it.others...), it.isbn) {
			if s := out.states[isbn]; s != nil && s.workID != 0 {
				work = s.workID
				break
			}
		}
		if in.Title != nil && *in.Title != "" && work == 0 {
			title := *in.Title
			for _, a := range it.authorIDs {
				if w, ok := found[titleAuthor{title, a}]; ok {
					work = w
					break
				}
			}
			if work == 0 {
				works = append(works, newWork{title: title, authorIDs: it.authorIDs, seriesID: it.seriesID, seriesNumber: in.SeriesNumber})
				work = -int64(len(works))
				for _, a := range it.authorIDs {
					found[titleAuthor{title, a}] = work
				}
			}
			if in.LabelSet != nil && !in.LabelSet.Empty() {
				patches = append(patches, workPatch{workID: work, patch: in.LabelSet})
			}
			for _, isbn := range it.others {
				s := out.states[isbn]
				if s == nil {
					s = &editionState{isNew: true}
					out.states[isbn] = s
				} else if !s.isNew {
					s.dirty = true
				}
				s.workID = work
			}
		}
		info, err := jsonStr(in.Info)
		if err != nil {
			return nil, fmt.Errorf("encode info of %s: %w", it.isbn, err)
		}
		if st != nil { // exists unhydrated (before the call, or as another item's bare edition)
			st.workID = work
			st.hydrate, st.hydrated = true, true
			if !st.isNew {
				st.dirty = true
			}
			st.f.leadingArticle = firstNonNil(in.LeadingArticle, st.f.leadingArticle)
			st.f.coverURL = firstNonNil(in.CoverURL, st.f.coverURL)
			st.f.info = firstNonNil(info, st.f.info)
			if in.DatePublished != nil {
				st.f.datePublished = in.DatePublished
			}
			st.f.hydratedAt = true
			if len(it.illustratorIDs) > 0 {
				st.illustrators, st.setIllustrators = it.illustratorIDs, true
			}
			continue
		}
		if info == nil {
			empty := "{}"
			info = &empty
		}
		st = &editionState{isNew: true, hydrated: in.Hydrated, workID: work, hydrate: true,
			f: editionFields{editionTitle: in.Title, editionSubtitle: in.Subtitle, leadingArticle: in.LeadingArticle,
				coverURL: in.CoverURL, info: info, datePublished: in.DatePublished, hydratedAt: in.Hydrated},
			illustrators: it.illustratorIDs, setIllustrators: len(it.illustratorIDs) > 0}
		out.states[it.isbn] = st
	}

	if err := writeEditions(ctx, tx, out, works); err != nil {
		return nil, err
	}
	for i := range patches {
		patches[i].workID = out.workID(patches[i].workID)
	}
	if _, err := applyLabelSetPatches(ctx, tx, patches, out.modes); err != nil {
		return nil, err
	}
	return out, nil
}

// validate checks what the database would refuse with a less helpful error.
func (in *EditionIn) validate() error {
	for name, v := range map[string]*int{"date_published": in.DatePublished, "series_number": in.SeriesNumber} {
		if v != nil && (*v < math.MinInt32 || *v > math.MaxInt32) {
			return fmt.Errorf("%w: %s %d out of range", ErrInvalidInput, name, *v)
		}
	}
	if p := in.LabelSet; p != nil && !p.Empty() {
		if err := p.validate(); err != nil {
			return fmt.Errorf("labelset: %w", err)
		}
	}
	return nil
}

func firstNonNil[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// readEditions loads the editions of isbns into states.
func readEditions(ctx context.Context, tx DBTX, isbns []string, states map[string]*editionState) error {
	rows, err := tx.Query(ctx, `SELECT isbn, id, hydrated, work_id FROM public.editions WHERE isbn = ANY($1::text[])`, isbns)
	if err != nil {
		return fmt.Errorf("read editions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var isbn string
		var workID *int64
		st := &editionState{inDB: true}
		if err := rows.Scan(&isbn, &st.id, &st.hydrated, &workID); err != nil {
			return fmt.Errorf("read editions: %w", err)
		}
		if workID != nil {
			st.workID = *workID
		}
		states[isbn] = st
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read editions: %w", err)
	}
	return nil
}

// resolvePeopleAndSeries gets or creates every author, illustrator and
// series the items name, one statement each, and records their ids on the
// items (deduplicated, in input order). Series are got or created for items
// with a title, the only ones that may create a work.
func resolvePeopleAndSeries(ctx context.Context, tx DBTX, items []*upsertItem) error {
	var authors, illustrators []Person
	var titles []string
	for _, it := range items {
		authors = append(authors, it.in.Authors...)
		illustrators = append(illustrators, it.in.Illustrators...)
		if it.in.Title != nil && *it.in.Title != "" && it.in.SeriesName != nil && *it.in.SeriesName != "" {
			titles = append(titles, *it.in.SeriesName)
		}
	}
	authorIDs, err := GetOrCreateAuthors(ctx, tx, authors)
	if err != nil {
		return err
	}
	illustratorIDs, err := GetOrCreateIllustrators(ctx, tx, illustrators)
	if err != nil {
		return err
	}
	seriesIDs, err := GetOrCreateSeries(ctx, tx, titles)
	if err != nil {
		return err
	}
	for _, it := range items {
		it.authorIDs, authorIDs = dedupe(authorIDs[:len(it.in.Authors)]), authorIDs[len(it.in.Authors):]
		it.illustratorIDs, illustratorIDs = dedupe(illustratorIDs[:len(it.in.Illustrators)]), illustratorIDs[len(it.in.Illustrators):]
		if it.in.Title != nil && *it.in.Title != "" && it.in.SeriesName != nil && *it.in.SeriesName != "" {
			it.seriesID, seriesIDs = seriesIDs[0], seriesIDs[1:]
		}
	}
	return nil
}

func dedupe(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	seen := map[int64]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

type titleAuthor struct {
	title    string
	authorID int64
}

// findWorks finds, for every (title, author) pair of the titled items, the
// existing BOOK work with that exact title linked to that author (the lowest
// id when there are several), in one statement.
func findWorks(ctx context.Context, tx DBTX, items []*upsertItem) (map[titleAuthor]int64, error) {
	found := map[titleAuthor]int64{}
	var titles []string
	var authors []int64
	seen := map[titleAuthor]bool{}
	for _, it := range items {
		if it.in.Title == nil || *it.in.Title == "" {
			continue
		}
		for _, a := range it.authorIDs {
			k := titleAuthor{*it.in.Title, a}
			if !seen[k] {
				seen[k] = true
				titles, authors = append(titles, k.title), append(authors, a)
			}
		}
	}
	if len(titles) == 0 {
		return found, nil
	}
	rows, err := tx.Query(ctx, `
SELECT p.title, p.author_id, min(w.id)
FROM unnest($1::text[], $2::int[]) AS p(title, author_id)
JOIN public.works w ON w.title = p.title AND w.type = 'BOOK'
JOIN public.author_work_association a ON a.work_id = w.id AND a.author_id = p.author_id
GROUP BY p.title, p.author_id`, titles, authors)
	if err != nil {
		return nil, fmt.Errorf("find works: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k titleAuthor
		var id int64
		if err := rows.Scan(&k.title, &k.authorID, &id); err != nil {
			return nil, fmt.Errorf("find works: %w", err)
		}
		found[k] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find works: %w", err)
	}
	return found, nil
}

// writeEditions writes what the procedure planned: the new works and their
// author and series links, the new editions, the changed existing ones and
// the illustrator links, in three round trips.
func writeEditions(ctx context.Context, tx DBTX, out *upsertOutcome, works []newWork) error {
	if len(works) > 0 {
		rows, err := tx.Query(ctx, `SELECT nextval('public.works_id_seq') FROM generate_series(1, $1::int)`, len(works))
		if err != nil {
			return fmt.Errorf("allocate work ids: %w", err)
		}
		if out.workIDs, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return fmt.Errorf("allocate work ids: %w", err)
		}
	}

	b := &pgx.Batch{}
	// Every statement of this batch fires the edition title triggers or checks
	// foreign keys per row: the caller's plan mode, so those per-row
	// statements reuse their plans instead of being planned per row.
	out.modes.queue(b, false)
	if len(works) > 0 {
		titles := make([]string, len(works))
		var awWork, awAuthor, swSeries, swWork []int64
		var swOrder []*int32
		for i, w := range works {
			id := out.workIDs[i]
			titles[i] = w.title
			for _, a := range w.authorIDs {
				awWork, awAuthor = append(awWork, id), append(awAuthor, a)
			}
			if w.seriesID != 0 {
				swSeries, swWork = append(swSeries, w.seriesID), append(swWork, id)
				swOrder = append(swOrder, int32Ptr(w.seriesNumber))
			}
		}
		b.Queue(`
INSERT INTO public.works (id, type, title)
SELECT id, 'BOOK', title FROM unnest($1::int[], $2::text[]) AS u(id, title)`, out.workIDs, titles)
		if len(awWork) > 0 {
			b.Queue(`
INSERT INTO public.author_work_association (work_id, author_id)
SELECT * FROM unnest($1::int[], $2::int[]) ON CONFLICT DO NOTHING`, awWork, awAuthor)
		}
		if len(swWork) > 0 {
			b.Queue(`
INSERT INTO public.series_works_association (series_id, work_id, primary_works, order_id)
SELECT s, w, true, o FROM unnest($1::int[], $2::int[], $3::int[]) AS u(s, w, o) ON CONFLICT DO NOTHING`,
				swSeries, swWork, swOrder)
		}
	}

	// Rows are written in ISBN order, so concurrent loads lock them in one order.
	isbns := make([]string, 0, len(out.states))
	for isbn := range out.states {
		isbns = append(isbns, isbn)
	}
	slices.Sort(isbns)
	var ins, upd editionColumns
	for _, isbn := range isbns {
		st := out.states[isbn]
		switch {
		case st.isNew:
			ins.add(isbn, st, out)
		case st.dirty:
			upd.add(isbn, st, out)
		}
	}
	if len(ins.isbn) > 0 {
		b.Queue(`
INSERT INTO public.editions (isbn, work_id, edition_title, edition_subtitle, leading_article, cover_url, info,
                             date_published, hydrated_at)
SELECT u.isbn, u.work_id, u.title, u.subtitle, u.article, u.cover, u.info::jsonb, u.published,
       CASE WHEN u.hydrated THEN huey.utcnow() END
FROM `+editionUnnest+`
ON CONFLICT (isbn) DO NOTHING
RETURNING id, isbn`, ins.args()...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id int64
				var isbn string
				if err := rows.Scan(&id, &isbn); err != nil {
					return err
				}
				out.states[isbn].id = id
				out.inserted[isbn] = true
			}
			return rows.Err()
		})
	}
	if len(upd.isbn) > 0 {
		// An edition hydrated by someone else since it was read is left alone.
		b.Queue(`
UPDATE public.editions e
SET work_id = u.work_id,
    leading_article = CASE WHEN u.hydrated THEN coalesce(u.article, e.leading_article) ELSE e.leading_article END,
    cover_url = CASE WHEN u.hydrated THEN coalesce(u.cover, e.cover_url) ELSE e.cover_url END,
    info = CASE WHEN u.hydrated THEN coalesce(u.info::jsonb, e.info) ELSE e.info END,
    date_published = CASE WHEN u.hydrated THEN coalesce(u.published, e.date_published) ELSE e.date_published END,
    hydrated_at = CASE WHEN u.hydrated THEN huey.utcnow() ELSE e.hydrated_at END
FROM `+editionUnnest+`
WHERE e.isbn = u.isbn AND (NOT u.hydrated OR e.hydrated_at IS NULL)
RETURNING e.isbn, u.hydrated`, upd.args()...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var isbn string
				var hydrated bool
				if err := rows.Scan(&isbn, &hydrated); err != nil {
					return err
				}
				if hydrated {
					out.hydratedExisting++
				}
			}
			return rows.Err()
		})
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("write works and editions: %w", err)
		}
	}

	// Illustrators: replaced on hydrated editions, linked on new ones.
	var clear, linkEdition, linkIllustrator []int64
	for _, isbn := range isbns {
		st := out.states[isbn]
		if !st.setIllustrators || st.id == 0 {
			continue
		}
		if !st.isNew {
			clear = append(clear, st.id)
		}
		for _, il := range st.illustrators {
			linkEdition, linkIllustrator = append(linkEdition, st.id), append(linkIllustrator, il)
		}
	}
	b = &pgx.Batch{}
	if len(clear) > 0 {
		out.modes.queue(b, true) // a large = ANY($1), no triggers
		b.Queue(`DELETE FROM public.illustrator_edition_association WHERE edition_id = ANY($1::int[])`, clear)
		out.modes.queue(b, false)
	}
	if len(linkEdition) > 0 {
		b.Queue(`
INSERT INTO public.illustrator_edition_association (edition_id, illustrator_id)
SELECT * FROM unnest($1::int[], $2::int[]) ON CONFLICT DO NOTHING`, linkEdition, linkIllustrator)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("link illustrators: %w", err)
		}
	}
	return nil
}

const editionUnnest = `unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
       $8::int[], $9::bool[])
  AS u(isbn, work_id, title, subtitle, article, cover, info, published, hydrated)`

// editionColumns are editions as parallel arrays for editionUnnest.
type editionColumns struct {
	isbn                                  []string
	work                                  []*int64
	title, subtitle, article, cover, info []*string
	published                             []*int32
	hydrated                              []bool
}

func (c *editionColumns) add(isbn string, st *editionState, out *upsertOutcome) {
	c.isbn = append(c.isbn, isbn)
	var work *int64
	if w := out.workID(st.workID); w != 0 {
		work = &w
	}
	c.work = append(c.work, work)
	c.title = append(c.title, st.f.editionTitle)
	c.subtitle = append(c.subtitle, st.f.editionSubtitle)
	c.article = append(c.article, st.f.leadingArticle)
	c.cover = append(c.cover, st.f.coverURL)
	c.info = append(c.info, st.f.info)
	c.published = append(c.published, int32Ptr(st.f.datePublished))
	c.hydrated = append(c.hydrated, st.hydrate && st.f.hydratedAt)
}

func (c *editionColumns) args() []any {
	return []any{c.isbn, c.work, c.title, c.subtitle, c.article, c.cover, c.info, c.published, c.hydrated}
}
