package api_test

import (
	"context"
	"os"
	"testing"

	"github.com/wriveted/huey-api/schema/catalog/importcsv"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/sampledata"
)

// catalogueEnv is an env holding the real sample catalogue.
func catalogueEnv(t testing.TB) *env {
	t.Helper()
	v := newEnv(t)
	ctx := context.Background()
	path, ok := sampledata.LabelledBooks()
	if !ok {
		t.Fatalf("the sample data is missing: looked for %s", path)
	}
	f, err := os.Open(path) // #nosec G304 -- test data
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := importcsv.Load(ctx, v.db.Pool(t, dbtest.RoleStaffRW), f, importcsv.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	return v
}

// schoolCollection gives sch a collection of the editions, copies_total from copies
// (1 when shorter), and refreshes work_collection_frequency.
func (v *env) schoolCollection(sch school, isbns []string, copies []int) {
	v.t.Helper()
	var id string
	if err := v.super.QueryRow(context.Background(),
		`INSERT INTO collections (school_id, name) VALUES ($1, 'Books') RETURNING id::text`, sch.WID).Scan(&id); err != nil {
		v.t.Fatal(err)
	}
	for i, isbn := range isbns {
		n := 1
		if i < len(copies) {
			n = copies[i]
		}
		v.exec(`INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available)
			VALUES ($1::uuid, $2, $3, $3)`, id, isbn, n)
	}
	v.exec(`REFRESH MATERIALIZED VIEW work_collection_frequency`)
}
