-- name: SchoolAttrs :one
-- The policy attributes of a school; no row when it does not exist.
SELECT a.id::integer AS id FROM huey.school_attrs(@wriveted_identifier::uuid) AS a;

-- name: GetSchoolDetail :one
SELECT s.id, s.wriveted_identifier, s.name, s.official_identifier, s.country_code, s.state::text AS state,
       s.info, s.lms_type, s.bookbot_type::text AS bookbot_type, s.created_at, s.updated_at, s.student_domain,
       s.teacher_domain, c.id AS country_id, c.name AS country_name
FROM schools s LEFT JOIN countries c ON c.id = s.country_code
WHERE s.wriveted_identifier = @wriveted_identifier;

-- name: ListSchoolAdmins :many
-- The administrators of a school; row security shows them only to admins, the
-- own school admins of the school and its linked accounts.
SELECT u.id, u.name, u.email, u.type::text AS type, u.is_active, u.last_login_at
FROM school_admins a JOIN educators e ON e.id = a.id JOIN users u ON u.id = a.id
WHERE e.school_id = (SELECT id FROM schools WHERE wriveted_identifier = @wriveted_identifier)
ORDER BY u.name, u.id;

-- name: CountSchoolAdmins :one
SELECT count(*) FROM school_admins a JOIN educators e ON e.id = a.id
WHERE e.school_id = (SELECT id FROM schools WHERE wriveted_identifier = @wriveted_identifier);

-- name: ListSchoolBooklists :many
SELECT b.id, b.name FROM book_lists b JOIN schools s ON s.id = b.school_id
WHERE s.wriveted_identifier = @wriveted_identifier ORDER BY b.name, b.id;

-- name: GetSchoolSubscription :one
SELECT x.id, x.type::text AS type, x.provider::text AS provider, x.is_active, x.expiration,
       p.id AS product_id, p.name AS product_name,
       x.stripe_customer_id, x.created_at, x.updated_at, x.info
FROM subscriptions x JOIN products p ON p.id = x.product_id
WHERE x.school_id = @wriveted_identifier ORDER BY x.created_at DESC LIMIT 1;

-- name: GetSchoolCollection :one
SELECT c.id, c.name, c.item_count, c.school_id, c.user_id, c.updated_at
FROM collections c WHERE c.school_id = @wriveted_identifier ORDER BY c.created_at, c.id LIMIT 1;

-- name: GetSchoolBot :one
SELECT s.name, s.bookbot_type::text AS bookbot_type, (s.info -> 'experiments')::jsonb AS experiments,
       huey.school_supporter(s.wriveted_identifier)::boolean AS supporter
FROM schools s WHERE s.wriveted_identifier = @wriveted_identifier;

-- name: ListSchools :many
-- The base of GET /schools: a Filter adds WHERE, ORDER BY and the page.
-- sqlc types the columns of the outer-joined subqueries as NOT NULL, so rows
-- scan into the hand-written SchoolListRow (school.go), not ListSchoolsRow.
SELECT s.id, s.wriveted_identifier, s.name, s.official_identifier, s.country_code, s.state::text AS state, s.info,
       sub.id AS sub_id, sub.type AS sub_type, sub.provider AS sub_provider, sub.is_active AS sub_is_active,
       sub.expiration AS sub_expiration, sub.product_id, sub.product_name,
       col.id AS col_id, col.name AS col_name, col.book_count AS col_book_count, col.school_id AS col_school_id,
       col.user_id AS col_user_id, col.updated_at AS col_updated_at,
       adm.ids AS admin_ids, adm.names AS admin_names, adm.emails AS admin_emails, adm.types AS admin_types,
       adm.actives AS admin_actives, adm.logins AS admin_logins
FROM schools s
LEFT JOIN LATERAL (
  SELECT x.id, x.type::text AS type, x.provider::text AS provider, x.is_active, x.expiration,
         p.id AS product_id, p.name AS product_name
  FROM subscriptions x JOIN products p ON p.id = x.product_id
  WHERE x.school_id = s.wriveted_identifier ORDER BY x.created_at DESC LIMIT 1) sub ON true
LEFT JOIN LATERAL (
  SELECT c.id, c.name, c.item_count AS book_count,
         c.school_id, c.user_id, c.updated_at
  FROM collections c WHERE c.school_id = s.wriveted_identifier ORDER BY c.created_at, c.id LIMIT 1) col ON true
LEFT JOIN LATERAL (
  SELECT array_agg(u.id ORDER BY u.name, u.id) AS ids, array_agg(u.name::text ORDER BY u.name, u.id) AS names,
         array_agg(u.email::text ORDER BY u.name, u.id) AS emails, array_agg(u.type::text ORDER BY u.name, u.id) AS types,
         array_agg(u.is_active ORDER BY u.name, u.id) AS actives, array_agg(u.last_login_at ORDER BY u.name, u.id) AS logins
  FROM school_admins a JOIN educators e ON e.id = a.id JOIN users u ON u.id = a.id
  WHERE e.school_id = s.id) adm ON true;

-- name: InsertSchools :batchone
-- POST /school sends one, POST /schools many, in one round trip.
INSERT INTO schools (country_code, official_identifier, state, name, student_domain, teacher_domain, info,
                     bookbot_type, lms_type, created_at, updated_at)
VALUES (@country_code, @official_identifier, 'INACTIVE', @name, @student_domain, @teacher_domain, @info,
        sqlc.arg(bookbot_type)::text::schoolbookbottype, @lms_type, huey.utcnow(), huey.utcnow())
RETURNING id, wriveted_identifier;

-- name: LockSchool :one
-- A school about to change, locked, with what its events mention.
SELECT s.name, s.state::text AS state, s.info, coalesce(c.name, '')::text AS country_name,
       (SELECT count(*) FROM service_account_school_association a WHERE a.school_id = s.id) AS linked_accounts
FROM schools s LEFT JOIN countries c ON c.id = s.country_code
WHERE s.id = @id FOR UPDATE OF s;

-- name: UpdateSchool :execrows
-- Null leaves a column as it is; the domains change when their set_ flag is true.
UPDATE schools SET
  name = coalesce(sqlc.narg(name)::text, name),
  state = coalesce(sqlc.narg(state)::text::schoolstate, state),
  bookbot_type = coalesce(sqlc.narg(bookbot_type)::text::schoolbookbottype, bookbot_type),
  lms_type = coalesce(sqlc.narg(lms_type)::text, lms_type),
  student_domain = CASE WHEN @set_student_domain::boolean THEN sqlc.narg(student_domain)::text ELSE student_domain END,
  teacher_domain = CASE WHEN @set_teacher_domain::boolean THEN sqlc.narg(teacher_domain)::text ELSE teacher_domain END,
  info = @info, updated_at = huey.utcnow()
WHERE id = @id;

-- name: BindSchoolAdmin :execrows
UPDATE educators SET school_id = @school_id WHERE id = @educator_id;

-- name: DemoteSchoolMembers :many
-- Students, educators and school admins of a deleted school become inactive
-- public readers (domain.md section 12).
WITH members AS (
  SELECT students.id FROM students WHERE students.school_id = @school_id
  UNION SELECT educators.id FROM educators WHERE educators.school_id = @school_id),
demoted AS (
  UPDATE users u SET type = 'PUBLIC', is_active = false, updated_at = huey.utcnow()
  FROM members m WHERE u.id = m.id RETURNING u.id)
SELECT id FROM demoted;

-- name: EnsureReaders :exec
INSERT INTO readers (id, huey_attributes) SELECT unnest(@ids::uuid[]), '{}' ON CONFLICT (id) DO NOTHING;

-- name: EnsurePublicReaders :exec
INSERT INTO public_readers (id, reader_info) SELECT unnest(@ids::uuid[]), '{}' ON CONFLICT (id) DO NOTHING;

-- name: DeleteSchoolCollections :exec
DELETE FROM collections WHERE school_id = @wriveted_identifier;

-- name: DeleteSchoolStudents :exec
DELETE FROM students WHERE school_id = @id;

-- name: DeleteSchoolEducators :exec
DELETE FROM educators WHERE school_id = @id;

-- name: DeleteSchoolClassGroups :exec
DELETE FROM class_groups WHERE school_id = @wriveted_identifier;

-- name: DeleteSchoolEvents :exec
DELETE FROM events WHERE school_id = @id;

-- name: DeleteSchoolBooklists :exec
DELETE FROM book_lists WHERE school_id = @id;

-- name: DeleteSchool :exec
DELETE FROM schools WHERE id = @id;
