package db

import (
	"context"
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
