package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/benchdata"
	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/collection"
	"github.com/wriveted/huey-api/schema/db"
)

// checkSameAnswers proves, before anything is timed, that
//   - the claims pgbench builds in SQL are byte for byte what the API sends;
//   - the API's own SQL, run as the API runs it (huey_api, huey_app, the
//     caller's claims), finds the rows (RLS lets the school admin read them);
//   - the ideal SQL returns the same JSON.
//
// A mismatch of ideal and own answers is reported in the table, not fatal.
func checkSameAnswers(ctx context.Context, t *target, z benchdata.Size, r *report) error {
	tmpl := claimsFormat()
	for n := 1; n <= z.Schools; n++ {
		want := claimsJSON(schoolAdminClaims(n))
		got := strings.NewReplacer("%1$s", fmt.Sprint(n), "%2$s", benchdata.UserID(n, 1)).Replace(tmpl)
		if got != want {
			return fmt.Errorf("claims template for school %d:\n got %s\nwant %s", n, got, want)
		}
	}
	own, err := pgxpool.New(ctx, t.urlFor(roleAPI, t.rolePassword))
	if err != nil {
		return err
	}
	defer own.Close()
	ideal, err := pgxpool.New(ctx, t.urlFor(roleIdeal, t.rolePassword))
	if err != nil {
		return err
	}
	defer ideal.Close()
	rng := rand.New(rand.NewPCG(1, 2)) // #nosec G404 -- sampling
	for i := 0; i < 3; i++ {
		n := 1 + rng.IntN(z.Schools)
		var got string
		if err := own.QueryRow(ctx, `SELECT format($1::text, $2::int, md5('user-' || $2::int || '-1')::uuid)`, tmpl, n).Scan(&got); err != nil {
			return err
		}
		if want := claimsJSON(schoolAdminClaims(n)); got != want {
			return fmt.Errorf("claims built in SQL for school %d:\n got %s\nwant %s", n, got, want)
		}
	}
	idealClaims := func(c db.Claims) db.Claims { c.Role = roleIdeal; return c }
	var mismatch []string
	for i := 0; i < 20; i++ {
		n := 1 + rng.IntN(z.Schools)
		isbn := benchdata.ISBN(1 + rng.IntN(z.Editions))
		c := schoolAdminClaims(n)
		var a, b []byte
		if err := db.Read(ctx, own, c, func(q *pgx.Batch) {
			q.Queue(catalog.EditionDetailSQL, isbn).QueryRow(func(row pgx.Row) error { return row.Scan(&a) })
		}); err != nil {
			return fmt.Errorf("(a) own SQL for %s as school %d's admin: %w", isbn, n, err)
		}
		if err := db.Read(ctx, ideal, idealClaims(c), func(q *pgx.Batch) {
			q.Queue(idealEditionSQL, isbn).QueryRow(func(row pgx.Row) error { return row.Scan(&b) })
		}); err != nil {
			return fmt.Errorf("(a) ideal SQL for %s: %w", isbn, err)
		}
		if !sameJSON(a, b) {
			mismatch = append(mismatch, fmt.Sprintf("(a) %s:\n  own   %s\n  ideal %s", isbn, a, b))
		}
	}
	for i := 0; i < 5; i++ {
		n := 1 + rng.IntN(z.Schools)
		cid := uuid.MustParse(benchdata.CollectionID(n))
		c := schoolAdminClaims(n)
		f := collection.ItemsFilter{CollectionID: cid, Limit: 20}
		totalSQL, targs := collection.ItemsTotalSQL(f)
		pageSQL, pargs := collection.ItemsPageSQL(f)
		var ownTotal, idealTotal int64
		var ownPage, idealPage []json.RawMessage
		var school *int64
		scanPage := func(out *[]json.RawMessage) func(pgx.Rows) error {
			return func(rows pgx.Rows) error {
				for rows.Next() {
					var raw []byte
					if err := rows.Scan(&raw); err != nil {
						return err
					}
					*out = append(*out, raw)
				}
				return rows.Err()
			}
		}
		if err := db.Read(ctx, own, c, func(q *pgx.Batch) {
			q.Queue(collection.JITOffSQL)
			q.Queue(collection.AttrsSQL, cid).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var wid, user *uuid.UUID
					if err := rows.Scan(&school, &wid, &user); err != nil {
						return err
					}
				}
				return rows.Err()
			})
			q.Queue(totalSQL, targs...).QueryRow(func(row pgx.Row) error { return row.Scan(&ownTotal) })
			q.Queue(pageSQL, pargs...).Query(scanPage(&ownPage))
		}); err != nil {
			return fmt.Errorf("(b) own SQL for school %d: %w", n, err)
		}
		if school == nil || *school != int64(n) || ownTotal != int64(z.Items) || len(ownPage) != min(20, z.Items) {
			return fmt.Errorf("(b) own SQL for school %d as its admin: attrs school %v, total %d, %d rows: the fixture or the claims are off",
				n, school, ownTotal, len(ownPage))
		}
		if err := db.Read(ctx, ideal, idealClaims(c), func(q *pgx.Batch) {
			q.Queue(idealItemsTotalSQL, cid).QueryRow(func(row pgx.Row) error { return row.Scan(&idealTotal) })
			q.Queue(idealItemsPageSQL, cid, 0, 20).Query(scanPage(&idealPage))
		}); err != nil {
			return fmt.Errorf("(b) ideal SQL for school %d: %w", n, err)
		}
		if ownTotal != idealTotal || len(ownPage) != len(idealPage) {
			mismatch = append(mismatch, fmt.Sprintf("(b) school %d: total %d/%d, rows %d/%d", n, ownTotal, idealTotal, len(ownPage), len(idealPage)))
			continue
		}
		for k := range ownPage {
			if !sameJSON(ownPage[k], idealPage[k]) {
				mismatch = append(mismatch, fmt.Sprintf("(b) school %d row %d:\n  own   %s\n  ideal %s", n, k, ownPage[k], idealPage[k]))
				break
			}
		}
	}
	r.answerMismatch = mismatch
	if len(mismatch) > 0 {
		say("WARNING: the ideal SQL does not return the API's answer (update scripts/bench/ideal.go):\n%s", strings.Join(mismatch[:min(3, len(mismatch))], "\n"))
	} else {
		say("checked: claims as the API builds them; own and ideal SQL return the same JSON (20 editions, 5 pages)")
	}
	return nil
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
