package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/wriveted/huey-api/schema/benchdata"
)

// maxRequestsPerRun bounds a load run by count as well as by time.
const maxRequestsPerRun = 2_000_000

type httpResult struct {
	Requests, Errors int
	RPS              float64
	P50, P99         time.Duration
	ErrorSamples     []string
}

type patchResult struct {
	Adds, Updates, Removes int
	Before, After          int
	Status                 int
	Took, Restore          time.Duration
}

// apiServer is the real server binary, started by the bench.
type apiServer struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

// startServer builds ./server and runs it against the bench database as
// the API login, with a fresh SECRET_KEY, APP_ENV=test and the default log
// level (its JSON log goes to dir/server.log).
func startServer(ctx context.Context, t *target, dir, secret string) (*apiServer, error) {
	bin := filepath.Join(dir, "server")
	say("building the server binary")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./server") // #nosec G204
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go build ./server: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin) // #nosec G204 -- our build
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + t.urlFor(roleAPI, t.rolePassword),
		"SECRET_KEY=" + secret, "APP_ENV=test", "PORT=" + strconv.Itoa(port),
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches the bench, which stops it
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start the server: %w", err)
	}
	s := &apiServer{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/v1/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("the server exited at start-up:\n%s", tailFile(filepath.Join(dir, "server.log"), 10))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("the server did not answer /v1/version within 30s")
		}
	}
	say("server pid %d on %s", cmd.Process.Pid, s.base)
	return s, nil
}

func (s *apiServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path) // #nosec G304 -- our log
	return tail(string(b), n)
}

// mintToken signs a token the original's way: HS256 over sub, iat, exp.
func mintToken(secret []byte, sub string, now time.Time, ttl time.Duration) (string, error) {
	tok, err := jwt.NewBuilder().Subject(sub).IssuedAt(now).Expiration(now.Add(ttl)).Build()
	if err != nil {
		return "", err
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256, secret))
	return string(b), err
}

// procMemory reads VmRSS and VmHWM (kB) of pid.
func procMemory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return parseProcStatus(f)
}

func parseProcStatus(r io.Reader) (rss, hwm int64, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	if rss == 0 || hwm == 0 {
		return rss, hwm, errors.New("no VmRSS/VmHWM in /proc status")
	}
	return rss, hwm, sc.Err()
}

// load runs c workers against next() until d has passed or maxRequests
// were sent; each request's latency is recorded, non-200 answers and
// transport errors counted (with a few samples).
func load(ctx context.Context, client *http.Client, c int, d time.Duration, maxRequests int, next func(r *rand.Rand) (*http.Request, error)) httpResult {
	var (
		mu      sync.Mutex
		lat     []time.Duration
		res     httpResult
		sent    int64
		sentMu  sync.Mutex
		wg      sync.WaitGroup
		started = time.Now()
	)
	deadline := started.Add(d)
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano()))) // #nosec G404 -- load mix
			var mine []time.Duration
			var errs int
			var samples []string
			for time.Now().Before(deadline) && ctx.Err() == nil {
				sentMu.Lock()
				if sent >= int64(maxRequests) {
					sentMu.Unlock()
					break
				}
				sent++
				sentMu.Unlock()
				req, err := next(rng)
				if err != nil {
					errs++
					samples = append(samples, err.Error())
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					errs++
					if len(samples) < 3 {
						samples = append(samples, req.URL.Path+": "+err.Error())
					}
					continue
				}
				var body []byte
				if resp.StatusCode != http.StatusOK {
					body, _ = io.ReadAll(io.LimitReader(resp.Body, 300))
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					errs++
					if len(samples) < 3 {
						samples = append(samples, fmt.Sprintf("%s %s: %d %s", req.Method, req.URL.RequestURI(), resp.StatusCode, body))
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.Errors += errs
			for _, s := range samples {
				if len(res.ErrorSamples) < 5 {
					res.ErrorSamples = append(res.ErrorSamples, s)
				}
			}
			mu.Unlock()
		}(uint64(w + 1))
	}
	wg.Wait()
	elapsed := time.Since(started)
	res.Requests = len(lat)
	res.RPS = float64(len(lat)-min(res.Errors, len(lat))) / elapsed.Seconds()
	res.P50, res.P99 = percentile(lat, 50), percentile(lat, 99)
	return res
}

// xacts reads the bench database's committed + rolled-back transactions
// (one transaction of its own; a new transaction sees fresh statistics).
func xacts(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var n int64
	err := conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n, err
}

// statsFlush is how long to wait before reading pg_stat_database: a backend
// flushes its counters at the end of a transaction only when its last flush
// is over 1 s old (PGSTAT_MIN_INTERVAL); otherwise an idle backend keeps
// them until PGSTAT_IDLE_INTERVAL (10 s). So after the load stops, the
// server's pooled connections report their last second only after ~10 s.
const statsFlush = 10500 * time.Millisecond

func runHTTP(ctx context.Context, t *target, o options, dir string, r *report) error {
	secret := randomHex(32) // 64 bytes
	srv, err := startServer(ctx, t, dir, secret)
	if err != nil {
		return err
	}
	defer func() { say("stopping the server"); srv.stop() }()

	accounts := min(1000, o.size.Schools)
	now := time.Now()
	tokens := make([]string, accounts+1)
	for n := 1; n <= accounts; n++ {
		if tokens[n], err = mintToken([]byte(secret), "Wriveted:User-Account:"+benchdata.UserID(n, 1), now, 2*time.Hour); err != nil {
			return err
		}
	}
	say("minted %d school admins' tokens", accounts)
	superConn, err := pgx.Connect(ctx, t.superuserURL())
	if err != nil {
		return err
	}
	defer superConn.Close(context.WithoutCancel(ctx))

	requestFor := func(row string) func(rng *rand.Rand) (*http.Request, error) {
		return func(rng *rand.Rand) (*http.Request, error) {
			n := 1 + rng.IntN(accounts)
			var path string
			if row == "a" {
				path = "/v1/edition/" + benchdata.ISBN(1+rng.IntN(o.size.Editions))
			} else {
				path = "/v1/collection/" + benchdata.CollectionID(n) + "/items?limit=20"
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.base+path, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tokens[n])
			return req, nil
		}
	}
	newClient := func(c int) *http.Client {
		return &http.Client{Transport: &http.Transport{
			MaxIdleConns: c, MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true,
			IdleConnTimeout: time.Minute,
		}, Timeout: 30 * time.Second}
	}
	// Warm-up (connections, prepared statements, caches) of both routes,
	// then wait for the statistics to settle; each measurement's
	// transactions are the difference of two snapshots statsFlush after it.
	maxC := slices.Max(o.conc)
	for _, row := range []string{"a", "b"} {
		say("HTTP (%s): 1 s warm-up at c=%d", row, maxC)
		cl := newClient(maxC)
		_ = load(ctx, cl, maxC, time.Second, maxRequestsPerRun, requestFor(row))
		cl.CloseIdleConnections()
	}
	say("waiting %s for pg_stat_database to settle", statsFlush)
	if err := sleep(ctx, statsFlush); err != nil {
		return err
	}
	before, err := xacts(ctx, superConn)
	if err != nil {
		return err
	}
	for _, row := range []string{"a", "b"} {
		for _, c := range o.conc {
			client := newClient(c)
			say("HTTP (%s) c=%d: %s", row, c, o.duration)
			res := load(ctx, client, c, o.duration, maxRequestsPerRun, requestFor(row))
			if ctx.Err() != nil {
				return ctx.Err()
			}
			client.CloseIdleConnections()
			if err := sleep(ctx, statsFlush); err != nil {
				return err
			}
			after, err := xacts(ctx, superConn)
			if err != nil {
				return err
			}
			tpr := 0.0
			if res.Requests > 0 { // minus the snapshot's own transaction
				tpr = float64(after-before-1) / float64(res.Requests)
			}
			before = after
			r.setHTTP(row, c, res, tpr)
			for _, s := range res.ErrorSamples {
				r.httpErrors = append(r.httpErrors, fmt.Sprintf("(%s) c=%d: %s", row, c, s))
			}
			say("  %d requests, %.0f rps, p50 %s ms, p99 %s ms, %d errors, %.2f tx/request", res.Requests, res.RPS,
				ms(res.P50), ms(res.P99), res.Errors, tpr)
		}
	}
	p, err := runPatch(ctx, t, o, srv, superConn, secret)
	if err != nil {
		return err
	}
	r.patch = p
	if r.rssKB, r.hwmKB, err = procMemory(srv.cmd.Process.Pid); err != nil {
		return err
	}
	return nil
}

type itemUpdate struct {
	Action          string         `json:"action"`
	EditionISBN     string         `json:"edition_isbn"`
	CopiesTotal     *int           `json:"copies_total,omitempty"`
	CopiesAvailable *int           `json:"copies_available,omitempty"`
	Info            map[string]any `json:"info,omitempty"`
}

// runPatch sends the LMS batch: PATCH /v1/collection/{id} of the LMS
// school's (Schools+2) collection with its LMS account's token: adds of
// editions the collection does not hold, updates and removes of items it
// holds (50/40/10 %), in a shuffled order. A second, untimed PATCH restores
// the collection's contents so the next run finds the same state.
func runPatch(ctx context.Context, t *target, o options, srv *apiServer, super *pgx.Conn, secret string) (*patchResult, error) {
	school := o.size.Schools + 2
	cid := benchdata.CollectionID(school)
	total := min(10_000, o.size.LMSItems/5)
	p := &patchResult{Adds: total / 2, Updates: total * 2 / 5}
	p.Removes = total - p.Adds - p.Updates
	rows, err := super.Query(ctx, `SELECT edition_isbn FROM public.collection_items WHERE collection_id = $1 AND edition_isbn IS NOT NULL`, cid)
	if err != nil {
		return nil, err
	}
	held, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	p.Before = len(held)
	in := make(map[string]bool, len(held))
	for _, s := range held {
		in[s] = true
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)) // #nosec G404
	var adds []string
	for _, i := range rng.Perm(o.size.Editions) {
		if s := benchdata.ISBN(i + 1); !in[s] {
			adds = append(adds, s)
			if len(adds) == p.Adds {
				break
			}
		}
	}
	if len(adds) < p.Adds || len(held) < p.Updates+p.Removes {
		return nil, fmt.Errorf("the LMS collection cannot take the batch (holds %d of %d editions)", len(held), o.size.Editions)
	}
	rng.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
	updates, removes := held[:p.Updates], held[p.Updates:p.Updates+p.Removes]
	two, one := 2, 1
	stamp := time.Now().UTC().Format(time.RFC3339)
	var items []itemUpdate
	for _, s := range adds {
		items = append(items, itemUpdate{Action: "add", EditionISBN: s, CopiesTotal: &two, CopiesAvailable: &one})
	}
	for _, s := range updates {
		items = append(items, itemUpdate{Action: "update", EditionISBN: s, CopiesTotal: &two, CopiesAvailable: &one,
			Info: map[string]any{"bench": stamp}})
	}
	for _, s := range removes {
		items = append(items, itemUpdate{Action: "remove", EditionISBN: s})
	}
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	token, err := mintToken([]byte(secret), "wriveted:service-account:"+benchdata.LMSAccountID(school), time.Now(), time.Hour)
	if err != nil {
		return nil, err
	}
	say("LMS PATCH: %d items (%d add, %d update, %d remove) on the %d-item collection of school %d",
		len(items), p.Adds, p.Updates, p.Removes, p.Before, school)
	status, size, took, err := patch(ctx, srv.base+"/v1/collection/"+cid, token, items)
	if err != nil {
		return nil, err
	}
	p.Status, p.After, p.Took = status, size, took
	if status != http.StatusOK {
		return p, fmt.Errorf("LMS PATCH answered %d", status)
	}
	// Restore: remove what was added, add back what was removed.
	var back []itemUpdate
	for _, s := range adds {
		back = append(back, itemUpdate{Action: "remove", EditionISBN: s})
	}
	for _, s := range removes {
		back = append(back, itemUpdate{Action: "add", EditionISBN: s, CopiesTotal: &one, CopiesAvailable: &one})
	}
	status, _, p.Restore, err = patch(ctx, srv.base+"/v1/collection/"+cid, token, back)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return p, fmt.Errorf("restoring PATCH answered %d", status)
	}
	return p, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func patch(ctx context.Context, u, token string, items []itemUpdate) (status, size int, took time.Duration, err error) {
	body, err := json.Marshal(map[string]any{"items": items})
	if err != nil {
		return 0, 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, u, bytes.NewReader(body))
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("LMS PATCH: %w", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	took = time.Since(t0)
	if resp.StatusCode != http.StatusOK {
		say("LMS PATCH answered %d: %.300s", resp.StatusCode, out)
		return resp.StatusCode, 0, took, nil
	}
	var summary struct {
		CollectionSize int `json:"collection_size"`
	}
	_ = json.Unmarshal(out, &summary)
	return resp.StatusCode, summary.CollectionSize, took, nil
}
