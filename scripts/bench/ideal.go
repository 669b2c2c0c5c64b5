package main

// The "ideal SQL": the cheapest SQL we can write for the same JSON answers,
// run through pgbench with the same claims prelude (so the round trips are
// equal) as the login huey_bench_ideal, which has BYPASSRLS — row security
// costs it nothing. own/ideal is then what RLS and the query shape cost.
//
// For (b) the ideal needs what the target design has and the schema may not
// yet: the edition title beside the item, in an index in the page's order,
// and a maintained item count. The bench keeps both in its own schema
// bench_ideal (built with the fixture, read only by the ideal role), so the
// page is "top 20 through an index, then join" and the total one row.

// idealSetupSQL runs as the superuser after the fixture is loaded.
const idealSetupSQL = `
DROP SCHEMA IF EXISTS bench_ideal CASCADE;
CREATE SCHEMA bench_ideal;
CREATE TABLE bench_ideal.item_titles AS
  SELECT i.collection_id, e.title, i.id AS item_id
  FROM public.collection_items i LEFT JOIN public.editions e ON e.isbn = i.edition_isbn;
CREATE INDEX item_titles_page ON bench_ideal.item_titles (collection_id, title ASC NULLS LAST, item_id);
CREATE TABLE bench_ideal.item_counts AS
  SELECT collection_id, count(*) AS n FROM public.collection_items GROUP BY collection_id;
ALTER TABLE bench_ideal.item_counts ADD PRIMARY KEY (collection_id);
ANALYZE bench_ideal.item_titles, bench_ideal.item_counts;
GRANT USAGE ON SCHEMA bench_ideal TO huey_bench_ideal;
GRANT SELECT ON ALL TABLES IN SCHEMA bench_ideal TO huey_bench_ideal;
GRANT USAGE ON SCHEMA public TO huey_bench_ideal;
GRANT SELECT ON public.editions, public.works, public.authors, public.author_work_association,
  public.illustrators, public.illustrator_edition_association, public.collection_items TO huey_bench_ideal;
`

// idealEditionSQL answers GET /v1/edition/{isbn} ($1): the edition row by its
// unique index, its authors and illustrators.
const idealEditionSQL = `SELECT json_build_object('leading_article', e.leading_article, 'title', e.title,
  'subtitle', e.edition_subtitle, 'cover_url', e.cover_url, 'work_id', e.work_id::text, 'isbn', e.isbn,
  'series_name', NULL, 'series_number', NULL,
  'authors', coalesce((SELECT json_agg(json_build_object('id', a.id::text, 'first_name', a.first_name,
      'last_name', a.last_name) ORDER BY a.id)
    FROM public.author_work_association aw JOIN public.authors a ON a.id = aw.author_id WHERE aw.work_id = e.work_id), '[]'::json),
  'illustrators', coalesce((SELECT json_agg(json_build_object('id', i.id, 'first_name', i.first_name,
      'last_name', i.last_name, 'info', i.info) ORDER BY i.id)
    FROM public.illustrator_edition_association ie JOIN public.illustrators i ON i.id = ie.illustrator_id
    WHERE ie.edition_id = e.id), '[]'::json),
  'date_published', e.date_published, 'info', e.info)
FROM public.editions e WHERE e.isbn = $1`

// idealItemsTotalSQL is the page's total for collection $1: the maintained count.
const idealItemsTotalSQL = `SELECT coalesce((SELECT n FROM bench_ideal.item_counts WHERE collection_id = $1), 0)`

// idealItemsPageSQL is the page (collection $1, offset $2, limit $3): the
// page's item ids through the (collection, title, id) index, then only those
// rows joined and rendered.
const idealItemsPageSQL = `SELECT json_build_object('id', i.id,
  'work', CASE WHEN w.id IS NULL THEN NULL ELSE json_build_object('id', w.id::text, 'type', lower(w.type::text),
    'leading_article', w.leading_article, 'title', w.title, 'subtitle', w.subtitle,
    'authors', coalesce((SELECT json_agg(json_build_object('id', a.id::text, 'first_name', a.first_name,
        'last_name', a.last_name) ORDER BY a.id)
      FROM public.author_work_association aw JOIN public.authors a ON a.id = aw.author_id WHERE aw.work_id = w.id), '[]'::json)) END,
  'edition', CASE WHEN e.id IS NULL THEN NULL ELSE json_build_object('leading_article', e.leading_article,
    'title', e.title, 'subtitle', e.edition_subtitle, 'cover_url', e.cover_url, 'work_id', e.work_id::text,
    'isbn', e.isbn) END,
  'copies_total', i.copies_total, 'copies_available', i.copies_available, 'info', i.info)
FROM (SELECT t.item_id, t.title FROM bench_ideal.item_titles t WHERE t.collection_id = $1
      ORDER BY t.title ASC NULLS LAST, t.item_id OFFSET $2 LIMIT $3) p
JOIN public.collection_items i ON i.id = p.item_id
LEFT JOIN public.editions e ON e.isbn = i.edition_isbn
LEFT JOIN public.works w ON w.id = e.work_id
ORDER BY p.title ASC NULLS LAST, p.item_id`
