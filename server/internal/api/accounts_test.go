package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/server/internal/api"
)

// testClock is a settable clock for api.Options.Now.
type testClock struct{ ns atomic.Int64 }

func newClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// listening builds an API over pool whose principal cache (ttl) is fed by a
// change listener as the API login; the listener dials through dial when
// given. It waits for the listener to connect.
func (v *env) listening(t testing.TB, pool *pgxpool.Pool, ttl time.Duration, clock *testClock,
	dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*env, *api.AccountCache) {
	t.Helper()
	cfg, err := pgx.ParseConfig(v.db.RoleURL(dbtest.RoleAPI))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "huey-api-listener"
	if dial != nil {
		cfg.DialFunc = dial
	}
	accounts := api.NewAccountCache(ttl)
	logger := slog.New(slog.NewJSONHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		accounts.Listen(ctx, cfg, logger)
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the listener to connect", accounts.Listening)
	o := api.Options{
		Pool: pool, Logger: logger, Policies: testEngine, Tokens: v.tokens, Accounts: accounts,
		ClassCodeRate: 600, Now: clock.now,
	}
	return &env{t: t, e: api.New(o), super: v.super, tokens: v.tokens, db: v.db}, accounts
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// educators creates n active educators of sch in one statement.
func (v *env) educators(t testing.TB, sch school, n int) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
	}
	v.exec(`INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
		SELECT id, true, id::text || '@example.org', 'Educator ' || id::text, '{}', now(), now(), 'EDUCATOR'
		FROM unnest($1::uuid[]) id`, ids)
	v.exec(`INSERT INTO educators (id, school_id) SELECT id, $2 FROM unnest($1::uuid[]) id`, ids, sch.ID)
	return ids
}

// Under a 1,000-account load, with account changes heard through the
// listener, principals stay cached past the old 5 s TTL: a read is one
// database round trip (one transaction) per request. Without a listener the
// cache keeps the short TTL and reloads the account.
func TestPrincipalCacheHoldsUnderManyAccounts(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	sch := v.school("School A", "ACTIVE")
	path := "/v1/edition/" + newISBN()
	v.edition(path[len("/v1/edition/"):], v.work("A Book"), nil)
	ids := v.educators(t, sch, 1000)
	toks := make([]string, len(ids))
	for i, id := range ids {
		toks[i] = v.userToken(id)
	}
	pool, writes := v.db.CountingPool(t, dbtest.RoleAPI, 0)
	clock := newClock()
	round := func(e *env, toks []string) int64 {
		t.Helper()
		before := writes.Load()
		for _, tok := range toks {
			if rec := e.do(http.MethodGet, path, tok, nil); rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
		return writes.Load() - before
	}

	listened, _ := v.listening(t, pool, 5*time.Minute, clock, nil)
	round(listened, toks) // warms the caches
	clock.advance(time.Minute)
	if n := round(listened, toks); n != int64(len(toks)) {
		t.Errorf("with the listener, a minute later: %d round trips for %d requests, want one each (%.2f per request)",
			n, len(toks), float64(n)/float64(len(toks)))
	}

	// No listener: accounts are kept FallbackPrincipalTTL.
	plain := &env{t: t, super: v.super, tokens: v.tokens, db: v.db, e: api.New(api.Options{
		Pool: pool, Logger: slog.New(slog.NewJSONHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError})),
		Policies: testEngine, Tokens: v.tokens, PrincipalCacheTTL: 5 * time.Minute, ClassCodeRate: 600, Now: clock.now,
	})}
	few := toks[:50]
	round(plain, few)
	if n := round(plain, few); n != int64(len(few)) {
		t.Errorf("without a listener, at once: %d round trips for %d requests, want one each", n, len(few))
	}
	clock.advance(api.FallbackPrincipalTTL + time.Second)
	if n := round(plain, few); n != 2*int64(len(few)) {
		t.Errorf("without a listener, after the fallback TTL: %d round trips for %d requests, want two each (reload)", n, len(few))
	}
}

// A change committed anywhere (here: by SQL, as another instance or a staff
// script would) reaches every instance at once, whatever the TTL.
func TestAccountChangeReachesEveryInstance(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	sch := v.school("School A", "ACTIVE")
	other := v.school("School B", "ACTIVE")
	ed := v.user("Eddie Educator", "EDUCATOR", &sch)
	tok := v.userToken(ed)
	lms := v.serviceAccount("LMS", "LMS", sch)
	lmsTok := v.saToken(lms)
	clock := newClock()
	one, _ := v.listening(t, v.db.Pool(t, dbtest.RoleAPI), time.Hour, clock, nil)
	two, _ := v.listening(t, v.db.Pool(t, dbtest.RoleAPI), time.Hour, clock, nil)
	for _, e := range []*env{one, two} {
		wantStatus(t, e.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
		wantStatus(t, e.do(http.MethodGet, "/v1/school/"+sch.WID.String(), lmsTok, nil), http.StatusOK)
		wantStatus(t, e.do(http.MethodGet, "/v1/school/"+other.WID.String(), lmsTok, nil), http.StatusForbidden)
	}
	v.exec(`UPDATE users SET is_active = false WHERE id = $1`, ed)
	v.exec(`UPDATE service_account_school_association SET school_id = $2 WHERE service_account_id = $1`, lms, other.ID)
	for i, e := range []*env{one, two} {
		waitFor(t, fmt.Sprintf("instance %d to refuse the deactivated user", i+1), func() bool {
			return e.do(http.MethodGet, "/v1/auth/me", tok, nil).Code == http.StatusBadRequest
		})
		waitFor(t, fmt.Sprintf("instance %d to move the LMS account", i+1), func() bool {
			return e.do(http.MethodGet, "/v1/school/"+other.WID.String(), lmsTok, nil).Code == http.StatusOK
		})
		wantStatus(t, e.do(http.MethodGet, "/v1/school/"+sch.WID.String(), lmsTok, nil), http.StatusForbidden)
	}
}

// When the listener's connection is lost, changes are no longer heard: the
// cache is flushed and entries live only FallbackPrincipalTTL until the
// listener is back (and flushed again then).
func TestListenerLossFlushesCache(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	sch := v.school("School A", "ACTIVE")
	ed := v.user("Eddie Educator", "EDUCATOR", &sch)
	tok := v.userToken(ed)
	var down atomic.Bool
	dialer := &net.Dialer{}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			return nil, fmt.Errorf("test: database unreachable")
		}
		return dialer.DialContext(ctx, network, addr)
	}
	pool, writes := v.db.CountingPool(t, dbtest.RoleAPI, 0)
	clock := newClock()
	e, accounts := v.listening(t, pool, time.Hour, clock, dial)
	wantStatus(t, e.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK) // cached now

	down.Store(true)
	v.exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'huey-api-listener'`)
	waitFor(t, "the listener to notice", func() bool { return !accounts.Listening() })
	// Missed while disconnected: the cache must not answer from before.
	v.exec(`UPDATE users SET is_active = false WHERE id = $1`, ed)
	wantStatus(t, e.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusBadRequest)

	// While disconnected the fallback TTL applies: cached for a while (the
	// reactivation is not seen yet), reloaded after FallbackPrincipalTTL.
	v.exec(`UPDATE users SET is_active = true WHERE id = $1`, ed)
	wantStatus(t, e.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusBadRequest)
	clock.advance(api.FallbackPrincipalTTL + time.Second)
	wantStatus(t, e.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
	before := writes.Load()
	wantStatus(t, e.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
	if n := writes.Load() - before; n != 1 {
		t.Errorf("cached within the fallback TTL: %d round trips, want 1", n)
	}
	clock.advance(api.FallbackPrincipalTTL + time.Second)
	before = writes.Load()
	wantStatus(t, e.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
	if n := writes.Load() - before; n != 2 {
		t.Errorf("after the fallback TTL: %d round trips, want 2 (reload)", n)
	}

	// Back: reconnected (with backoff), flushed, and changes heard again.
	down.Store(false)
	waitFor(t, "the listener to reconnect", func() bool { return accounts.Listening() && accounts.Connects() == 2 })
	wantStatus(t, e.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
	clock.advance(10 * time.Minute)
	before = writes.Load()
	wantStatus(t, e.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
	if n := writes.Load() - before; n != 1 {
		t.Errorf("listening again, 10 minutes later: %d round trips, want 1 (cached)", n)
	}
	v.exec(`UPDATE users SET is_active = false WHERE id = $1`, ed)
	waitFor(t, "the reconnected listener to drop the account", func() bool {
		return e.do(http.MethodGet, "/v1/auth/me", tok, nil).Code == http.StatusBadRequest
	})
}
