-- name: ListAuthors :many
-- GET /authors: AuthorBrief JSON of the authors whose name_key matches $1
-- (any when null), by id, paged. Queued on db.Read's batch; the handler
-- sends the JSON as it is.
SELECT json_build_object('id', a.id::text, 'first_name', a.first_name, 'last_name', a.last_name)
FROM public.authors a WHERE ($1::text IS NULL OR a.name_key ILIKE $1) ORDER BY a.id OFFSET $2 LIMIT $3;

-- name: GetAuthor :one
-- GET /authors/{author_id}: book_count is the number of the author's works.
SELECT json_build_object('id', a.id::text, 'first_name', a.first_name, 'last_name', a.last_name, 'info', a.info,
  'book_count', (SELECT count(*) FROM public.author_work_association aw WHERE aw.author_id = a.id))
FROM public.authors a WHERE a.id = $1;


-- name: UpdateWork :exec
-- PATCH /work: leading_article when $2, title when $4 is not NULL, subtitle
-- when $5.
UPDATE public.works SET leading_article = CASE WHEN $2 THEN $3 ELSE leading_article END,
  title = coalesce($4, title), subtitle = CASE WHEN $5 THEN $6 ELSE subtitle END WHERE id = $1;

-- name: WorksOfEditions :many
-- PATCH /labelsets: the work of each edition of ISBNs $1 that has one.
SELECT isbn, work_id FROM public.editions WHERE isbn = ANY($1::text[]) AND work_id IS NOT NULL;
