package main

// The "ideal SQL": the cheapest SQL we can write for the same JSON answers,
// run through pgbench with the same claims prelude (so the round trips are
// equal) as the login huey_bench_ideal, which has BYPASSRLS — row security
// costs it nothing. own/ideal is then what RLS and the query shape cost.
//
// For (b) the ideal reads the page the way the schema now allows (migration
// 012): the page's item ids in order from ix_collection_items_collection_sort
// (the edition title kept beside the item), the total from
// collections.item_count, then only the page's rows joined and rendered.

// idealSetupSQL runs as the superuser after the fixture is loaded: what the
// ideal login may read.
const idealSetupSQL = `
DROP SCHEMA IF EXISTS bench_ideal CASCADE;
GRANT USAGE ON SCHEMA public TO huey_bench_ideal;
GRANT SELECT ON public.editions, public.works, public.authors, public.author_work_association,
  public.illustrators, public.illustrator_edition_association, public.collection_items,
  public.collections TO huey_bench_ideal;
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
const idealItemsTotalSQL = `SELECT coalesce((SELECT item_count FROM public.collections WHERE id = $1), 0)`

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
FROM (SELECT x.id, x.edition_isbn, x.copies_total, x.copies_available, x.info, x.sort_title
      FROM public.collection_items x WHERE x.collection_id = $1
      ORDER BY x.sort_title, x.id OFFSET $2 LIMIT $3) i
LEFT JOIN public.editions e ON e.isbn = i.edition_isbn
LEFT JOIN public.works w ON w.id = e.work_id
ORDER BY i.sort_title, i.id`
