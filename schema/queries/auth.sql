-- name: FirebaseLogin :one
-- The Firebase exchange (anonymous claims): the account of a verified email,
-- created when asked; outcome and user id. Columns of the RETURNS TABLE
-- function are cast to be typed (sqlc).
SELECT a.outcome::text AS outcome, a.user_id::uuid AS user_id
FROM huey.firebase_login($1, $2, $3, $4, $5, $6) AS a;

-- name: GetAuthServiceAccount :one
-- GET /auth/me of a service account.
SELECT id, name, type::text AS type, is_active FROM service_accounts WHERE id = $1;

-- name: ClassCodeLogin :one
-- Class-code sign-in (anonymous claims): outcome and the student's id.
SELECT a.outcome::text AS outcome, a.user_id::uuid AS user_id FROM huey.class_code_login($1, $2) AS a;

-- name: TouchUserLastLogin :exec
UPDATE users SET last_login_at = huey.utcnow() WHERE id = $1;

-- name: RegisterStudent :one
-- Self-registration with a class code (anonymous claims).
SELECT a.outcome::text AS outcome, a.user_id::uuid AS user_id, a.username::text AS username,
       a.school_id::integer AS school_id, a.school_name::text AS school_name,
       a.official_identifier::text AS official_identifier, a.country_code::text AS country_code
FROM huey.register_student($1, $2, $3, $4) AS a;

-- name: UserAttrs :one
-- The policy attributes of a user account through the huey.user_attrs door;
-- no row when it does not exist.
SELECT a.user_type::text AS user_type, a.school_id::integer AS school_id, a.parent_id::uuid AS parent_id
FROM huey.user_attrs($1) AS a;
