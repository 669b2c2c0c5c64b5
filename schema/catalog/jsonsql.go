package catalog

// JSON fragments of the catalogue's API shapes (api.md §1), built by Postgres
// so a read is one statement. Each takes the SQL expression naming its row.
// The API's handlers and the benchmark (`make bench`) share them, so the
// benchmark runs exactly the SQL the API runs.

// SQLTime renders a timestamp as the original does (api.md §0.5).
func SQLTime(x string) string {
	return `regexp_replace(to_char(` + x + `, 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\.000000$', '')`
}

// SQLAuthorsOfWork is [AuthorBrief] of work w.
func SQLAuthorsOfWork(w string) string {
	return `(SELECT coalesce(json_agg(json_build_object('id', a.id::text, 'first_name', a.first_name,
  'last_name', a.last_name) ORDER BY a.id), '[]'::json)
  FROM public.author_work_association aw JOIN public.authors a ON a.id = aw.author_id WHERE aw.work_id = ` + w + `)`
}

// SQLIllustratorBrief is IllustratorBrief of illustrator row i.
const SQLIllustratorBrief = `json_build_object('id', i.id, 'first_name', i.first_name, 'last_name', i.last_name, 'info', i.info)`

// SQLEditionBrief is EditionBrief of edition row e.
func SQLEditionBrief(e string) string {
	return `json_build_object('leading_article', ` + e + `.leading_article, 'title', ` + e + `.title,
  'subtitle', ` + e + `.edition_subtitle, 'cover_url', ` + e + `.cover_url, 'work_id', ` + e + `.work_id::text, 'isbn', ` + e + `.isbn)`
}

// SQLEditionDetail is EditionDetail of edition row e.
const SQLEditionDetail = `(` + `json_build_object('leading_article', e.leading_article, 'title', e.title,
  'subtitle', e.edition_subtitle, 'cover_url', e.cover_url, 'work_id', e.work_id::text, 'isbn', e.isbn,
  'series_name', NULL, 'series_number', NULL,
  'authors', CASE WHEN e.work_id IS NULL THEN '[]'::json ELSE ` + `(SELECT coalesce(json_agg(json_build_object('id', a.id::text, 'first_name', a.first_name,
  'last_name', a.last_name) ORDER BY a.id), '[]'::json)
  FROM public.author_work_association aw JOIN public.authors a ON a.id = aw.author_id WHERE aw.work_id = e.work_id)` + ` END,
  'illustrators', (SELECT coalesce(json_agg(` + SQLIllustratorBrief + ` ORDER BY i.id), '[]'::json)
    FROM public.illustrator_edition_association ie JOIN public.illustrators i ON i.id = ie.illustrator_id
    WHERE ie.edition_id = e.id),
  'date_published', e.date_published, 'info', e.info))`

// SQLWorkBrief is WorkBrief of work row w.
var SQLWorkBrief = `json_build_object('id', w.id::text, 'type', lower(w.type::text), 'leading_article', w.leading_article,
  'title', w.title, 'subtitle', w.subtitle, 'authors', ` + SQLAuthorsOfWork("w.id") + `)`

// EditionDetailSQL is GET /v1/edition/{isbn}: EditionDetail of the edition
// with ISBN $1 (normalised), no row when there is none.
const EditionDetailSQL = `SELECT ` + SQLEditionDetail + ` FROM public.editions e WHERE e.isbn = $1`
