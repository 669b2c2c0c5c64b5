// Package queries holds the database's statements, one file per resource
// (school.sql, user.sql, user_read.sql, edition.sql, catalogue.sql,
// support.sql, class.sql, service_account.sql, auth.sql, event.sql,
// feedback.sql, booklist.sql, health.sql, collection.sql), and the Go that sqlc v1.31.1 generates from
// them against the migrations (*.sql.go, batch.go, db.go, models.go: never
// edited by hand; `make sqlc` regenerates them, `make sqlc-check` fails when
// stale).
//
// Hand-written beside them: Filter, the one builder for the dynamic tail of
// list queries (WHERE, ORDER BY, page); QueueOne, QueueValue and QueueMany,
// which put a generated SQL constant on a caller's pgx.Batch so a read stays
// one round trip in db.Read; row types sqlc cannot infer (SchoolListRow); and
// EditionUpdate, PATCH /edition's UPDATE of only the columns a patch sets;
// EventList, GET /events' list; the booklist items' set-based writes; and
// the catalogue's, booklists' and collections' JSON reads (catalogue.go,
// booklist.go, collection.go), built from schema/catalog's and
// schema/collection's fragments, which a .sql file cannot include.
//
// Writes use the generated methods: queries.New(tx) with a *db.Tx.
// queries imports nothing from this module but schema/catalog and
// schema/collection (their SQL fragments).
package queries
