package api_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// countingConn counts writes to Postgres; each is one round trip, since the
// client waits for the answer before writing again.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

func countingPool(t testing.TB, d *dbtest.DB) (*pgxpool.Pool, *atomic.Int64) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(d.RoleURL(dbtest.RoleAPI))
	if err != nil {
		t.Fatal(err)
	}
	writes := &atomic.Int64{}
	dialer := &net.Dialer{}
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, writes: writes}, nil
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, writes
}

// With a warm principal cache, a read is one database round trip: claims,
// role, the policy's attribute look-up and the data in one batch (DECISIONS §4).
func TestReadsAreOneRoundTrip(t *testing.T) {
	t.Parallel()
	var writes *atomic.Int64
	v := newEnv(t)
	pool, w := countingPool(t, v.db)
	writes = w
	v = newEnvOn(t, v, pool)
	a := v.school("School A", "ACTIVE")
	admin := v.user("Sal Admin", "SCHOOL_ADMIN", &a)
	tok := v.userToken(admin)
	for _, path := range []string{"/v1/school/" + a.WID.String(), "/v1/schools", "/v1/auth/me",
		"/v1/school/" + a.WID.String() + "/bot", "/v1/version"} {
		wantStatus(t, v.do(http.MethodGet, path, tok, nil), http.StatusOK) // warms caches
		before := writes.Load()
		wantStatus(t, v.do(http.MethodGet, path, tok, nil), http.StatusOK)
		if n := writes.Load() - before; n != 1 {
			t.Errorf("GET %s took %d round trips, want 1", path, n)
		}
	}
}
