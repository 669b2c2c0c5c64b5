package queries

import (
	"fmt"

	"github.com/wriveted/huey-api/schema/catalog"
)

// A list's moved, changed and new items are written set-based from parallel
// arrays: works $2, orders $3, infos $4 (text) of list $1. Not in
// booklist.sql: sqlc v1.31.1 rejects a multi-array unnest ("function
// unnest(unknown, unknown, unknown) does not exist").

// UpdateBooklistWorks stores the moved or changed items.
const UpdateBooklistWorks = `
			UPDATE public.book_list_works bw SET order_id = x.o, info = x.i::json
			FROM unnest($2::int[], $3::int[], $4::text[]) AS x(w, o, i)
			WHERE bw.booklist_id = $1 AND bw.work_id = x.w`

// InsertBooklistWorks adds the new items.
const InsertBooklistWorks = `
			INSERT INTO public.book_list_works (booklist_id, work_id, order_id, info, created_at)
			SELECT $1, x.w, x.o, x.i::json, huey.utcnow() FROM unnest($2::int[], $3::int[], $4::text[]) AS x(w, o, i)`

// Booklist briefs, listings and item pages (api.md §2.12): JSON trees built
// by Postgres from schema/catalog's fragments (SQLTime, SQLAuthorsOfWork,
// SQLEditionDetail) and catalogue.go's (LabelSetBasic, LatestLabelSet),
// which a .sql file cannot include, so sqlc cannot express them; handlers
// queue them on db.Read's batch (or run them in db.InTx) and scan the JSON.

const booklistType = `CASE b.type WHEN 'PERSONAL' THEN 'Personal' WHEN 'SCHOOL' THEN 'School'
  WHEN 'REGION' THEN 'Regional' WHEN 'HUEY' THEN 'Huey' ELSE 'Other' END`

// BooklistBrief is BooklistBrief of list row b, and its book_count.
var BooklistBrief = `json_build_object('id', b.id, 'name', b.name, 'type', ` + booklistType + `,
  'book_count', (SELECT count(*) FROM public.book_list_works bw WHERE bw.booklist_id = b.id),
  'created_at', ` + catalog.SQLTime("b.created_at") + `, 'updated_at', ` + catalog.SQLTime("b.updated_at") + `,
  'user', (SELECT json_build_object('id', u.id, 'type', lower(u.type::text), 'name', u.name)
           FROM public.users u WHERE u.id = b.user_id),
  'school', (SELECT json_build_object('wriveted_identifier', s.wriveted_identifier, 'name', s.name)
             FROM public.schools s WHERE s.id = b.school_id),
  'sharing', lower(b.sharing::text), 'slug', b.slug, 'info', b.info),
  (SELECT count(*) FROM public.book_list_works bw WHERE bw.booklist_id = b.id)`

// BooklistBriefByID is the brief and book_count of list $1.
var BooklistBriefByID = `SELECT ` + BooklistBrief + ` FROM public.book_lists b WHERE b.id = $1`

// BooklistBriefBySlug is the brief and book_count of the list with slug $1.
var BooklistBriefBySlug = `SELECT ` + BooklistBrief + ` FROM public.book_lists b WHERE b.slug = $1`

// PublicBooklistBriefBySlug is BooklistBriefBySlug of a public Huey list.
var PublicBooklistBriefBySlug = BooklistBriefBySlug + ` AND b.type = 'HUEY' AND b.sharing = 'PUBLIC'`

// PublicBooklistIDBySlug names the public Huey list with slug $1 (for BooklistItems).
const PublicBooklistIDBySlug = `(SELECT b.id FROM public.book_lists b
			WHERE b.slug = $1 AND b.type = 'HUEY' AND b.sharing = 'PUBLIC')`

// BooklistItems is a page of BooklistItemDetail (or, enriched,
// BooklistItemEnriched) of the list the SQL expression list names; $2, $3
// are skip and limit. Enriched items carry the edition named by info.edition
// when it exists, else the work's first edition (covers first); items whose
// work has no edition are left out (api.md §2.12).
func BooklistItems(list string, enriched bool) string {
	edition, join := "", ""
	if enriched {
		edition = `, 'edition', ` + catalog.SQLEditionDetail
		join = `
JOIN LATERAL (SELECT x.* FROM public.editions x
              WHERE x.work_id = w.id OR x.isbn = (bw.info ->> 'edition')
              ORDER BY (x.isbn = (bw.info ->> 'edition')) IS TRUE DESC, x.cover_url IS NULL, x.id LIMIT 1) e ON true`
	}
	return `
SELECT json_build_object('order_id', bw.order_id, 'work_id', bw.work_id, 'info', bw.info,
  'work', json_build_object('id', w.id::text, 'type', lower(w.type::text), 'leading_article', w.leading_article,
    'title', w.title, 'subtitle', w.subtitle, 'authors', ` + catalog.SQLAuthorsOfWork("w.id") + `,
    'labelset', ` + LabelSetBasic + `, 'cover_url', NULL)` + edition + `)
FROM public.book_list_works bw
JOIN public.works w ON w.id = bw.work_id ` + LatestLabelSet("w.id") + join + `
WHERE bw.booklist_id = ` + list + `
ORDER BY bw.order_id NULLS LAST, bw.work_id OFFSET $2 LIMIT $3`
}

// BooklistsWhere filters GET /lists by type $1 and sharing $2 (either null).
const BooklistsWhere = `($1::text IS NULL OR b.type::text = $1) AND ($2::text IS NULL OR b.sharing::text = $2)`

// PublicBooklistsWhere is GET /public-lists' filter: public Huey lists.
const PublicBooklistsWhere = `b.type = 'HUEY' AND b.sharing = 'PUBLIC'`

// ListBooklists is a page of briefs of the lists matching where, whose n
// arguments come first; then skip and limit.
func ListBooklists(where string, n int) string {
	return fmt.Sprintf(`SELECT %s FROM public.book_lists b WHERE %s ORDER BY b.created_at DESC, b.id OFFSET $%d LIMIT $%d`,
		BooklistBrief, where, n+1, n+2)
}

// CountBooklists counts the lists matching where.
func CountBooklists(where string) string {
	return `SELECT count(*) FROM public.book_lists b WHERE ` + where
}
