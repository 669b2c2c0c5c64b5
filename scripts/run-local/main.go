// Command run-local is what `make run` runs: a working API on this machine
// with no Docker and no database set up by hand.
//
// When DATABASE_URL is unset it starts a private Postgres cluster under
// ./.data/postgres (schema/pglocal), creates the `huey` database, applies the
// migrations (which seed the reference data: countries, hues, reading
// abilities), sets generated passwords on the login roles, writes them with a
// generated SECRET_KEY to ./.data/dev.env, seeds a database without works
// with the sample books (../shared/data/labelled-books.csv, when present),
// then starts the API (:8000) and the task server (:8001). Ctrl-C stops both
// services and then the cluster. A second run reuses the data and the secrets.
//
// When DATABASE_URL is set it only migrates (MIGRATION_DATABASE_URL, else
// DATABASE_URL) and starts both services against that database.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for Atlas

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/catalog/importcsv"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/demo"
	"github.com/wriveted/huey-api/schema/pglocal"
	"github.com/wriveted/huey-api/schema/sampledata"
	"github.com/wriveted/huey-api/scripts/internal/devenv"
)

const database = "huey"

func main() {
	serverBin := flag.String("server", ".data/bin/server", "the API server binary")
	tasksBin := flag.String("tasks", ".data/bin/tasks", "the task server binary")
	dataDir := flag.String("data", ".data", "where the private cluster and secrets live")
	seed := flag.String("seed", envOr("SEED", "demo"), "`demo`: seed a demo school and one account of each kind on the private database and print their tokens; `none`: skip")
	flag.Parse()
	if *seed != "demo" && *seed != "none" {
		fmt.Fprintf(os.Stderr, "run-local: SEED=%q: want demo or none\n", *seed)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *serverBin, *tasksBin, *dataDir, *seed == "demo"); err != nil {
		fmt.Fprintln(os.Stderr, "run-local:", err)
		os.Exit(1)
	}
}

// secrets are generated once and kept in .data/secrets.json (0600).
type secrets struct {
	SecretKey          string            `json:"secret_key"`
	InternalTaskSecret string            `json:"internal_task_secret"`
	Passwords          map[string]string `json:"passwords"`
}

var loginRoles = devenv.LoginRoles

func run(ctx context.Context, serverBin, tasksBin, dataDir string, seedDemo bool) error {
	env := map[string]string{"APP_ENV": "development"}
	ports, err := freePorts()
	if err != nil {
		return err
	}
	var seeded *demo.Result
	var cluster *pglocal.Cluster
	if os.Getenv("DATABASE_URL") == "" && os.Getenv("SQLALCHEMY_DATABASE_URI") == "" {
		var err error
		cluster, err = startCluster(dataDir)
		if err != nil {
			return err
		}
		defer func() {
			say("stopping the database")
			if err := cluster.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "run-local:", err)
			}
		}()
		sec, err := loadSecrets(filepath.Join(dataDir, "secrets.json"))
		if err != nil {
			return err
		}
		if err := createDatabase(ctx, cluster); err != nil {
			return err
		}
		if err := migrate(ctx, cluster.SuperuserURL(database)); err != nil {
			return err
		}
		if err := setPasswords(ctx, cluster, sec); err != nil {
			return err
		}
		env = devenv.For(func(r string) string { return cluster.URL(r, sec.Passwords[r], database) },
			cluster.SuperuserURL(database), sec.SecretKey, sec.InternalTaskSecret)
		if err := devenv.Write(filepath.Join(dataDir, "dev.env"), env); err != nil {
			return err
		}
		if err := seedBooks(ctx, env["STAFF_DATABASE_URL"]); err != nil {
			say("%v; the catalogue starts empty (the next run tries again)", err)
		}
		if seedDemo {
			r, err := demo.Seed(ctx, cluster.SuperuserURL(database))
			if err != nil {
				return err
			}
			if r.Created {
				say("seeded the demo school (%d books in its collection) and one account of each kind (SEED=none skips this)", r.BookCount)
			}
			seeded = &r
		}
	} else {
		u, err := db.URLFromEnv(os.Getenv)
		if err != nil {
			return err
		}
		mu := os.Getenv("MIGRATION_DATABASE_URL")
		if mu == "" {
			mu = u
		}
		if err := migrate(ctx, mu); err != nil {
			return err
		}
	}
	return services(ctx, serverBin, tasksBin, env, ports, seeded)
}

func startCluster(dataDir string) (*pglocal.Cluster, error) {
	dir, moved, err := pglocal.ResolveDir(filepath.Join(dataDir, "postgres"))
	if err != nil {
		return nil, err
	}
	if moved {
		say("the postgres user cannot reach %s, so the cluster lives in %s", filepath.Join(dataDir, "postgres"), dir)
	}
	start := time.Now()
	c, err := pglocal.Start(pglocal.Options{Dir: dir, Durable: true})
	if err != nil {
		return nil, err
	}
	say("database cluster running on 127.0.0.1:%d (%s, %s)", c.Port, dir, time.Since(start).Round(time.Millisecond))
	return c, nil
}

func createDatabase(ctx context.Context, c *pglocal.Cluster) error {
	conn, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to the private cluster: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, database).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+database); err != nil {
		return fmt.Errorf("create database %s: %w", database, err)
	}
	say("created database %s", database)
	return nil
}

func migrate(ctx context.Context, url string) error {
	applied, err := schema.MigrateURL(ctx, url, schema.MigrateOptions{Log: say})
	if err != nil {
		return fmt.Errorf("migrate %s: %w", db.Redact(url), err)
	}
	latest, _ := schema.Latest(schema.Dir())
	if len(applied) == 0 {
		say("database is up to date at %s", latest)
	}
	return nil
}

func setPasswords(ctx context.Context, c *pglocal.Cluster, sec secrets) error {
	conn, err := pgx.Connect(ctx, c.SuperuserURL(database))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, r := range loginRoles {
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", r, sec.Passwords[r])); err != nil {
			return fmt.Errorf("set the password of %s: %w", r, err)
		}
	}
	return nil
}

// seedBooks imports the sample books, shared/data/labelled-books.csv beside
// the checkout, into a database without works (a new one), so the API has a
// catalogue at once. It runs as the staff role huey_staff_rw, bound by row
// security like the import-books command, which does the same for any file.
// A failed import is rolled back whole.
func seedBooks(ctx context.Context, staffURL string) error {
	path, ok := sampledata.LabelledBooks()
	if !ok {
		say("no sample books at %s: the catalogue starts empty (import some with go run ./scripts/import-books -file PATH)", path)
		return nil
	}
	pool, err := db.Open(ctx, staffURL, "huey-run-local")
	if err != nil {
		return fmt.Errorf("seed books: %w", err)
	}
	defer pool.Close()
	var hasWorks bool
	claims := db.Claims{Kind: "staff", Role: importcsv.StaffRole, Principals: []string{"staff:run-local"}}
	if err := db.InTx(ctx, pool, claims, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM public.works)`).Scan(&hasWorks)
	}); err != nil {
		return fmt.Errorf("seed books: %w", err)
	}
	if hasWorks {
		return nil
	}
	f, err := os.Open(path) // #nosec G304 -- the checkout's sample data
	if err != nil {
		return fmt.Errorf("seed books: %w", err)
	}
	defer f.Close()
	start := time.Now()
	sum, err := importcsv.Load(ctx, pool, f, importcsv.LoadOptions{Principal: "staff:run-local"})
	if err != nil {
		return fmt.Errorf("seed books from %s: %w", path, err)
	}
	say("seeded the catalogue from %s: %d books, %d rows skipped (%s)", path, sum.Created, sum.Skipped,
		time.Since(start).Round(time.Millisecond))
	return nil
}

func loadSecrets(path string) (secrets, error) {
	var sec secrets
	if b, err := os.ReadFile(path); err == nil { // #nosec G304 -- our own file
		if err := json.Unmarshal(b, &sec); err != nil {
			return sec, fmt.Errorf("read %s: %w", path, err)
		}
	}
	changed := false
	fill := func(s *string) {
		if *s == "" {
			*s, changed = random(), true
		}
	}
	fill(&sec.SecretKey)
	fill(&sec.InternalTaskSecret)
	if sec.Passwords == nil {
		sec.Passwords = map[string]string{}
	}
	for _, r := range loginRoles {
		p := sec.Passwords[r]
		fill(&p)
		sec.Passwords[r] = p
	}
	if changed {
		b, _ := json.MarshalIndent(sec, "", "  ")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return sec, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return sec, nil
}

// services runs the API and the task server until ctx ends or one of them
// exits, then stops the other.
func services(ctx context.Context, serverBin, tasksBin string, env, ports map[string]string, seeded *demo.Result) error {
	type proc struct {
		name string
		cmd  *exec.Cmd
	}
	start := func(name, bin string) (*proc, error) {
		cmd := exec.Command(bin) // #nosec G204 -- our own binaries
		cmd.Env = os.Environ()
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Env = append(cmd.Env, "PORT="+ports[name])
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
		}
		return &proc{name: name, cmd: cmd}, nil
	}
	api, err := start("api", serverBin)
	if err != nil {
		return err
	}
	tasks, err := start("tasks", tasksBin)
	if err != nil {
		_ = api.cmd.Process.Signal(syscall.SIGTERM)
		_ = api.cmd.Wait()
		return err
	}
	exited := make(chan string, 2)
	for _, p := range []*proc{api, tasks} {
		go func() {
			_ = p.cmd.Wait()
			exited <- p.name
		}()
	}
	go announce(ctx, ports["api"], ports["tasks"], env["SECRET_KEY"], seeded)
	var failure error
	select {
	case <-ctx.Done():
	case name := <-exited:
		failure = fmt.Errorf("the %s service exited", name)
		exited <- name // keep the count for the loop below
	}
	for _, p := range []*proc{api, tasks} {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	timeout := time.After(30 * time.Second)
	for range 2 {
		select {
		case <-exited:
		case <-timeout:
			_ = api.cmd.Process.Kill()
			_ = tasks.cmd.Process.Kill()
			return errors.New("services did not stop within 30s; killed")
		}
	}
	return failure
}

// freePorts picks the API's and the task server's ports (PORT_API,
// PORT_TASKS; 8000 and 8001) and checks nothing else listens on them
// before anything starts.
func freePorts() (map[string]string, error) {
	ports := map[string]string{"api": "8000", "tasks": "8001"}
	for _, name := range []string{"api", "tasks"} {
		v := "PORT_" + strings.ToUpper(name)
		if p := os.Getenv(v); p != "" {
			ports[name] = p
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("", ports[name]))
		if err != nil {
			what, other := "the API", "8010"
			if name == "tasks" {
				what, other = "the task server", "8011"
			}
			return nil, fmt.Errorf("port %s (%s) is already in use by another program: stop it, or choose another port, e.g. `%s=%s make run`",
				ports[name], what, v, other)
		}
		_ = ln.Close()
	}
	return ports, nil
}

// ours reports whether url answers as one of our services' /v1/version
// (200, JSON with version and database_revision) — not some other program
// on the port.
func ours(ctx context.Context, url string) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var v struct {
		Version          *string `json:"version"`
		DatabaseRevision *string `json:"database_revision"`
	}
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&v) == nil && v.Version != nil && v.DatabaseRevision != nil
}

// announce tells the person at the terminal where things are once both of
// our services answer, with a ready-to-paste request per demo account.
func announce(ctx context.Context, apiPort, tasksPort, secretKey string, seeded *demo.Result) {
	api, tasks := "http://localhost:"+apiPort, "http://localhost:"+tasksPort
	for range 600 {
		if ours(ctx, "http://127.0.0.1:"+apiPort+"/v1/version") && ours(ctx, "http://127.0.0.1:"+tasksPort+"/v1/version") {
			say("ready: API %s/v1 (docs %s/v1/docs), task server %s; secrets in .data/dev.env; Ctrl-C stops everything", api, api, tasks)
			if seeded != nil {
				printDemo(os.Stderr, api, secretKey, seeded)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	say("the services did not answer on ports %s and %s within a minute; see their log lines above", apiPort, tasksPort)
}

// printDemo prints the demo accounts with a token each (valid 24 h) as
// curl lines.
func printDemo(w io.Writer, api, secretKey string, r *demo.Result) {
	keys, err := auth.NewKeys([]byte(secretKey), "")
	if err != nil {
		say("cannot sign demo tokens: %v", err)
		return
	}
	fmt.Fprintf(w, "\nDemo school \"Huey Demo School\" (%s): class Room 1, join code %s, student username %s; %d books in its collection.\n",
		demo.SchoolWID, demo.JoinCode, demo.StudentUsername, r.BookCount)
	fmt.Fprintln(w, "Tokens valid for 24 h (run `make run` again for new ones):")
	for _, a := range demo.Accounts {
		sub := auth.Subject{Kind: auth.KindUser, ID: a.ID}
		path := "/v1/auth/me"
		if a.ServiceAccount {
			sub.Kind = auth.KindServiceAccount
			path = "/v1/collection/" + demo.CollectionID.String()
		}
		tok, err := keys.Sign(sub, 24*time.Hour, time.Now())
		if err != nil {
			say("sign a demo token: %v", err)
			return
		}
		fmt.Fprintf(w, "  %-15s curl -H 'Authorization: Bearer %s' %s%s\n", a.Label, tok, api, path)
	}
	fmt.Fprintln(w)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "run-local: "+format+"\n", args...)
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
