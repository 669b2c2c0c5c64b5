package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Open creates a connection pool for url and checks that it can connect.
// application names the service in pg_stat_activity.
func Open(ctx context.Context, databaseURL, application string) (*pgxpool.Pool, error) {
	return OpenPool(ctx, databaseURL, application, PoolOptions{})
}

// PoolOptions shape the API's pool.
type PoolOptions struct {
	// MaxConns bounds the pool; 0 keeps the URL's pool_max_conns, or pgx's
	// default (max(4, number of CPUs)) without one.
	MaxConns int32
	// StatementTimeout, when set, is every statement's statement_timeout
	// and, with a margin, the idle_in_transaction_session_timeout of the
	// pool's connections: Postgres cancels a statement that runs longer and
	// ends a session left idle inside a transaction.
	StatementTimeout time.Duration
}

// OpenPool is Open with options.
func OpenPool(ctx context.Context, databaseURL, application string, o PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %s", Redact(databaseURL))
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = application
	if o.StatementTimeout > 0 {
		ms := o.StatementTimeout.Milliseconds()
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(ms, 10)
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(2*ms, 10)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", Redact(databaseURL), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s: %w", Redact(databaseURL), err)
	}
	return pool, nil
}

// Redact hides the password of a database URL for logs and error messages.
func Redact(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || u.User == nil {
		if strings.Contains(databaseURL, "@") {
			return "[redacted]"
		}
		return databaseURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	return u.String()
}

// DatabaseRevision returns the latest applied migration version, or
// "development" when none is recorded. It runs as an anonymous request.
func DatabaseRevision(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var rev string
	err := Read(ctx, pool, Anonymous(), func(b *pgx.Batch) {
		b.Queue(`SELECT coalesce(huey.database_revision(), 'development')`).QueryRow(func(r pgx.Row) error {
			return r.Scan(&rev)
		})
	})
	if err != nil {
		return "", fmt.Errorf("read database revision: %w", err)
	}
	return rev, nil
}

// CheckServing refuses to serve a database this binary cannot serve safely
// (issue 14), with one line saying what to do:
//   - not migrated, or behind: its latest applied migration is older than
//     latest (the binary's newest migration) — run `server migrate`. A
//     database ahead of the binary is served (a rolling deploy migrates
//     before the old revision stops);
//   - the login is a superuser or has BYPASSRLS: row security would not bind
//     it — unless allowBypass (ALLOW_BYPASSRLS=1, for a documented reason).
func CheckServing(ctx context.Context, pool *pgxpool.Pool, latest string, allowBypass bool) error {
	var (
		login          string
		super, bypass  bool
		schemaMigrated bool
	)
	// The catalogue only, before any claims: the app role may not exist yet.
	err := pool.QueryRow(ctx, `SELECT session_user, r.rolsuper, r.rolbypassrls, to_regprocedure('huey.database_revision()') IS NOT NULL
FROM pg_catalog.pg_roles r WHERE r.rolname = session_user`).Scan(&login, &super, &bypass, &schemaMigrated)
	if err != nil {
		return fmt.Errorf("check the database: %w", err)
	}
	if (super || bypass) && !allowBypass {
		return fmt.Errorf("refusing to serve: the database login %q is a superuser or has BYPASSRLS, so row-level security would not bind it; use the huey_api login (set ALLOW_BYPASSRLS=1 only if you must, and know why)", login)
	}
	if !schemaMigrated {
		return errors.New("refusing to serve: the database is not migrated (no huey schema); run `server migrate` first (or `server migrate -baseline …` for a database of the original service)")
	}
	rev, err := DatabaseRevision(ctx, pool)
	if err != nil {
		return err
	}
	if rev == "development" || rev < latest {
		return fmt.Errorf("refusing to serve: the database is at migration %s but this binary needs %s; run `server migrate` first", rev, latest)
	}
	return nil
}
