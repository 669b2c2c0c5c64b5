package db_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// apiPool is a one-connection pool as huey_api that counts round trips, so a
// test sees exactly what the next borrower of the connection would see.
func apiPool(t *testing.T, d *dbtest.DB) (*pgxpool.Pool, *atomic.Int64) {
	t.Helper()
	return d.CountingPool(t, dbtest.RoleAPI, 1)
}

func educatorClaims() db.Claims {
	return db.Claims{Kind: "user", UserType: "educator", ID: "7b0f3a5e-3c1b-4b8e-9a55-0a8c2f5e1d11",
		Principals: []string{"system:everyone", "system:authenticated", "role:educator", "educator:17"},
		SchoolIDs:  []int64{17}}
}

const whoAmI = `SELECT current_user::text, coalesce(current_setting('request.jwt.claims', true), '')`

// afterwards checks what the next borrower of the connection sees: the
// login role, and no claims.
func afterwards(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var role, claims string
	if err := pool.QueryRow(context.Background(), whoAmI).Scan(&role, &claims); err != nil {
		t.Fatal(err)
	}
	if role != dbtest.RoleAPI || claims != "" {
		t.Fatalf("next borrower sees role %q and claims %q; want huey_api and none", role, claims)
	}
}

func TestReadCarriesClaimsInOneRoundTrip(t *testing.T) {
	t.Parallel()
	pool, writes := apiPool(t, dbtest.NewDB(t))
	ctx := context.Background()
	var role, claims, schools string
	read := func() error {
		return db.Read(ctx, pool, educatorClaims(), func(b *pgx.Batch) {
			b.Queue(whoAmI + `, (current_setting('request.jwt.claims', true)::jsonb -> 'school_ids')::text`).
				QueryRow(func(r pgx.Row) error { return r.Scan(&role, &claims, &schools) })
		})
	}
	if err := read(); err != nil { // warms the statement cache
		t.Fatal(err)
	}
	before := writes.Load()
	if err := read(); err != nil {
		t.Fatal(err)
	}
	if n := writes.Load() - before; n != 1 {
		t.Errorf("a warm Read took %d round trips, want 1", n)
	}
	if role != db.AppRole || schools != "[17]" {
		t.Errorf("inside Read: role %q, school_ids %s", role, schools)
	}
	afterwards(t, pool)
}

func TestInTxFirstStatementSharesTheRoundTrip(t *testing.T) {
	t.Parallel()
	pool, writes := apiPool(t, dbtest.NewDB(t))
	ctx := context.Background()
	var role, claims string
	run := func() error {
		return db.InTx(ctx, pool, educatorClaims(), func(tx *db.Tx) error {
			return tx.QueryRow(ctx, whoAmI).Scan(&role, &claims)
		})
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	before := writes.Load()
	if err := run(); err != nil {
		t.Fatal(err)
	}
	// BEGIN + claims + the query, then COMMIT.
	if n := writes.Load() - before; n != 2 {
		t.Errorf("a warm one-statement InTx took %d round trips, want 2", n)
	}
	if role != db.AppRole || claims == "" {
		t.Errorf("inside InTx: role %q claims %q", role, claims)
	}
	afterwards(t, pool)
}

func TestInTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	pool, _ := apiPool(t, dbtest.NewDB(t))
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.InTx(ctx, pool, educatorClaims(), func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE scratch (id int)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO scratch VALUES (1)`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want boom", err)
	}
	var reg *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass('pg_temp.scratch')::text`).Scan(&reg); err != nil || reg != nil {
		t.Fatalf("the rolled-back table exists: %v %v", reg, err)
	}
	afterwards(t, pool)
}

// A failing statement aborts the transaction; the connection still returns
// to the pool clean (no open failed transaction, no claims).
func TestFailedStatementLeavesConnectionClean(t *testing.T) {
	t.Parallel()
	pool, _ := apiPool(t, dbtest.NewDB(t))
	ctx := context.Background()
	err := db.InTx(ctx, pool, educatorClaims(), func(tx *db.Tx) error {
		var n int
		return tx.QueryRow(ctx, `SELECT 1/0`).Scan(&n)
	})
	if err == nil {
		t.Fatal("division by zero succeeded")
	}
	afterwards(t, pool)
	err = db.Read(ctx, pool, educatorClaims(), func(b *pgx.Batch) {
		b.Queue(`SELECT 1/0`)
	})
	if err == nil {
		t.Fatal("division by zero succeeded in Read")
	}
	afterwards(t, pool)
	// A failure in the prefix itself (no such role) also leaves it clean.
	bad := educatorClaims()
	bad.Role = "no_such_role"
	if err := db.InTx(ctx, pool, bad, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `SELECT 1`)
		return err
	}); err == nil {
		t.Fatal("set_config to a missing role succeeded")
	}
	afterwards(t, pool)
}

func TestNoRowsBecomesErrNotFound(t *testing.T) {
	t.Parallel()
	pool, _ := apiPool(t, dbtest.NewDB(t))
	ctx := context.Background()
	err := db.InTx(ctx, pool, db.Anonymous(), func(tx *db.Tx) error {
		var name string
		return tx.QueryRow(ctx, `SELECT name FROM countries WHERE id = 'XXX'`).Scan(&name)
	})
	if !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	err = db.Read(ctx, pool, db.Anonymous(), func(b *pgx.Batch) {
		b.Queue(`SELECT name FROM countries WHERE id = 'XXX'`).QueryRow(func(r pgx.Row) error {
			var name string
			return r.Scan(&name)
		})
	})
	if !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("Read got %v, want ErrNotFound", err)
	}
}

func TestQueryRowsAndLaterStatements(t *testing.T) {
	t.Parallel()
	pool, _ := apiPool(t, dbtest.NewDB(t))
	ctx := context.Background()
	var ids []string
	var count int
	err := db.InTx(ctx, pool, db.Anonymous(), func(tx *db.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM countries WHERE id IN ('NZL', 'AUS') ORDER BY id`)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM hues`).Scan(&count)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != "AUS" || count != 13 {
		t.Fatalf("ids %v count %d", ids, count)
	}
}

func TestDatabaseRevision(t *testing.T) {
	t.Parallel()
	pool, _ := apiPool(t, dbtest.NewDB(t))
	rev, err := db.DatabaseRevision(context.Background(), pool)
	if err != nil || len(rev) != 14 {
		t.Fatalf("revision %q, %v", rev, err)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/d": "postgres://u:redacted@h:5432/d",
		"postgres://u@h/d":             "postgres://u@h/d",
		"not a url with secret@host":   "[redacted]",
	} {
		if got := db.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// The API login plans its prepared statements once (generic plans): custom
// plans would re-plan every statement, row-security quals included, on each run.
func TestAPILoginUsesGenericPlans(t *testing.T) {
	t.Parallel()
	pool, _ := apiPool(t, dbtest.NewDB(t))
	var mode string
	if err := pool.QueryRow(context.Background(), `SHOW plan_cache_mode`).Scan(&mode); err != nil || mode != "force_generic_plan" {
		t.Fatalf("plan_cache_mode = %q, %v", mode, err)
	}
}

func TestStaffURL(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	u, err := db.StaffURL(env(map[string]string{"DATABASE_URL": "postgresql+psycopg2://huey_api:pw@db:5432/huey",
		"STAFF_DATABASE_PASSWORD": "s3cret"}), "huey_staff_rw")
	if err != nil || u != "postgres://huey_staff_rw:s3cret@db:5432/huey" {
		t.Fatalf("%q %v", u, err)
	}
	u, err = db.StaffURL(env(map[string]string{"STAFF_DATABASE_URL": "postgres://x@h/db", "DATABASE_URL": "postgres://y@h/db"}), "huey_staff_rw")
	if err != nil || u != "postgres://x@h/db" {
		t.Fatalf("%q %v", u, err)
	}
	if _, err := db.StaffURL(env(nil), "huey_staff_ro"); err == nil {
		t.Fatal("no URL accepted")
	}
}

func TestOpenPoolSize(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		url  string
		max  int32
		want int32
	}{
		{d.RoleURL(dbtest.RoleAPI), 11, 11},
		{d.RoleURL(dbtest.RoleAPI) + "&pool_max_conns=3", 0, 3},
		{d.RoleURL(dbtest.RoleAPI) + "&pool_max_conns=3", 9, 9},
	} {
		pool, err := db.OpenPool(ctx, tc.url, "huey-test", db.PoolOptions{MaxConns: tc.max})
		if err != nil {
			t.Fatal(err)
		}
		if got := pool.Config().MaxConns; got != tc.want {
			t.Errorf("OpenPool(%s, %d): MaxConns %d, want %d", db.Redact(tc.url), tc.max, got, tc.want)
		}
		pool.Close()
	}
}

// Two transactions that take two locks in opposite orders deadlock; Postgres
// aborts one (40P01) and InTx runs it again, so both succeed and the request
// never sees the deadlock.
func TestInTxRunsADeadlockedTransactionAgain(t *testing.T) {
	t.Parallel()
	pool, _ := dbtest.NewDB(t).CountingPool(t, dbtest.RoleAPI, 2) // two transactions at once
	ctx := context.Background()
	var (
		runs    atomic.Int32
		holding sync.WaitGroup
	)
	holding.Add(2)
	first := [2]atomic.Bool{}
	lockBoth := func(i int, a, b int64) error {
		return db.InTx(ctx, pool, educatorClaims(), func(tx *db.Tx) error {
			runs.Add(1)
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, a); err != nil {
				return err
			}
			if first[i].CompareAndSwap(false, true) {
				holding.Done()
				holding.Wait() // both hold their first lock: the second locks deadlock
			}
			_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, b)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- lockBoth(0, 41, 42) }()
	go func() { errs <- lockBoth(1, 42, 41) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("InTx returned %v after a deadlock, want it run again and committed", err)
		}
	}
	if n := runs.Load(); n != 3 {
		t.Errorf("the transactions ran %d times, want 3 (one run again)", n)
	}
	if !db.Retryable(&pgconn.PgError{Code: "40001"}) || db.Retryable(errors.New("boom")) {
		t.Error("Retryable: serialization failures are retryable, other errors are not")
	}
	afterwards(t, pool)
}
