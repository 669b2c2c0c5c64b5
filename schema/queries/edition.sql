-- name: LockEditionForPatch :one
-- The edition PATCH /edition changes, locked; its UPDATE is built by
-- EditionUpdate (edition.go), which names only the columns a patch sets.
SELECT id, info FROM public.editions WHERE isbn = @isbn FOR UPDATE;

-- name: WorkExists :one
SELECT EXISTS (SELECT 1 FROM public.works WHERE id = @id);

-- name: IllustratorExists :one
SELECT EXISTS (SELECT 1 FROM public.illustrators WHERE id = @id);

-- name: InsertIllustrator :one
-- No row when an illustrator of that name exists.
INSERT INTO public.illustrators (first_name, last_name, info) VALUES (@first_name, @last_name, sqlc.arg(info)::jsonb)
ON CONFLICT (name_key) DO NOTHING RETURNING id;

-- name: DeleteEditionIllustrators :exec
-- Two statements with InsertEditionIllustrators: in one, the insert would not
-- see the delete.
DELETE FROM public.illustrator_edition_association WHERE edition_id = @edition_id;

-- name: InsertEditionIllustrators :exec
INSERT INTO public.illustrator_edition_association (edition_id, illustrator_id)
SELECT sqlc.arg(edition_id)::integer, x FROM unnest(sqlc.arg(illustrator_ids)::integer[]) AS x ON CONFLICT DO NOTHING;

-- name: GetEditionEventTitle :one
-- The title an edition's events name it by.
SELECT coalesce(e.title, e.isbn)::text AS title FROM public.editions e WHERE e.id = @id;

-- name: SelectEditionsToHydrate :many
-- POST /hydrate without a list: the $1 unhydrated editions most often held
-- in collections, leaving out those the provider did not know in the last
-- 30 days (info.hydration.not_found_at).
SELECT e.isbn
FROM public.editions e
LEFT JOIN (SELECT ci.edition_isbn, count(*) AS n FROM public.collection_items ci
           WHERE ci.edition_isbn IS NOT NULL GROUP BY ci.edition_isbn) c ON c.edition_isbn = e.isbn
WHERE e.hydrated_at IS NULL
  AND coalesce(e.info #>> '{hydration,not_found_at}', '')
      < to_char(huey.utcnow() - interval '30 days', 'YYYY-MM-DD"T"HH24:MI:SS')
ORDER BY coalesce(c.n, 0) DESC, e.id
LIMIT $1;
