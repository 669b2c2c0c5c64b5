// Package catalog writes the Huey Books catalogue: authors, illustrators,
// series, works, editions and their labels (domain.md §6, §7; api.md §2.7–§2.10).
// It is shared by the API (server/internal/api) and the staff scripts (the
// CSV importer), so both apply the same rules.
//
// Every function takes a transaction (DBTX, satisfied by *db.Tx and pgx.Tx)
// and runs under the caller's row security: the package never bypasses RLS
// and holds no credentials. Who may write is decided twice: by the caller's
// policy layer (F8: admins, educators, school admins, LMS and school service
// accounts create and patch; only admins delete works) and by the policies of
// migration 20261127000005_catalogue.sql, which allow the same callers as
// huey_app and the importer as huey_staff_rw. A refused write surfaces as the
// Postgres error (SQLSTATE 42501) wrapped with context.
//
// What it offers:
//
//   - NormalizeISBN: the ISBN-13 form every edition is stored and looked up by.
//   - UpsertEdition: POST /edition, the single "create or hydrate" procedure of
//     api.md §2.9 (steps 1–7). ErrAlreadyHydrated means 409.
//   - BulkUpsertEditions: POST /editions, the same procedure for many items in
//     a fixed number of set-based statements (no per-row round trips), with the
//     original's defect fixed: BulkResult.Created counts rows actually created.
//   - GetOrCreateAuthors, GetOrCreateIllustrators (by name key: "C.S. Lewis" =
//     "C S Lewis") and GetOrCreateSeries (by title key), all set-based.
//   - ApplyLabelSetPatch: the label authority rules of domain.md §7.6 on a
//     work's latest labelset (PATCH /labelsets, PATCH /work, POST /edition).
//   - CreateWork (POST /work) and DeleteWork (DELETE /work, safe behaviour:
//     editions are detached, never deleted, so no collection loses a book).
//   - RefreshSearchView: REFRESH search_view_v1 through huey.refresh_search_view().
//
// The package records no events: the route or script that calls it records
// the event the spec names (e.g. "Work created", "Bulk editions added"), in
// the same transaction. It writes enum columns with their database labels
// (BOOK, HUMAN, GOOD…); mapping API values to labels is the caller's job.
//
// catalog imports schema/db only (for db.ErrNotFound); nothing from server,
// tasks or scripts.
package catalog
