-- name: GetUserDetail :one
-- SpecificUserDetail (api.md §1.2): the account, its type's row and its school
-- (the student's or the educator's). Queued on db.Read's batch, scanned by the
-- handler (the type's fields are rendered from it).
SELECT u.id, u.type::text, u.name, u.email, u.is_active, u.last_login_at, u.info, u.created_at, u.updated_at,
       u.newsletter, r.first_name, r.last_name_initial, r.huey_attributes, r.parent_id, st.username,
       coalesce(st.school_id, ed.school_id), ed.educator_info::jsonb, sa.school_admin_info, pa.parent_info,
       sch.wriveted_identifier, sch.official_identifier, sch.country_code, sch.name
FROM users u
LEFT JOIN readers r ON r.id = u.id
LEFT JOIN students st ON st.id = u.id
LEFT JOIN educators ed ON ed.id = u.id
LEFT JOIN school_admins sa ON sa.id = u.id
LEFT JOIN parents pa ON pa.id = u.id
LEFT JOIN schools sch ON sch.id = coalesce(st.school_id, ed.school_id)
WHERE u.id = $1;

-- name: ListUserBooklists :many
SELECT b.id, b.name, b.type::text, (SELECT count(*) FROM book_list_works w WHERE w.booklist_id = b.id)
FROM book_lists b WHERE b.user_id = $1 ORDER BY b.created_at, b.id LIMIT 5;

-- name: GetUserCollection :one
SELECT c.id, c.name, c.item_count,
       c.school_id, c.user_id, c.updated_at
FROM collections c WHERE c.user_id = $1 ORDER BY c.created_at, c.id LIMIT 1;

-- name: ListUserChildren :many
SELECT u.id, u.type::text, u.name, r.first_name, r.last_name_initial
FROM readers r JOIN users u ON u.id = r.id WHERE r.parent_id = $1 ORDER BY u.name, u.id;

-- name: GetUserParent :one
SELECT p.id, p.type::text, p.name FROM readers r JOIN users p ON p.id = r.parent_id WHERE r.id = $1;

-- name: GetUserSubscription :one
SELECT x.id, x.type::text, x.provider::text, x.is_active, x.expiration, p.id, p.name,
       x.stripe_customer_id, x.created_at, x.updated_at, x.info
FROM subscriptions x JOIN products p ON p.id = x.product_id
WHERE x.parent_id = $1 ORDER BY x.created_at DESC LIMIT 1;
