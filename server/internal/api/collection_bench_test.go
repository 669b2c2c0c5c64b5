package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// Scale of the LMS batch routes (api.md §2.11): a school collection holding
// 50 000 items (with titles, so the page query sorts real data), then
//   - PATCH of 10 000 mixed actions: 4 000 adds of new ISBNs, 3 000 updates by
//     ISBN, 3 000 removes by ISBN;
//   - PUT …/items of 10 000 items (the 50 000 are deleted first, in the same
//     transaction);
//   - GET …/items?limit=20 as the school admin (one database round trip).
// Run: go test -run xxx -bench Collection -benchtime 5x ./server/internal/api/

const benchHeld = 50_000

// benchCollection is a school collection of benchHeld items, and the school
// admin's and the linked LMS account's tokens.
func benchCollection(b *testing.B) (v *env, coll uuid.UUID, admin, lms string) {
	v = newEnv(b)
	a := v.school("Bench School", "ACTIVE")
	admin = v.userToken(v.user("Bench Admin", "SCHOOL_ADMIN", &a))
	lms = v.saToken(v.serviceAccount("Bench LMS", "LMS", a))
	coll = v.collection(&a, nil, "Bench books")
	isbns := make([]string, 0, 200_000)
	for i := range 200_000 {
		isbns = append(isbns, isbn13(i))
	}
	v.exec(`INSERT INTO editions (isbn, edition_title, title) SELECT x, 'Title ' || md5(x), 'Title ' || md5(x) FROM unnest($1::text[]) x`, isbns)
	refill(v, coll)
	v.exec(`ANALYZE editions`)
	v.exec(`ANALYZE collection_items`)
	return v, coll, admin, lms
}

// refill makes coll hold exactly the items of ISBNs 0 … benchHeld-1.
func refill(v *env, coll uuid.UUID) {
	v.exec(`DELETE FROM collection_items WHERE collection_id = $1`, coll)
	isbns := make([]string, benchHeld)
	for i := range isbns {
		isbns[i] = isbn13(i)
	}
	v.exec(`INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info)
		SELECT $1, x, 1, 1, '{"title": "t"}' FROM unnest($2::text[]) x`, coll, isbns)
}

func BenchmarkCollectionPatch10k(b *testing.B) {
	v, coll, _, lms := benchCollection(b)
	path := "/v1/collection/" + coll.String()
	round := 0
	for b.Loop() {
		b.StopTimer()
		refill(v, coll)
		items := make([]any, 0, 10_000)
		for i := range 4_000 { // new ISBNs, some unknown to the catalogue
			items = append(items, map[string]any{"action": "add", "edition_isbn": isbn13(100_000 + round*4_000 + i),
				"copies_total": 2, "info": map[string]any{"title": "new"}})
		}
		for i := range 3_000 {
			items = append(items, map[string]any{"action": "update", "edition_isbn": isbn13(i), "copies_total": 5,
				"info": map[string]any{"other": map[string]any{"shelf": "B3"}}})
		}
		for i := range 3_000 {
			items = append(items, map[string]any{"action": "remove", "edition_isbn": isbn13(10_000 + i)})
		}
		body := map[string]any{"items": items}
		round++
		b.StartTimer()
		rec := v.do(http.MethodPatch, path, lms, body)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
		}
	}
	var n int64
	if err := v.super.QueryRow(context.Background(), `SELECT count(*) FROM collection_items WHERE collection_id = $1`, coll).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n != benchHeld+4_000-3_000 {
		b.Fatalf("collection holds %d items", n)
	}
}

func BenchmarkCollectionPut10k(b *testing.B) {
	v, coll, _, lms := benchCollection(b)
	path := "/v1/collection/" + coll.String() + "/items"
	items := make([]any, 0, 10_000)
	for i := range 10_000 {
		items = append(items, map[string]any{"edition_isbn": isbn13(45_000 + i), "copies_total": 3})
	}
	for b.Loop() {
		b.StopTimer()
		refill(v, coll)
		b.StartTimer()
		rec := v.do(http.MethodPut, path, lms, items)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkCollectionItemsPage(b *testing.B) {
	v, coll, admin, _ := benchCollection(b)
	path := "/v1/collection/" + coll.String() + "/items?limit=20"
	b.ReportAllocs()
	for b.Loop() {
		rec := v.do(http.MethodGet, path, admin, nil)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
		}
	}
}
