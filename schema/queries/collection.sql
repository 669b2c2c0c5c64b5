-- name: DeleteCollectionItems :exec
-- PUT /collection/{id}: the reset before the new items.
DELETE FROM collection_items WHERE collection_id = $1;

-- name: UpdateCollectionNameInfo :execrows
-- PATCH /collection/{id}: name when given ($2), info when given ($3),
-- deep-merged into the stored info when $4 (merge_dicts).
UPDATE collections SET name = coalesce($2, name),
		info = CASE WHEN $3::jsonb IS NULL THEN info
		            WHEN $4 THEN huey.jsonb_merge_deep(coalesce(info, '{}'::jsonb), $3::jsonb)
		            ELSE $3::jsonb END,
		updated_at = huey.utcnow()
		WHERE id = $1;

-- name: InsertCollectionItemActivity :one
-- POST /collection-item-activity: the reader's activity row.
INSERT INTO collection_item_activity_log (collection_item_id, reader_id, status, "timestamp")
			VALUES ($1, $2, $3::enum_collection_item_read_status, huey.utcnow()) RETURNING id, "timestamp";

-- name: RecordCollectionItemActivityEvent :exec
-- The activity's event, attributed to the reader (api.md §2.11).
SELECT huey.record_event($1, $2, 'NORMAL', NULL, $3, NULL, $4);

-- name: CollectionItemAttrs :one
-- The policy attributes of a collection item through the narrow
-- huey.collection_item_attrs door (the casts are sqlc's: its RETURNS TABLE
-- columns are otherwise untyped; school_id, school_wid and user_id may be
-- NULL, so handlers scan the row themselves); no row when the item does not
-- exist for the caller.
SELECT a.collection_id::uuid AS collection_id, a.school_id::integer AS school_id,
       a.school_wid::uuid AS school_wid, a.user_id::uuid AS user_id
FROM huey.collection_item_attrs($1) AS a;

-- name: CollectionItemInsertedBy :one
-- The id of the item this transaction inserted last into collection $1.
SELECT i.id FROM collection_items i
		WHERE i.collection_id = $1 AND i.xmin = pg_current_xact_id()::xid ORDER BY i.id DESC LIMIT 1;

-- name: InsertCollectionItemReadStatus :exec
-- POST /collection/{id}/item with a read status: the reader's activity row.
INSERT INTO collection_item_activity_log (collection_item_id, reader_id, status, "timestamp")
				VALUES ($1, $2, $3::enum_collection_item_read_status, huey.utcnow());

-- name: CountBooklistWorks :one
-- GET /collection/{id}/compare-with-booklist: the booklist's book_count.
SELECT count(*) FROM public.book_list_works bw WHERE bw.booklist_id = $1;

-- name: GetCollectionBrief :one
-- A CollectionBrief's columns.
SELECT c.id, c.name, c.item_count,
       c.school_id, c.user_id, c.updated_at
FROM collections c WHERE c.id = $1;

-- name: EditionISBNExists :one
SELECT EXISTS (SELECT 1 FROM editions WHERE isbn = $1);

-- name: SchoolCollectionID :one
-- The collection of school $1 (wriveted_identifier), if any.
SELECT huey.owner_collection_id($1, NULL);

-- name: UserCollectionID :one
-- The collection of user $1, if any.
SELECT huey.owner_collection_id(NULL, $1);

-- name: InsertCollection :one
INSERT INTO collections (school_id, user_id, name, info, created_at, updated_at)
		VALUES ($1, $2, $3, $4, huey.utcnow(), huey.utcnow()) RETURNING id;

-- name: DeleteCollection :execrows
DELETE FROM collections WHERE id = $1;
