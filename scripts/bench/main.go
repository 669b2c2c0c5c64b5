// Command bench is `make bench`: in one sitting it measures the API's two
// hottest reads over HTTP against the database ceiling for the same answers,
// and prints one table of ratios (docs/performance.md says how to read it).
//
//  1. A private Postgres 15 cluster under .data/bench-postgres (or the server
//     of BENCH_DATABASE_URL, a superuser URL), a database migrated and loaded
//     with the benchmark fixture (schema/benchdata); reused while the
//     migrations and the fixture are unchanged (-fresh rebuilds it).
//  2. pgbench, pipelined (one round trip per transaction, as db.Read), as the
//     API login with the API's claims and role: the API's own SQL for
//     (a) GET /v1/edition/{isbn} and (b) GET /v1/collection/{id}/items?limit=20,
//     generated from the Go constants the handlers use; then the ideal SQL for
//     the same answers (ideal.go).
//  3. The real server binary under a Go load generator (1,000 school admins'
//     tokens, keep-alive, loopback), the same two routes at each concurrency;
//     transactions per request from pg_stat_database.
//  4. The LMS PATCH of 10,000 items on the 50,000-item collection.
//  5. The server's RSS.
//
// Everything it starts (server, cluster) stops on exit and on Ctrl-C.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for Atlas

	"github.com/wriveted/huey-api/schema/benchdata"
)

// small is -small: the same shapes at a tenth of the size, for quick runs.
var small = benchdata.Size{Schools: 100, Members: 6, Editions: 20_000, Items: 200, BigItems: 2_000, LMSItems: 10_000}

type options struct {
	size        benchdata.Size
	sizeName    string
	fresh       bool
	duration    time.Duration
	conc        []int
	dataDir     string
	skipHTTP    bool
	skipPgbench bool
	keepLogs    bool
}

func main() {
	var o options
	smallFlag := flag.Bool("small", false, "a tenth of the fixture (100 schools, 20k editions) for a quick run")
	flag.BoolVar(&o.fresh, "fresh", false, "rebuild the bench database even if its fixture is current")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "duration of each measurement (pgbench run or HTTP load)")
	concFlag := flag.String("c", "8,32", "concurrencies (pgbench clients and HTTP connections), comma-separated")
	flag.StringVar(&o.dataDir, "data", ".data", "where the bench cluster, server log and pgbench logs live")
	flag.BoolVar(&o.skipHTTP, "no-http", false, "skip the HTTP part (server, load, PATCH, RSS)")
	flag.BoolVar(&o.skipPgbench, "no-pgbench", false, "skip the pgbench part")
	flag.Parse()
	o.size, o.sizeName = benchdata.Full, "full"
	if *smallFlag {
		o.size, o.sizeName = small, "small"
	}
	for _, s := range strings.Split(*concFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 256 {
			fmt.Fprintf(os.Stderr, "bench: -c %q: want concurrencies such as 8,32\n", *concFlag)
			os.Exit(2)
		}
		o.conc = append(o.conc, n)
	}
	if o.duration < time.Second || o.duration > 2*time.Minute {
		fmt.Fprintln(os.Stderr, "bench: -d must be between 1s and 2m")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) (err error) {
	started := time.Now()
	workDir, err := filepath.Abs(filepath.Join(o.dataDir, "bench"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil { // #nosec G301 -- pgbench logs, read by us
		return err
	}
	t, err := openTarget(o)
	if err != nil {
		return err
	}
	if t.cluster != nil {
		defer func() {
			say("stopping the bench cluster")
			if serr := t.cluster.Stop(); serr != nil && err == nil {
				err = serr
			}
		}()
	}
	if err := prepareDatabase(ctx, t, o.size, o.fresh); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rep := &report{size: o.sizeName, z: o.size, duration: o.duration, conc: o.conc}
	if err := checkSameAnswers(ctx, t, o.size, rep); err != nil {
		return err
	}
	if !o.skipPgbench {
		if err := runPgbench(ctx, t, o, workDir, rep); err != nil {
			return err
		}
	}
	if !o.skipHTTP {
		if err := runHTTP(ctx, t, o, workDir, rep); err != nil {
			return err
		}
	}
	rep.elapsed = time.Since(started)
	rep.print(os.Stdout)
	return nil
}

// openTarget starts the private cluster, or takes BENCH_DATABASE_URL.
func openTarget(o options) (*target, error) {
	name := "huey_bench"
	if o.sizeName != "full" {
		name += "_" + o.sizeName
	}
	if raw := os.Getenv("BENCH_DATABASE_URL"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.User == nil {
			return nil, errors.New("BENCH_DATABASE_URL must be a postgres:// URL with a superuser and password")
		}
		pw, _ := u.User.Password()
		u = withDB(u, name)
		if u.Query().Get("sslmode") == "" {
			q := u.Query()
			q.Set("sslmode", "disable")
			u.RawQuery = q.Encode()
		}
		return &target{superURL: u, rolePassword: derivePassword(pw, "roles")}, nil
	}
	c, err := startCluster(o.dataDir)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(c.SuperuserURL(name))
	if err != nil {
		_ = c.Stop()
		return nil, err
	}
	return &target{superURL: u, rolePassword: derivePassword(c.Password, "roles"), cluster: c}, nil
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
