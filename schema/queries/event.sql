-- name: GetEventUser :many
-- What POST /events' answer shows of the event's user; no row when row
-- security hides it (the handler scans it itself).
SELECT u.id, u.type::text, u.name FROM users u WHERE u.id = $1;

-- name: GetEventSchoolName :many
-- What POST /events' answer shows of the event's school.
SELECT s.name FROM schools s WHERE s.wriveted_identifier = $1;

-- name: ServiceAccountExists :one
-- Existence only: service accounts are hidden from non-admins, so a definer
-- door answers.
SELECT huey.service_account_exists($1);

-- name: AttrsAnswered :one
-- Queued after a read's attribute queries: its answer tells that they all
-- answered (GET /events).
SELECT true;

-- name: ValidJSONPath :one
-- A jsonpath's syntax error fails here even when no row would be tested.
SELECT $1::text::jsonpath IS NOT NULL;

-- name: ListEventTypes :many
-- The distinct titles of the events row security lets the caller read, of
-- level $1 or more severe (all when NULL).
SELECT DISTINCT e.title::text FROM events e WHERE ($1::eventlevel IS NULL OR e.level >= $1::eventlevel)
		ORDER BY 1 OFFSET $2 LIMIT $3;

-- name: ReadingLogItemAllowed :one
-- Whether collection item $2 is in reader $1's own, parent's or school's
-- collections (R1).
SELECT huey.reading_log_item_allowed($1, $2);

-- name: RecordEvent :one
-- huey.record_event (DECISIONS §6) and the event's timestamp: title,
-- description, level, school, user, service account, info.
SELECT huey.record_event($1, $2, $3::eventlevel, $4, $5, $6, $7), huey.utcnow();
