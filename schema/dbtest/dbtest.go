// Package dbtest is the test harness for everything that touches Postgres.
//
// Each test package calls Main from its TestMain. When TEST_DATABASE_URL is
// unset, Main starts (or joins) one private cluster shared by every test
// process of the `go test` run, using the same launcher as `make run`
// (schema/pglocal); the last process to leave stops it. Its data directory is
// kept between runs, so a warm run reuses both the cluster and the migrated
// template database. When Postgres cannot be started the tests fail loudly;
// they never skip.
//
// NewDB gives a test its own database, cloned from a template migrated once
// (pgtestdb), so tests run in parallel and nothing is truncated. Tx gives a
// test a transaction that is rolled back at cleanup.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for pgtestdb and Atlas
	"github.com/peterldowns/pgtestdb"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/pglocal"
)

// Roles the migrations create (DECISIONS.md §2) and that tests log in as.
const (
	RoleAPI     = "huey_api"
	RoleOwner   = "huey_owner"
	RoleStaffRO = "huey_staff_ro"
	RoleStaffRW = "huey_staff_rw"
)

// server describes the Postgres server the harness uses.
type server struct {
	host, port       string
	user, password   string // a superuser
	rolePassword     string // shared by the login roles in tests
	migratorPassword string
	release          func()
}

// The harness state is set once by Main and read by every test.
var (
	current  *server   //nolint:gochecknoglobals // set once in TestMain
	rolesSet sync.Once //nolint:gochecknoglobals
	rolesErr error     //nolint:gochecknoglobals
)

// Main sets up the database server, runs the tests and tears down. Use it as
// `func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }`.
func Main(m *testing.M) int {
	srv, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest: cannot provide a database for the tests:", err)
		return 1
	}
	current = srv
	code := m.Run()
	srv.release()
	return code
}

func setup() (*server, error) {
	if raw := os.Getenv("TEST_DATABASE_URL"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			return nil, errors.New("TEST_DATABASE_URL must be a postgres:// URL with a superuser and password")
		}
		pw, _ := u.User.Password()
		return newServer(u.Hostname(), u.Port(), u.User.Username(), pw, func() {}), nil
	}
	root, err := pglocal.ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir, _, err := pglocal.ResolveDir(filepath.Join(root, ".data", "test-postgres"))
	if err != nil {
		return nil, err
	}
	c, release, err := joinShared(dir)
	if err != nil {
		return nil, err
	}
	return newServer("127.0.0.1", fmt.Sprint(c.Port), "postgres", c.Password, release), nil
}

func newServer(host, port, user, password string, release func()) *server {
	derive := func(what string) string {
		sum := sha256.Sum256([]byte(password + "/" + what))
		return hex.EncodeToString(sum[:16])
	}
	if port == "" {
		port = "5432"
	}
	return &server{host: host, port: port, user: user, password: password,
		rolePassword: derive("roles"), migratorPassword: derive("migrator"), release: release}
}

// joinShared starts the shared test cluster unless another test process
// already did, and registers this process as a user of it; release stops the
// cluster when no other process is using it.
func joinShared(dir string) (*pglocal.Cluster, func(), error) {
	var c *pglocal.Cluster
	release, err := pglocal.JoinShared(dir,
		func() (err error) { c, err = pglocal.Start(pglocal.Options{Dir: dir}); return err },
		func() error { return c.Stop() })
	return c, release, err
}

func mustServer(t testing.TB) *server {
	t.Helper()
	if current == nil {
		t.Fatal("dbtest: the package's TestMain must call dbtest.Main")
	}
	return current
}

// migrator builds the template database with our migrations, as a
// non-superuser owner with CREATEROLE — what a managed Postgres gives us.
type migrator struct{}

func (migrator) Hash() (string, error) {
	dir := schema.Dir()
	sum, err := dir.Checksum()
	if err != nil {
		return "", err
	}
	return sum.Sum(), nil
}

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	_, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{})
	return err
}

// DB is one test's private database.
type DB struct {
	srv  *server
	Name string
}

// NewDB returns a fresh, fully migrated database for t, dropped at cleanup
// (kept when the test fails, for inspection).
func NewDB(t testing.TB) *DB {
	t.Helper()
	srv := mustServer(t)
	conf := pgtestdb.Config{
		DriverName: "pgx",
		Host:       srv.host, Port: srv.port,
		User: srv.user, Password: srv.password,
		Database: "postgres", Options: "sslmode=disable",
		TestRole: &pgtestdb.Role{
			Username:     "huey_test_migrator",
			Password:     srv.migratorPassword,
			Capabilities: "NOSUPERUSER CREATEROLE CREATEDB NOBYPASSRLS",
		},
		ForceTerminateConnections: true,
	}
	inst := pgtestdb.Custom(t, conf, migrator{})
	d := &DB{srv: srv, Name: inst.Database}
	rolesSet.Do(func() { rolesErr = d.setRolePasswords() })
	if rolesErr != nil {
		t.Fatalf("dbtest: set role passwords: %v", rolesErr)
	}
	return d
}

// setRolePasswords lets the test log in as the roles the migrations create.
// Roles are cluster-wide and shared by concurrent test processes: when the
// passwords already work nothing is changed; otherwise they are set under a
// lock, retrying a concurrent catalog update.
func (d *DB) setRolePasswords() error {
	ctx := context.Background()
	loginsWork := func() bool {
		for _, r := range []string{RoleAPI, RoleOwner, RoleStaffRO, RoleStaffRW} {
			c, err := pgx.Connect(ctx, d.RoleURL(r))
			if err != nil {
				return false
			}
			_ = c.Close(ctx)
		}
		return true
	}
	if loginsWork() {
		return nil
	}
	var err error
	for range 5 {
		if err = d.alterRolePasswords(ctx); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

func (d *DB) alterRolePasswords(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.URL(d.srv.user, d.srv.password))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(727274)`); err != nil {
			return err
		}
		for _, r := range []string{RoleAPI, RoleOwner, RoleStaffRO, RoleStaffRW} {
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", r, d.srv.rolePassword)); err != nil {
				return err
			}
		}
		return nil
	})
}

// URL is the database's URL for a login.
func (d *DB) URL(user, password string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: d.srv.host + ":" + d.srv.port, Path: "/" + d.Name, RawQuery: "sslmode=disable"}
	return u.String()
}

// RoleURL is the URL for one of the roles the migrations create.
func (d *DB) RoleURL(role string) string { return d.URL(role, d.srv.rolePassword) }

// SuperuserURL is the URL of a superuser; only for fixtures and inspection.
func (d *DB) SuperuserURL() string { return d.URL(d.srv.user, d.srv.password) }

// Pool opens a pool on the database as role, closed at cleanup.
func (d *DB) Pool(t testing.TB, role string) *pgxpool.Pool {
	t.Helper()
	return openPool(t, d.RoleURL(role))
}

// SuperPool opens a superuser pool (bypasses RLS): fixtures and catalog
// inspection only, never the code under test.
func (d *DB) SuperPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return openPool(t, d.SuperuserURL())
}

func openPool(t testing.TB, u string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatalf("dbtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Tx begins a transaction on pool that is rolled back at cleanup.
func Tx(t testing.TB, pool *pgxpool.Pool) pgx.Tx {
	t.Helper()
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatalf("dbtest: begin: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

// As switches tx to huey_app with claims (a JSON object), for RLS tests.
func As(t testing.TB, tx pgx.Tx, claimsJSON string) {
	t.Helper()
	if _, err := tx.Exec(context.Background(),
		`SELECT set_config('role', 'huey_app', true), set_config('request.jwt.claims', $1, true)`, claimsJSON); err != nil {
		t.Fatalf("dbtest: act as %s: %v", strings.TrimSpace(claimsJSON), err)
	}
}

// EmptyDB returns a new database with nothing in it (no migrations), owned
// by a superuser and dropped at cleanup: for testing the migrator itself.
// The roles of the migrations exist cluster-wide once any NewDB has run.
//
// Migrating an empty database alters cluster-wide roles, which Postgres
// refuses to do concurrently ("tuple concurrently updated"). So EmptyDB first
// makes sure the migrated template exists (its build is serialised by
// pgtestdb), then holds a cluster-wide lock until the test ends: one
// migrator test at a time, across every test process of the run.
func EmptyDB(t testing.TB) *DB {
	t.Helper()
	NewDB(t)
	srv := mustServer(t)
	ctx := context.Background()
	admin := &DB{srv: srv, Name: "postgres"}
	lock, err := pgx.Connect(ctx, admin.SuperuserURL())
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_lock(7411520937)`); err != nil {
		t.Fatalf("dbtest: lock the migrator tests: %v", err)
	}
	t.Cleanup(func() { _ = lock.Close(context.Background()) }) // closing releases the lock
	conn, err := pgx.Connect(ctx, admin.SuperuserURL())
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	name := "huey_empty_" + newName()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin.SuperuserURL())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return &DB{srv: srv, Name: name}
}

func newName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CountingPool opens a pool as role whose connections count their writes to
// the server: each write is one network round trip, since the client waits
// for the answer before writing again. maxConns 0 keeps pgx's default.
func (d *DB) CountingPool(t testing.TB, role string, maxConns int32) (*pgxpool.Pool, *atomic.Int64) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(d.RoleURL(role))
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
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
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(context.Background()); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return pool, writes
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}
