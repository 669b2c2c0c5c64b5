-- name: EventAttrs :many
-- The policy attributes of an event (policies/event.rego); no row when it
-- does not exist. The casts let sqlc type a RETURNS TABLE function's columns,
-- but then as NOT NULL: the handler scans school_id and user_id (NULL for an
-- event without school or user) itself.
SELECT a.title::text AS title, a.school_id::integer AS school_id, a.user_id::uuid AS user_id,
       a.supported::boolean AS supported
FROM huey.event_attrs($1) AS a;

-- name: ReadingFeedbackContext :many
-- The feedback page's data; the door answers only the event's active
-- supporters. book_title and cover_url may be NULL, which the casts hide from
-- sqlc: the handler scans the row itself.
SELECT c.reader_name::text AS reader_name, c.supporter_nickname::text AS supporter_nickname,
       c.book_title::text AS book_title, c.cover_url::text AS cover_url, coalesce(a.user_type, '')::text AS user_type
FROM huey.reading_feedback_context($1) c LEFT JOIN LATERAL huey.user_attrs(c.reader_id::uuid) a ON true;

-- name: GetEventInfo :many
-- The event under row security.
SELECT e.info, e."timestamp" FROM events e WHERE e.id = $1;

-- name: FeedbackSent :one
-- Whether the supporter ($2) already sent feedback on the event ($1, as
-- text); its own events: row security shows them. The title is the Go
-- constant feedbackSentTitle (server/internal/api/feedback.go).
SELECT EXISTS (SELECT FROM events e WHERE e.user_id = $2 AND e.title = 'Supporter encouragement: Reading feedback sent'
               AND (e.info ->> 'event_id' = $1::text OR e.info ->> 'targeted_event_id' = $1::text));

-- name: LockSupporterFeedback :exec
-- One POST /feedback at a time per (event, supporter).
SELECT pg_advisory_xact_lock(hashtextextended($1, 0));
