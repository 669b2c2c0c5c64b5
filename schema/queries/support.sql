-- name: SchoolRowVisible :one
-- POST /v1/explain (decisions.go): whether row security shows the instance
-- to the explained account; the key arrives as text.
SELECT EXISTS (SELECT FROM schools WHERE wriveted_identifier = $1::text::uuid);

-- name: UserRowVisible :one
SELECT EXISTS (SELECT FROM users WHERE id = $1::text::uuid);

-- name: BooklistRowVisible :one
SELECT EXISTS (SELECT FROM book_lists WHERE id = $1::text::uuid);

-- name: CollectionRowVisible :one
SELECT EXISTS (SELECT FROM collections WHERE id = $1::text::uuid);

-- name: CollectionItemRowVisible :one
SELECT EXISTS (SELECT FROM collection_items WHERE id = $1::text::bigint);

-- name: ClassRowVisible :one
SELECT EXISTS (SELECT FROM class_groups WHERE id = $1::text::uuid);

-- name: EventRowVisible :one
SELECT EXISTS (SELECT FROM events WHERE id = $1::text::uuid);

-- name: ExplainEventAttrs :one
-- The event's attributes as the feedback door reads them. sqlc does not see
-- the columns of a RETURNS TABLE function: each is named and cast to its own
-- type (a no-op for Postgres) to be typed.
SELECT a.title::text, a.school_id::integer, a.user_id::uuid, a.supported::boolean
FROM huey.event_attrs($1) a;
