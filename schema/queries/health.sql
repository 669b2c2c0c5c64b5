-- GET /v1/healthcheck/db (meta.go).

-- name: HealthRandom :one
-- A random integer 1–1000 computed by the database.
SELECT floor(random() * 1000 + 1)::bigint;
