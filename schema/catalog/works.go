package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/db"
)

// CreateWork is POST /work (api.md §2.8): authors given by id must exist
// (ErrUnknownAuthor, naming the missing ids); authors given by name are got
// or created by name key; the work is created with the type (BOOK when
// empty), leading article, title, subtitle and info, and linked to its
// authors; each ISBN of EditionISBNs is normalised (invalid ones skipped),
// got or created as a bare edition and moved to the new work (away from any
// previous work). It returns the new work's id.
//
// No event is recorded: the route records "Work created" ("'<title>' created
// with <n> editions", n counting the input list; info {work_id, title}).
func CreateWork(ctx context.Context, tx DBTX, in WorkIn) (int64, error) {
	if in.Type == "" {
		in.Type = WorkBook
	}
	if !in.Type.valid() {
		return 0, fmt.Errorf("create work: %w: type %q", ErrInvalidInput, in.Type)
	}
	var byID []int64
	var people []Person
	for _, a := range in.Authors {
		if a.New != nil {
			people = append(people, *a.New)
		} else {
			byID = append(byID, a.ID)
		}
	}
	authorIDs := dedupe(byID)
	if len(authorIDs) > 0 {
		rows, err := tx.Query(ctx, `
SELECT coalesce(array_agg(x ORDER BY x), '{}') FROM unnest($1::int[]) AS x
WHERE NOT EXISTS (SELECT FROM public.authors a WHERE a.id = x)`, authorIDs)
		if err != nil {
			return 0, fmt.Errorf("create work: check authors: %w", err)
		}
		missing, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[[]int64])
		if err != nil {
			return 0, fmt.Errorf("create work: check authors: %w", err)
		}
		if len(missing) > 0 {
			return 0, fmt.Errorf("create work: %w: %v", ErrUnknownAuthor, missing)
		}
	}
	named, err := GetOrCreateAuthors(ctx, tx, people)
	if err != nil {
		return 0, fmt.Errorf("create work: %w", err)
	}
	authorIDs = dedupe(append(authorIDs, named...))
	info, err := jsonStr(in.Info)
	if err != nil {
		return 0, fmt.Errorf("create work: encode info: %w", err)
	}

	var workID int64
	if err := tx.QueryRow(ctx, `
INSERT INTO public.works (type, leading_article, title, subtitle, info)
VALUES ($1::public.worktype, $2, $3, $4, $5::jsonb)
RETURNING id`, string(in.Type), in.LeadingArticle, in.Title, in.Subtitle, info).Scan(&workID); err != nil {
		return 0, fmt.Errorf("create work: %w", err)
	}
	b := &pgx.Batch{}
	if len(authorIDs) > 0 {
		b.Queue(`
INSERT INTO public.author_work_association (work_id, author_id)
SELECT $1, a FROM unnest($2::int[]) AS a ON CONFLICT DO NOTHING`, workID, authorIDs)
	}
	if isbns := normalizeISBNs(in.EditionISBNs, ""); len(isbns) > 0 {
		b.Queue(`
INSERT INTO public.editions (isbn, work_id)
SELECT isbn, $2 FROM unnest($1::text[]) AS isbn ORDER BY isbn
ON CONFLICT (isbn) DO UPDATE SET work_id = EXCLUDED.work_id`, isbns, workID)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return 0, fmt.Errorf("create work %d: %w", workID, err)
		}
	}
	return workID, nil
}

// DeleteWork deletes work id, the safe way: its editions are detached
// (work_id set to NULL), never deleted, so no collection loses a book and no
// reader's history is cut. Its author and series links are deleted, its
// labelsets detached (work_id NULL, as the original does), and its booklist
// entries go by the database's cascade. The original deleted every edition
// of the work, and with them (by cascade) those books' items in every
// school's collection (domain.md §12): one mistaken delete would strip
// collections silently.
//
// It returns db.ErrNotFound (wrapped) when no work was deleted: it does not
// exist, or the caller may not delete works (only admins may, F8); then
// nothing was changed. The route reads the work first (it answers with the
// state before deletion) and records "Work deleted".
func DeleteWork(ctx context.Context, tx DBTX, id int64) error {
	// One statement: every part sees the work only if the caller may delete
	// it, and the foreign keys are checked once, at its end.
	var n int
	err := tx.QueryRow(ctx, `
WITH w AS (
  DELETE FROM public.works WHERE id = $1 RETURNING id
), editions AS (
  UPDATE public.editions SET work_id = NULL WHERE work_id IN (SELECT id FROM w) RETURNING 1
), authors AS (
  DELETE FROM public.author_work_association WHERE work_id IN (SELECT id FROM w) RETURNING 1
), series AS (
  DELETE FROM public.series_works_association WHERE work_id IN (SELECT id FROM w) RETURNING 1
), labelsets AS (
  UPDATE public.labelsets SET work_id = NULL WHERE work_id IN (SELECT id FROM w) RETURNING 1
)
SELECT count(*) FROM w`, id).Scan(&n)
	if err != nil {
		return fmt.Errorf("delete work %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete work %d: %w", id, db.ErrNotFound)
	}
	return nil
}

// RefreshSearchView refreshes the search_view_v1 materialized view through
// huey.refresh_search_view() (the owner's SECURITY DEFINER door). Only an
// admin request (role:admin) or a staff script (claims kind "staff") may;
// anyone else gets the Postgres error 42501. The view is rebuilt in the
// caller's transaction and visible to others once it commits.
func RefreshSearchView(ctx context.Context, tx DBTX) error {
	if _, err := tx.Exec(ctx, `SELECT huey.refresh_search_view()`); err != nil {
		return fmt.Errorf("refresh search view: %w", err)
	}
	return nil
}
