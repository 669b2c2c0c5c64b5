package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/originaldb"
)

// Issue 13, end to end: a database built as the original service would have
// it (schema/originaldb: owned by a non-superuser login with CREATEROLE, no
// roles or row security, the original's title trigger and hue rows), with a
// school, accounts of four kinds, an LMS account, a collection and books
// written by the original's own login, is taken over by that login with
// -legacy-role. Then, through the real HTTP API: the original's tokens work;
// the LMS PATCH adding an ISBN the catalogue lacks succeeds; a hue08 label
// (the original's key) is stored; an edition put under a work gets that
// work's title; the original's login still reads and writes; and release
// gives everything back, the rows the API wrote included.
func TestTakeover_EndToEnd(t *testing.T) {
	ctx := context.Background()
	d := dbtest.EmptyDB(t)
	o, err := originaldb.Create(ctx, d.SuperuserURL(), d.URL)
	if err != nil {
		t.Fatal(err)
	}
	ownerURL := d.URL(o.Owner, o.Password)
	legacy, err := pgxpool.New(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(legacy.Close)
	tokens, err := auth.NewKeys([]byte(testSecret), "")
	if err != nil {
		t.Fatal(err)
	}
	// the original's data, written by the original's login (env helpers on its pool)
	orig := &env{t: t, super: legacy, tokens: tokens, db: d}
	sch := orig.school("Takeover School", "ACTIVE")
	admin := orig.user("Ada Admin", "WRIVETED", nil)
	educator := orig.user("Eve Educator", "EDUCATOR", &sch)
	student := orig.user("Stu Student", "STUDENT", &sch)
	lms := orig.serviceAccount("School LMS", "LMS", sch)
	coll := orig.collection(&sch, nil, "Library")
	var zebra, apple int64
	if err := legacy.QueryRow(ctx, `INSERT INTO works (type, title) VALUES ('BOOK', 'Zebra Tales') RETURNING id`).Scan(&zebra); err != nil {
		t.Fatal(err)
	}
	if err := legacy.QueryRow(ctx, `INSERT INTO works (type, title) VALUES ('BOOK', 'Apple Orchard') RETURNING id`).Scan(&apple); err != nil {
		t.Fatal(err)
	}

	sqlDB, err := sql.Open("pgx", ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	files, _ := schema.Dir().Files()
	if _, err := schema.Migrate(ctx, sqlDB, schema.Dir(), schema.MigrateOptions{Baseline: files[0].Version(), LegacyRole: o.Owner}); err != nil {
		t.Fatalf("takeover as the original's owner login: %v", err)
	}

	super := d.SuperPool(t)
	v := newEnvOn(t, &env{t: t, super: super, tokens: tokens, db: d}, d.Pool(t, dbtest.RoleAPI))
	userTok := func(id uuid.UUID) string {
		return originalToken("Wriveted:User-Account:"+id.String(), time.Now().Add(time.Hour))
	}
	for who, tok := range map[string]string{"admin": userTok(admin), "educator": userTok(educator), "student": userTok(student)} {
		rec := v.do(http.MethodGet, "/v1/auth/me", tok, nil)
		wantStatus(t, rec, http.StatusOK)
		if got := decode[map[string]any](t, rec); got["user"] == nil {
			t.Fatalf("%s: /auth/me %v", who, got)
		}
	}
	lmsTok := originalToken("wriveted:service-account:"+lms.String(), time.Now().Add(time.Hour))
	wantStatus(t, v.do(http.MethodGet, "/v1/collection/"+coll.String(), lmsTok, nil), http.StatusOK)

	// the LMS sync with a book the catalogue does not have yet
	const newISBN = "9780747532699"
	rec := v.do(http.MethodPatch, "/v1/collection/"+coll.String(), lmsTok, map[string]any{"items": []any{
		map[string]any{"action": "add", "edition_isbn": "0-7475-3269-9", "copies_total": 3, "copies_available": 2}}})
	wantStatus(t, rec, http.StatusOK)
	if n := v.scalar(`SELECT count(*) FROM collection_items WHERE collection_id = $1 AND edition_isbn = $2`, coll, newISBN).(int64); n != 1 {
		t.Fatalf("%d items for the new ISBN", n)
	}
	// an edition put under a work gets that work's title
	adminTok := userTok(admin)
	wantStatus(t, v.do(http.MethodPatch, "/v1/edition/"+newISBN, adminTok, map[string]any{"work_id": apple}), http.StatusOK)
	if title := v.scalar(`SELECT title FROM editions WHERE isbn = $1`, newISBN); title != "Apple Orchard" {
		t.Fatalf("edition title %v, want its work's", title)
	}
	// the original's hue08 key is stored (as ours)
	rec = v.do(http.MethodPatch, fmt.Sprintf("/v1/work/%d", zebra), adminTok, map[string]any{"labelset": map[string]any{
		"hue_primary_key": "hue08_charming_inspiring", "hue_origin": "HUMAN"}})
	wantStatus(t, rec, http.StatusOK)
	if key := v.scalar(`SELECT h.key FROM labelset_hue_association a JOIN labelsets l ON l.id = a.labelset_id
		JOIN hues h ON h.id = a.hue_id WHERE l.work_id = $1 AND a.ordinal = 'PRIMARY'`, zebra); key != "hue08_charming_courageous" {
		t.Fatalf("stored hue %v", key)
	}

	// the original's login still reads what the API wrote, and writes
	var n int
	if err := legacy.QueryRow(ctx, `SELECT count(*) FROM collection_items WHERE collection_id = $1`, coll).Scan(&n); err != nil || n != 1 {
		t.Fatalf("legacy login reads %d items (%v)", n, err)
	}
	if tag, err := legacy.Exec(ctx, `UPDATE schools SET name = 'Renamed by the original' WHERE id = $1`, sch.ID); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("legacy login update: %v %v", tag, err)
	}

	// and back: the original's login owns everything again, rows kept
	if err := schema.Release(ctx, sqlDB, schema.Dir(), o.Owner, true, nil); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := legacy.QueryRow(ctx, `SELECT count(*) FROM collection_items ci JOIN editions e ON e.isbn = ci.edition_isbn
		WHERE ci.collection_id = $1 AND e.title = 'Apple Orchard'`, coll).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after release the original reads %d of the API's items (%v)", n, err)
	}
	var rls bool
	if err := legacy.QueryRow(ctx, `SELECT bool_or(relrowsecurity) FROM pg_class WHERE relname IN ('users', 'schools', 'collection_items')`).Scan(&rls); err != nil || rls {
		t.Fatalf("row security still on after release (%v)", err)
	}
}
