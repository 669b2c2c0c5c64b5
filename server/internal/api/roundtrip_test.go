package api_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// With a warm principal cache, a read is one database round trip: claims,
// role, the policy's attribute look-up and the data in one batch (DECISIONS §4).
func TestReadsAreOneRoundTrip(t *testing.T) {
	t.Parallel()
	var writes *atomic.Int64
	v := newEnv(t)
	pool, w := v.db.CountingPool(t, dbtest.RoleAPI, 0)
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
