package benchdata_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/benchdata"
	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/collection"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// The plan guard (issue 11): at the statistics of the benchmark's full-size
// fixture (1,000 schools, 200,000 editions, 500,000 items, a 20,000-item
// collection), the two hottest reads must keep the plans that make them
// cheap. It counts, it never times:
//   - no sequential scan, and no sub-plan in any scan's filter (a row-security
//     branch like `IN (SELECT … FROM <catalogue table>)` evaluated per row);
//   - the collection page reads its rows from ix_collection_items_collection_sort,
//     with no Sort over the collection, returning no more rows from the index
//     than the page holds;
//   - a page of the 20,000-item collection touches at most twice the buffers a
//     page of a 500-item one does.
//
// Generic plans (the API login's plan_cache_mode = force_generic_plan) and
// custom plans are both checked: a statement may run under either.
func TestHotReadPlansAtFullSize(t *testing.T) {
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super, err := pgx.Connect(ctx, d.SuperuserURL())
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(ctx)
	z := benchdata.Full
	if err := benchdata.Load(ctx, super, z); err != nil {
		t.Fatal(err)
	}
	api := d.Pool(t, dbtest.RoleAPI)

	small, big := 7, z.Schools+1 // a 500-item collection and the 20,000-item one
	for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
		t.Run(mode, func(t *testing.T) {
			var blocks [2]int64
			for k, school := range []int{small, big} {
				claims := claimsJSON(t, benchdata.SchoolAdminClaims(school))
				id := uuid.MustParse(benchdata.CollectionID(school))
				f := collection.ItemsFilter{CollectionID: id, Skip: 0, Limit: 20}
				pageSQL, _ := collection.ItemsPageSQL(f)
				totalSQL, _ := collection.ItemsTotalSQL(f)

				page := explain(t, api, mode, claims, "uuid, integer, integer", pageSQL,
					fmt.Sprintf("'%s', 0, 20", id))
				checkNoSeqScanOrFilterSubPlan(t, "page", page)
				scan := page.find(func(n *planNode) bool { return n.Relation == "collection_items" })
				if scan == nil || scan.Index != "ix_collection_items_collection_sort" {
					t.Errorf("page of school %d: items not read through ix_collection_items_collection_sort:\n%s", school, page)
				} else if scan.ActualRows > 20 {
					t.Errorf("page of school %d: the items scan returned %v rows for a page of 20:\n%s", school, scan.ActualRows, page)
				}
				if s := page.find(func(n *planNode) bool { return n.Type == "Sort" && n.ActualRows > 20 }); s != nil {
					t.Errorf("page of school %d sorts %v rows:\n%s", school, s.ActualRows, page)
				}
				blocks[k] = page.blocks()

				total := explain(t, api, mode, claims, "uuid", totalSQL, fmt.Sprintf("'%s'", id))
				checkNoSeqScanOrFilterSubPlan(t, "total", total)
				if total.find(func(n *planNode) bool { return n.Relation == "collection_items" }) != nil {
					t.Errorf("the unfiltered total of school %d reads the items (it should read collections.item_count):\n%s", school, total)
				}
			}
			if blocks[1] > 2*blocks[0] {
				t.Errorf("a page of the %d-item collection touches %d buffers, of a %d-item one %d: more than twice",
					z.BigItems, blocks[1], z.Items, blocks[0])
			}

			edition := explain(t, api, mode, claimsJSON(t, benchdata.SchoolAdminClaims(small)), "text", catalog.EditionDetailSQL,
				fmt.Sprintf("'%s'", benchdata.ISBN(12345)))
			checkNoSeqScanOrFilterSubPlan(t, "edition", edition)
			if edition.find(func(n *planNode) bool { return n.Relation == "editions" && n.Index == "ix_editions_isbn" }) == nil {
				t.Errorf("the edition read does not use ix_editions_isbn:\n%s", edition)
			}
			if n := edition.count(func(n *planNode) bool { return n.Relationship == "InitPlan" }); n > 20 {
				t.Errorf("the edition read starts %d init-plans (was 87 before issue 11; row security should add a few per table):\n%s", n, edition)
			}
		})
	}
}

// explain runs EXPLAIN (ANALYZE, BUFFERS) of a prepared statement as the API
// does: the API login, huey_app with claims, under plan mode mode; the
// statement is executed once first so the plan cache is warm.
func explain(t *testing.T, pool *pgxpool.Pool, mode, claims, types, sql, args string) *planNode {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = tx.Rollback(ctx)
		_, _ = conn.Exec(ctx, `DEALLOCATE guarded`, pgx.QueryExecModeSimpleProtocol) // prepared statements outlive transactions
	}()
	for _, q := range []string{
		fmt.Sprintf(`SELECT set_config('role', 'huey_app', true), set_config('request.jwt.claims', '%s', true),
			set_config('plan_cache_mode', '%s', true), set_config('jit', 'off', true)`, strings.ReplaceAll(claims, "'", "''"), mode),
		`PREPARE guarded(` + types + `) AS ` + sql,
		`EXECUTE guarded(` + args + `)`,
	} {
		if _, err := tx.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var raw []byte
	if err := tx.QueryRow(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE guarded(`+args+`)`,
		pgx.QueryExecModeSimpleProtocol).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var out []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", raw, err)
	}
	return &out[0].Plan
}

// planNode is one node of EXPLAIN (FORMAT JSON).
type planNode struct {
	Type         string     `json:"Node Type"`
	Relationship string     `json:"Parent Relationship"`
	Subplan      string     `json:"Subplan Name"`
	Relation     string     `json:"Relation Name"`
	Index        string     `json:"Index Name"`
	Filter       string     `json:"Filter"`
	ActualRows   float64    `json:"Actual Rows"`
	Loops        float64    `json:"Actual Loops"`
	SharedHit    int64      `json:"Shared Hit Blocks"`
	SharedRead   int64      `json:"Shared Read Blocks"`
	Plans        []planNode `json:"Plans"`
}

func (n *planNode) walk(fn func(*planNode)) {
	fn(n)
	for i := range n.Plans {
		n.Plans[i].walk(fn)
	}
}

func (n *planNode) find(match func(*planNode) bool) *planNode {
	var found *planNode
	n.walk(func(x *planNode) {
		if found == nil && match(x) {
			found = x
		}
	})
	return found
}

func (n *planNode) count(match func(*planNode) bool) int {
	k := 0
	n.walk(func(x *planNode) {
		if match(x) {
			k++
		}
	})
	return k
}

// blocks is the buffers the whole statement touched (the root's counts
// include its children's).
func (n *planNode) blocks() int64 { return n.SharedHit + n.SharedRead }

func (n *planNode) String() string {
	var b strings.Builder
	var rec func(x *planNode, depth int)
	rec = func(x *planNode, depth int) {
		fmt.Fprintf(&b, "%s%s %s %s %s rows=%v loops=%v %s\n", strings.Repeat("  ", depth), x.Relationship, x.Subplan,
			x.Type, x.Relation+" "+x.Index, x.ActualRows, x.Loops, x.Filter)
		for i := range x.Plans {
			rec(&x.Plans[i], depth+1)
		}
	}
	rec(n, 0)
	return b.String()
}

// checkNoSeqScanOrFilterSubPlan: no sequential scan anywhere, and no scan
// whose filter runs a sub-plan per row.
func checkNoSeqScanOrFilterSubPlan(t *testing.T, what string, plan *planNode) {
	t.Helper()
	plan.walk(func(n *planNode) {
		if n.Type == "Seq Scan" {
			t.Errorf("%s: sequential scan on %s:\n%s", what, n.Relation, plan)
		}
		if n.Relation != "" && strings.Contains(n.Filter, "SubPlan") {
			t.Errorf("%s: the scan of %s runs a sub-plan per row (%s):\n%s", what, n.Relation, n.Filter, plan)
		}
		if strings.HasPrefix(n.Subplan, "hashed") {
			t.Errorf("%s: hashed sub-plan %s:\n%s", what, n.Subplan, plan)
		}
	})
}

func claimsJSON(t *testing.T, c db.Claims) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
