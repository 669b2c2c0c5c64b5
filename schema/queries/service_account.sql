-- name: ListServiceAccounts :many
-- GET /service-accounts: $1 includes inactive accounts.
SELECT id, name, type::text AS type, is_active FROM service_accounts
WHERE $1 OR is_active
ORDER BY name, id OFFSET $2 LIMIT $3;

-- name: GetServiceAccountDetail :one
SELECT id, name, type::text AS type, is_active, info, created_at, updated_at FROM service_accounts WHERE id = $1;

-- name: ListServiceAccountSchools :many
SELECT s.wriveted_identifier, s.name, s.official_identifier, s.country_code
FROM service_account_school_association a JOIN schools s ON s.id = a.school_id
WHERE a.service_account_id = $1 ORDER BY s.name, s.id;

-- name: ListServiceAccountEvents :many
-- The latest 10 events of the account (api.md §1.8); description = info.description.
SELECT e.title, coalesce(e.info ->> 'description', '')::text AS description, e.level::text AS level, e."timestamp", e.info
FROM events e WHERE e.service_account_id = $1
ORDER BY e."timestamp" DESC, e.id DESC LIMIT 10;

-- name: ServiceAccountSchoolsFound :many
-- Which of the given schools exist.
SELECT wriveted_identifier FROM schools WHERE wriveted_identifier = ANY($1::uuid[]);

-- name: LinkServiceAccountSchools :exec
-- Links an existing account to the given existing schools.
INSERT INTO service_account_school_association (service_account_id, school_id)
SELECT sa.id, s.id FROM service_accounts sa JOIN schools s ON s.wriveted_identifier = ANY($2::uuid[])
WHERE sa.id = $1
ON CONFLICT DO NOTHING;

-- name: RecordServiceAccountEvent :exec
-- An event through huey.record_event (DECISIONS §6), queued in the same batch
-- as the change: title, description, user, service account.
SELECT huey.record_event($1, $2, 'NORMAL'::eventlevel, NULL, $3, $4, '{}'::jsonb);

-- name: InsertServiceAccount :one
INSERT INTO service_accounts (id, name, is_active, type, info, created_at, updated_at)
VALUES ($1, $2, true, $3::serviceaccounttype, $4, huey.utcnow(), huey.utcnow())
RETURNING id, name, type::text AS type, is_active;

-- name: UpdateServiceAccount :many
-- PUT: name when $2 is not NULL, info when $3; locks the account.
UPDATE service_accounts SET name = coalesce($2, name),
  info = CASE WHEN $3::boolean THEN $4::jsonb ELSE info END, updated_at = huey.utcnow()
WHERE id = $1 RETURNING id;

-- name: UnlinkServiceAccountSchools :exec
DELETE FROM service_account_school_association WHERE service_account_id = $1;

-- name: DeactivateServiceAccount :many
UPDATE service_accounts SET is_active = false, updated_at = huey.utcnow()
WHERE id = $1 RETURNING id, name, type::text AS type, is_active;

-- name: RecordServiceAccountDeleted :exec
-- The one event that names both accounts (domain.md §10.1): the deleting
-- admin ($2 its name, $3 its user id) and the deleted account $1.
SELECT huey.record_event('Service account deleted',
  'Service account ' || sa.name || ' deleted by ' || $2::text, 'NORMAL'::eventlevel, NULL, $3::uuid, sa.id, '{}'::jsonb)
FROM service_accounts sa WHERE sa.id = $1;
