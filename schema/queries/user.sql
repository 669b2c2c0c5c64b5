-- name: LockUserForPatch :one
-- What PATCH /user merges with and keeps across a type change, the users row
-- locked; no row when row security hides the account. The school is the
-- student's or the educator's (sqlc types a coalesce of the two as NOT NULL).
SELECT u.info, r.huey_attributes, st.school_id AS student_school_id, e.school_id AS educator_school_id,
       st.class_group_id, st.username, e.educator_info::jsonb AS educator_info
FROM users u LEFT JOIN readers r ON r.id = u.id LEFT JOIN students st ON st.id = u.id
LEFT JOIN educators e ON e.id = u.id WHERE u.id = @id FOR UPDATE OF u;

-- name: UpdateUserPatch :exec
-- Null leaves a column as it is; the e-mail changes (to null too) when set_email is true.
UPDATE users SET
  name = coalesce(sqlc.narg(name)::text, name),
  email = CASE WHEN @set_email::boolean THEN sqlc.narg(email)::text ELSE email END,
  is_active = coalesce(sqlc.narg(is_active)::boolean, is_active),
  newsletter = coalesce(sqlc.narg(newsletter)::boolean, newsletter),
  info = coalesce(sqlc.narg(info)::jsonb, info),
  type = sqlc.arg(type)::text::enum_user_account_type, updated_at = huey.utcnow()
WHERE id = @id;

-- name: UpdateReaderPatch :exec
UPDATE readers SET first_name = coalesce(sqlc.narg(first_name)::text, first_name),
  last_name_initial = coalesce(sqlc.narg(last_name_initial)::text, last_name_initial),
  huey_attributes = coalesce(sqlc.narg(huey_attributes)::jsonb, huey_attributes)
WHERE id = @id;

-- name: UpdateStudentPatch :exec
UPDATE students SET school_id = @school_id, class_group_id = @class_group_id,
  username = coalesce(sqlc.narg(username)::text, username)
WHERE id = @id;

-- name: UpdateEducatorSchool :exec
UPDATE educators SET school_id = @school_id WHERE id = @id;

-- name: DeleteReaderRow :exec
-- The Delete…Row queries remove an account's row from one type table when a
-- type change leaves it (tablesOf in server/internal/api/user.go).
DELETE FROM readers WHERE id = @id;

-- name: DeletePublicReaderRow :exec
DELETE FROM public_readers WHERE id = @id;

-- name: DeleteStudentRow :exec
DELETE FROM students WHERE id = @id;

-- name: DeleteEducatorRow :exec
DELETE FROM educators WHERE id = @id;

-- name: DeleteSchoolAdminRow :exec
DELETE FROM school_admins WHERE id = @id;

-- name: DeleteWrivetedAdminRow :exec
DELETE FROM wriveted_admins WHERE id = @id;

-- name: DeleteParentRow :exec
DELETE FROM parents WHERE id = @id;

-- name: DeleteSupporterRow :exec
DELETE FROM supporters WHERE id = @id;

-- name: ClassInSchool :one
SELECT EXISTS (SELECT 1 FROM class_groups g JOIN schools s ON s.wriveted_identifier = g.school_id
  WHERE g.id = @class_group_id AND s.id = @school_id);

-- name: InsertReaderRow :exec
-- The Insert…Row queries create an account's row in one type table
-- (insertTypeRows in server/internal/api/user.go); a row that exists stays.
INSERT INTO readers (id, huey_attributes, first_name, last_name_initial, parent_id)
VALUES (@id, @huey_attributes, @first_name, @last_name_initial, @parent_id) ON CONFLICT (id) DO NOTHING;

-- name: InsertPublicReaderRow :exec
INSERT INTO public_readers (id, reader_info) VALUES (@id, '{}') ON CONFLICT (id) DO NOTHING;

-- name: InsertStudentRow :exec
INSERT INTO students (id, school_id, student_info, class_group_id, username)
VALUES (@id, @school_id, '{}', @class_group_id, @username);

-- name: InsertEducatorRow :exec
-- An educator's row moves to the school; a type change keeps its info.
INSERT INTO educators (id, school_id, educator_info) VALUES (@id, @school_id, coalesce(sqlc.narg(educator_info)::json, '{}'::json))
ON CONFLICT (id) DO UPDATE SET school_id = excluded.school_id;

-- name: InsertSchoolAdminRow :exec
INSERT INTO school_admins (id, school_admin_info) VALUES (@id, '{}') ON CONFLICT (id) DO NOTHING;

-- name: InsertWrivetedAdminRow :exec
INSERT INTO wriveted_admins (id, wriveted_admin_info) VALUES (@id, '{}') ON CONFLICT (id) DO NOTHING;

-- name: InsertParentRow :exec
INSERT INTO parents (id, parent_info) VALUES (@id, '{}') ON CONFLICT (id) DO NOTHING;

-- name: InsertSupporterRow :exec
INSERT INTO supporters (id, supporter_info) VALUES (@id, '{}') ON CONFLICT (id) DO NOTHING;

-- name: GenerateStudentUsername :one
-- FirstnameInitial (base) and a two-digit number 10–99 unused in the school,
-- case-insensitively; at most 1000 attempts, no row when all are taken.
SELECT c::text FROM (SELECT sqlc.arg(base)::text || (10 + floor(random() * 90))::int AS c
  FROM generate_series(1, 1000)) x
WHERE NOT EXISTS (SELECT 1 FROM students s WHERE s.school_id = @school_id AND lower(s.username) = lower(x.c))
LIMIT 1;

-- name: SchoolIDByID :one
-- A user's school given as an integer id: the id when the school exists.
SELECT id FROM schools WHERE id = $1;

-- name: SchoolIDByWID :one
-- A user's school given as a wriveted_identifier: its integer id.
SELECT id FROM schools WHERE wriveted_identifier = $1;

-- name: InsertUserRow :exec
-- POST /user: the users row; the type's own row follows.
INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type, newsletter)
		VALUES ($1, true, $2, $3, $4, huey.utcnow(), huey.utcnow(), $5::enum_user_account_type, $6);

-- name: ClaimCheckoutSubscription :exec
-- The new parent claims the subscription its checkout session created.
UPDATE subscriptions SET parent_id = $1, updated_at = huey.utcnow()
				WHERE latest_checkout_session_id = $2 AND parent_id IS NULL;

-- name: LockUserName :one
SELECT name FROM users WHERE id = $1 FOR UPDATE;

-- name: DeactivateUser :exec
UPDATE users SET is_active = false, updated_at = huey.utcnow() WHERE id = $1;

-- name: DeleteUserEvents :exec
DELETE FROM events WHERE user_id = $1;

-- name: DeleteUser :exec
DELETE FROM users WHERE id = $1;
