package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/pglocal"
)

// The fault tests (issue 12 "Faults") run the real server — run(): config,
// pool, account listener, Echo, serve and its shutdown — on a loopback
// listener. The third fault, the task server killed mid-task, is
// tasks/internal/dispatch TestServerKilledMidTaskEveryTaskCompletesOnce.

const (
	faultSecret = "fault-test-secret-key-of-32-bytes!!"
	msgBusy     = "The service is busy or the request took too long; try again shortly"
	// hangBound is how long any answer may take before the test calls it a
	// hang: far above REQUEST_TIMEOUT (3 s here), never a speed target.
	hangBound = 8 * time.Second
)

// startServer runs the API until the test ends (or stop is called) on a
// loopback listener and waits until it answers. stop cancels the context
// (SIGTERM) and returns run's result.
func startServer(t *testing.T, env map[string]string) (base string, stop func() error, logs *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, envOf(env), logs, ln) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(hangBound + 10*time.Second):
				runErr = fmt.Errorf("run did not return after its context ended")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		_ = stop()
		if t.Failed() {
			log, _ := logs.snapshot()
			t.Logf("server log:\n%s", log)
		}
	})
	base = "http://" + ln.Addr().String()
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/v1/version", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop, logs
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server stopped while starting: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer /v1/version: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// privateCluster starts a Postgres cluster of the test's own (the shared
// test cluster is never stopped), creates a migrated database `huey` in it
// and sets the huey_api login's password. It is stopped and removed at
// cleanup.
func privateCluster(t *testing.T) (c *pglocal.Cluster, apiURL string, super *pgxpool.Pool) {
	t.Helper()
	dir, moved, err := pglocal.ResolveDir(filepath.Join(t.TempDir(), "pg"))
	if err != nil {
		t.Fatal(err)
	}
	if moved { // the `postgres` user cannot reach t.TempDir(): a directory under the system temp dir
		t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(dir)) })
	}
	c, err = pglocal.Start(pglocal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop the private cluster: %v", err)
		}
	})
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.Exec(ctx, `CREATE DATABASE huey`)
	_ = admin.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := sql.Open("pgx", c.SuperuserURL("huey"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	if _, err := schema.Migrate(ctx, sqlDB, schema.Dir(), schema.MigrateOptions{}); err != nil {
		t.Fatalf("migrate the private cluster: %v", err)
	}
	const apiPassword = "fault-test-api-password"
	if _, err := sqlDB.ExecContext(ctx, `ALTER ROLE `+dbtest.RoleAPI+` PASSWORD '`+apiPassword+`'`); err != nil {
		t.Fatal(err)
	}
	super, err = pgxpool.New(ctx, c.SuperuserURL("huey"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(super.Close)
	return c, c.URL(dbtest.RoleAPI, apiPassword, "huey"), super
}

// faultFixture is a school (anonymous GET /school/{id}/exists) and a
// Wriveted admin (GET /auth/me): both routes read the database.
func faultFixture(t *testing.T, super *pgxpool.Pool) (schoolWID uuid.UUID, adminToken string) {
	t.Helper()
	ctx := context.Background()
	if err := super.QueryRow(ctx, `INSERT INTO schools (name, state, country_code, official_identifier, info)
		VALUES ('Fault School', 'ACTIVE', 'NZL', 'OFF-FAULT', '{}') RETURNING wriveted_identifier`).Scan(&schoolWID); err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	for _, q := range []string{
		`INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
			VALUES ($1, true, 'fault.admin@example.org', 'Fault Admin', '{}', now(), now(), 'WRIVETED')`,
		`INSERT INTO wriveted_admins (id, wriveted_admin_info) VALUES ($1, '{}')`,
	} {
		if _, err := super.Exec(ctx, q, id); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := auth.NewKeys([]byte(faultSecret), "")
	if err != nil {
		t.Fatal(err)
	}
	adminToken, err = keys.Sign(auth.Subject{Kind: auth.KindUser, ID: id}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return schoolWID, adminToken
}

// answer is one request's outcome under load.
type answer struct {
	path             string
	startPh, endPh   int32
	status           int
	retryAfter, body string
	took             time.Duration
	err              error
}

// Phases of the restart test.
const (
	phUp        int32 = iota // Postgres running
	phStopping               // pg_ctl stop -m fast in progress
	phDown                   // stopped
	phStarting               // pg_ctl start in progress
	phRestarted              // running again
)

var phaseNames = []string{"up", "stopping", "down", "starting", "restarted"}

func (a answer) String() string {
	return fmt.Sprintf("%s [%s→%s] %d Retry-After=%q took %s err=%v body=%s", a.path,
		phaseNames[a.startPh], phaseNames[a.endPh], a.status, a.retryAfter, a.took.Round(time.Millisecond), a.err,
		strings.TrimSpace(a.body))
}

// Faults (issue 12): Postgres restarted under load. While it is down every
// answer is a 503 in the error shape with Retry-After, promptly (no hang);
// nothing is ever a 500; once it is back the same server process answers
// 200 again, without a restart.
func TestHardening_Faults_PostgresRestartUnderLoad(t *testing.T) {
	t.Parallel()
	cluster, apiURL, super := privateCluster(t)
	wid, token := faultFixture(t, super)
	super.Close() // its connections would die with the restart; the test needs it no more
	base, stop, _ := startServer(t, map[string]string{
		"DATABASE_URL": apiURL, "SECRET_KEY": faultSecret, "APP_ENV": "test", "LOG_LEVEL": "warn",
		"DATABASE_POOL_SIZE": "4", "DATABASE_STATEMENT_TIMEOUT": "2s", "REQUEST_TIMEOUT": "3s",
	})

	var phase atomic.Int32
	var mu sync.Mutex
	var answers []answer
	count := func(pred func(answer) bool) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, a := range answers {
			if pred(a) {
				n++
			}
		}
		return n
	}
	client := &http.Client{Timeout: hangBound + 5*time.Second}
	paths := []struct{ path, token string }{
		{"/v1/school/" + wid.String() + "/exists", ""},
		{"/v1/auth/me", token},
	}
	loadCtx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 { // 4 clients, each one request at a time
		wg.Go(func() {
			for i := 0; loadCtx.Err() == nil && i < 100_000; i++ {
				p := paths[(w+i)%len(paths)]
				a := answer{path: p.path, startPh: phase.Load()}
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+p.path, nil)
				if p.token != "" {
					req.Header.Set("Authorization", "Bearer "+p.token)
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					a.status, a.retryAfter, a.body = resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
				}
				a.took, a.err, a.endPh = time.Since(start), err, phase.Load()
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	// waitFor waits (bounded) until at least n answers satisfy pred.
	waitFor := func(what string, n int, bound time.Duration, pred func(answer) bool) {
		t.Helper()
		deadline := time.Now().Add(bound)
		for count(pred) < n {
			if time.Now().After(deadline) {
				stopLoad()
				wg.Wait()
				t.Fatalf("%s: fewer than %d answers within %s; last answers:\n%s", what, n, bound, lastAnswers(answers, 12))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	within := func(ph int32) func(answer) bool {
		return func(a answer) bool { return a.startPh == ph && a.endPh == ph }
	}

	waitFor("before the restart", 20, 10*time.Second, within(phUp))
	phase.Store(phStopping)
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	phase.Store(phDown)
	waitFor("while Postgres is down", 20, 10*time.Second, within(phDown))
	phase.Store(phStarting)
	port := cluster.Port
	restarted, err := pglocal.Start(pglocal.Options{Dir: cluster.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if restarted.Port != port {
		t.Fatalf("the cluster came back on port %d, not %d", restarted.Port, port)
	}
	phase.Store(phRestarted)
	recovered := func(a answer) bool { return a.startPh == phRestarted && a.status == http.StatusOK }
	waitFor("after the restart", 20, 15*time.Second, recovered)
	stopLoad()
	wg.Wait()
	if err := stop(); err != nil {
		t.Fatalf("server shutdown: %v", err)
	}

	byPhase := map[string]int{}
	for _, a := range answers {
		byPhase[fmt.Sprintf("%s→%s %d", phaseNames[a.startPh], phaseNames[a.endPh], a.status)]++
		switch {
		case a.err != nil:
			t.Errorf("no answer: %v", a)
		case a.took > hangBound:
			t.Errorf("answer took longer than %s (a hang): %v", hangBound, a)
		case a.status == http.StatusServiceUnavailable:
			var d struct{ Detail string }
			if json.Unmarshal([]byte(a.body), &d) != nil || d.Detail != msgBusy || a.retryAfter == "" {
				t.Errorf("a 503 without the error shape or Retry-After: %v", a)
			}
		case a.status != http.StatusOK:
			t.Errorf("want 200 or 503, got %v", a)
		}
		// Up before the stop: every answer is 200. Down: every answer
		// is 503 — nothing can be read.
		if within(phUp)(a) && a.status != http.StatusOK {
			t.Errorf("before the restart: %v", a)
		}
		if within(phDown)(a) && a.status != http.StatusServiceUnavailable {
			t.Errorf("while Postgres was down: %v", a)
		}
	}
	t.Logf("answers by phase (start→end status): %v", byPhase)
}

func lastAnswers(as []answer, n int) string {
	var b strings.Builder
	for _, a := range as[max(0, len(as)-n):] {
		b.WriteString(a.String() + "\n")
	}
	return b.String()
}

// Faults (issue 12): SIGTERM drains in-flight requests. A request blocked
// on a lock the test holds is in flight when the context ends (what main
// does on SIGTERM): the listener closes at once (new connections are
// refused), the request completes with its 200 once the lock is released,
// and only then does run return. Past SHUTDOWN_TIMEOUT a request still in
// flight is cut off, its statement cancelled, and run returns all the same.
func TestHardening_Faults_SIGTERMDrainsInFlight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, drain string
		completes   bool // the in-flight request finishes within the drain
	}{
		{"in-flight request completes", "15s", true},
		{"past SHUTDOWN_TIMEOUT it is cut off", "300ms", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := dbtest.NewDB(t)
			super := d.SuperPool(t)
			wid, _ := faultFixture(t, super)
			base, stop, _ := startServer(t, map[string]string{
				"DATABASE_URL": d.RoleURL(dbtest.RoleAPI), "SECRET_KEY": faultSecret, "APP_ENV": "test",
				"LOG_LEVEL": "warn", "SHUTDOWN_TIMEOUT": tc.drain,
			})
			ctx := context.Background()
			lock, err := super.Begin(ctx) // readers of schools wait until it ends
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = lock.Rollback(ctx) }()
			if _, err := lock.Exec(ctx, `LOCK TABLE schools IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			type result struct {
				status int
				body   string
				err    error
			}
			inflight := make(chan result, 1)
			go func() {
				client := &http.Client{Timeout: hangBound + 10*time.Second}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/school/"+wid.String()+"/exists", nil)
				resp, err := client.Do(req)
				if err != nil {
					inflight <- result{err: err}
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				inflight <- result{status: resp.StatusCode, body: strings.TrimSpace(string(b))}
			}()
			apiWaiters := func(extra string) int {
				var n int
				if err := super.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = $1 AND application_name = 'huey-api'`+extra, d.Name).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			eventually(t, "the request waits on the lock", func() bool { return apiWaiters(` AND wait_event_type = 'Lock'`) == 1 })

			stopped := make(chan error, 1)
			go func() { stopped <- stop() }() // SIGTERM
			addr := strings.TrimPrefix(base, "http://")
			eventually(t, "new connections are refused", func() bool {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err == nil {
					c.Close()
				}
				return err != nil
			})

			if tc.completes {
				select {
				case err := <-stopped:
					t.Fatalf("run returned (%v) with a request in flight", err)
				case r := <-inflight:
					t.Fatalf("the in-flight request ended before its lock was released: %+v", r)
				default:
				}
				if err := lock.Rollback(ctx); err != nil {
					t.Fatal(err)
				}
				if r := <-inflight; r.err != nil || r.status != http.StatusOK || r.body != "true" {
					t.Fatalf("in-flight request: %+v, want 200 true", r)
				}
			} else if r := <-inflight; r.err == nil && r.status == http.StatusOK { // the lock is still held
				t.Fatalf("in-flight request answered %+v past the drain while its lock was held", r)
			}
			select {
			case err := <-stopped:
				if err != nil {
					t.Fatalf("run: %v", err)
				}
			case <-time.After(hangBound):
				t.Fatal("run did not return after the drain")
			}
			// The server's connections are gone: the cut-off statement was
			// cancelled, the pool closed.
			eventually(t, "the server's sessions end", func() bool { return apiWaiters("") == 0 })
		})
	}
}

// eventually waits (bounded, generously) until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, hangBound)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
