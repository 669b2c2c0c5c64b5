-- name: BooklistAttrs :many
-- The policy attributes of a booklist; no row when it does not exist. The
-- casts let sqlc type a RETURNS TABLE function's columns, but as NOT NULL:
-- the handler scans user_id and school_id (NULL for many lists) itself.
SELECT a.type::text AS type, a.sharing::text AS sharing, a.user_id::uuid AS user_id, a.school_id::integer AS school_id
FROM huey.booklist_attrs($1) AS a;

-- name: PublicBooklistAttrs :many
-- Whether the list of a slug is public and Huey's; no row when there is none.
SELECT a.is_public::boolean AS is_public, a.is_huey::boolean AS is_huey FROM huey.public_booklist_attrs($1) AS a;

-- name: ListBooklistItemRows :many
-- A list's items, read inside the transaction that changes them.
SELECT work_id, order_id, info::text FROM public.book_list_works WHERE booklist_id = $1;

-- name: DeleteBooklistWorks :exec
DELETE FROM public.book_list_works WHERE booklist_id = $1 AND work_id = ANY ($2::int[]);

-- name: InsertBooklist :exec
INSERT INTO public.book_lists (id, name, type, info, created_at, updated_at, school_id, user_id, slug, sharing)
			VALUES ($1, $2, $3::enum_book_list_type, $4, huey.utcnow(), huey.utcnow(), $5, $6, $7, $8::enum_book_list_sharing);

-- name: LockBooklist :one
-- The stored values a PATCH starts from, the row locked.
SELECT name, type::text, sharing::text, slug, info FROM public.book_lists
			WHERE id = $1 FOR UPDATE;

-- name: UpdateBooklist :execrows
UPDATE public.book_lists SET name = $2, type = $3::enum_book_list_type,
			sharing = $4::enum_book_list_sharing, slug = $5, info = $6, updated_at = huey.utcnow() WHERE id = $1;

-- name: DeleteBooklist :execrows
DELETE FROM public.book_lists WHERE id = $1;
