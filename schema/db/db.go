// Package db is the one door to the database for the services and scripts.
//
// Invariant it protects: every statement runs inside a transaction that
// carries the caller's claims (`request.jwt.claims`) and the role the
// request runs as (`huey_app` for the API), both set with
// set_config(…, true) so they end with the transaction and never reach the
// next borrower of a pooled connection. They travel in the same network
// round trip as the first statement. Row-level security in Postgres then
// decides which rows exist for that caller. The bare pool has no claims and
// sees no protected rows.
//
// pgx.ErrNoRows becomes ErrNotFound here and nowhere else.
//
// db imports nothing from server, tasks or scripts.
package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a query expected a row and found none
// (missing, or hidden from the caller by row-level security).
var ErrNotFound = errors.New("not found")

// AppRole is the role every API request runs as; RLS policies name it.
const AppRole = "huey_app"

// Claims is what `request.jwt.claims` holds for one request (DECISIONS §3).
// Policies read it through the huey.* helper functions.
type Claims struct {
	Sub        string   `json:"sub,omitempty"`
	Kind       string   `json:"kind"` // user, service_account, anonymous, staff
	UserType   string   `json:"user_type,omitempty"`
	ID         string   `json:"id,omitempty"`
	Principals []string `json:"principals"`
	SchoolIDs  []int64  `json:"school_ids"`
	ChildIDs   []string `json:"child_ids"`
	IsAdmin    bool     `json:"is_admin"`
	// SubjectKind and SubjectID name the account being signed in, for the
	// huey.authenticate() door (Kind "authenticating").
	SubjectKind string `json:"subject_kind,omitempty"`
	SubjectID   string `json:"subject_id,omitempty"`
	// Role is the database role the transaction runs as; empty means AppRole.
	Role string `json:"-"`
}

// Anonymous returns the claims of an unauthenticated request on a public
// route: it sees only public rows.
func Anonymous() Claims {
	return Claims{Kind: "anonymous", Principals: []string{"system:everyone"}, SchoolIDs: []int64{}, ChildIDs: []string{}}
}

func (c Claims) role() string {
	if c.Role == "" {
		return AppRole
	}
	return c.Role
}

func (c Claims) encode() (string, error) {
	if c.Principals == nil {
		c.Principals = []string{}
	}
	if c.SchoolIDs == nil {
		c.SchoolIDs = []int64{}
	}
	if c.ChildIDs == nil {
		c.ChildIDs = []string{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	return string(b), nil
}

// SetClaimsSQL sets role ($1) and claims ($2) for the current transaction
// only. Read and InTx send it first; `make bench` sends the same text.
const SetClaimsSQL = `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`

// Read runs the queries that queue adds to the batch in a single network
// round trip: role and claims first, then the queries, all in one implicit
// transaction (one Sync). Use it for requests that only read. Results are
// delivered to the callbacks registered on each queued query
// (b.Queue(sql, args...).QueryRow(func(pgx.Row) error {...})).
func Read(ctx context.Context, pool *pgxpool.Pool, claims Claims, queue func(b *pgx.Batch)) error {
	enc, err := claims.encode()
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(SetClaimsSQL, claims.role(), enc)
	queue(b)
	return mapErr(pool.SendBatch(ctx, b).Close())
}

// InTx runs fn in one transaction carrying claims, and commits when fn
// returns nil (rolls back otherwise). BEGIN, role and claims travel in the
// same round trip as the first statement fn sends. A transaction Postgres
// aborts for a deadlock or a serialization failure is run again, up to
// txAttempts times in all (see Retryable).
func InTx(ctx context.Context, pool *pgxpool.Pool, claims Claims, fn func(tx *Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = inTxOnce(ctx, pool, claims, fn)
		if attempt == txAttempts || !Retryable(err) || ctx.Err() != nil {
			return err
		}
	}
}

// txAttempts bounds InTx's runs of one transaction: a deadlock or a
// serialization failure aborts one of the transactions involved, and
// running it again (after the other committed) is Postgres's remedy.
const txAttempts = 3

// Retryable reports a transaction Postgres aborted so another could go on
// (deadlock_detected 40P01, serialization_failure 40001): nothing of it was
// written, and the same transaction may succeed when run again. InTx runs fn
// again for these, so fn must only set, never accumulate, what it returns
// through its closure.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func inTxOnce(ctx context.Context, pool *pgxpool.Pool, claims Claims, fn func(tx *Tx) error) error {
	enc, err := claims.encode()
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	tx := &Tx{conn: conn.Conn(), role: claims.role(), claims: enc}
	err = fn(tx)
	if tx.tx == nil {
		return mapErr(err)
	}
	if err != nil {
		_ = tx.tx.Rollback(context.WithoutCancel(ctx))
		return mapErr(err)
	}
	if err := tx.tx.Commit(ctx); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// IsNotFound reports whether err is a query that expected a row and found
// none (pgx.ErrNoRows, or ErrNotFound once mapped): the one test for "no row"
// outside this package.
func IsNotFound(err error) bool {
	return errors.Is(err, pgx.ErrNoRows) || errors.Is(err, ErrNotFound)
}

func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// Tx is one claims-bound transaction. It satisfies the DBTX interface that
// query code takes (Exec, Query, QueryRow, SendBatch). The transaction
// begins lazily: BEGIN and the claims are sent with the first statement.
// It is not safe for concurrent use.
type Tx struct {
	conn   *pgx.Conn
	tx     pgx.Tx // nil until the first statement
	role   string
	claims string
}

// send sends b, prefixed with BEGIN and the claims when it is the first
// batch of the transaction, and consumes the prefix's results.
func (t *Tx) send(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	if t.tx != nil {
		return t.tx.SendBatch(ctx, b), nil
	}
	prefixed := &pgx.Batch{}
	prefixed.BeginTx(pgx.TxOptions{})
	prefixed.Queue(SetClaimsSQL, t.role, t.claims)
	prefixed.QueuedQueries = append(prefixed.QueuedQueries, b.QueuedQueries...)
	br := t.conn.SendBatch(ctx, prefixed)
	t.tx = br.Tx()
	for range 2 { // BEGIN, then set_config
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, err
		}
	}
	return br, nil
}

// As runs fn with claims in force for the statements it sends on t, then
// puts t's own claims back. Background work done on an account's behalf
// uses it so the account's row security, not the worker's, decides what
// those statements may read and write (issue 12 R1). When fn fails the
// transaction is left to its caller to roll back.
func (t *Tx) As(ctx context.Context, claims Claims, fn func() error) error {
	enc, err := claims.encode()
	if err != nil {
		return err
	}
	if _, err := t.Exec(ctx, SetClaimsSQL, claims.role(), enc); err != nil {
		return fmt.Errorf("act as %s %s: %w", claims.Kind, claims.ID, err)
	}
	if err := fn(); err != nil {
		return err
	}
	if _, err := t.Exec(ctx, SetClaimsSQL, t.role, t.claims); err != nil {
		return fmt.Errorf("restore claims: %w", err)
	}
	return nil
}

// Exec runs a statement that returns no rows.
func (t *Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.tx != nil {
		return t.tx.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br, err := t.send(ctx, b)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query runs a query and returns its rows; the caller must close them.
func (t *Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.tx != nil {
		return t.tx.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br, err := t.send(ctx, b)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow runs a query expected to return at most one row.
func (t *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return &row{rows: rows, err: err}
}

// SendBatch sends b; when it is the transaction's first use, BEGIN and the
// claims ride along in the same round trip.
func (t *Tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	br, err := t.send(ctx, b)
	if err != nil {
		return errBatch{err: err}
	}
	return br
}

// batchRows closes the batch once its rows are closed.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.Rows.Err()
	if err := r.br.Close(); r.err == nil {
		r.err = err
	}
}

func (r *batchRows) Err() error {
	if r.closed {
		return r.err
	}
	return r.Rows.Err()
}

func (r *batchRows) Next() bool {
	if r.closed {
		return false
	}
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

type row struct {
	rows pgx.Rows
	err  error
}

func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

type errBatch struct{ err error }

func (e errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, e.err }
func (e errBatch) Query() (pgx.Rows, error)         { return nil, e.err }
func (e errBatch) QueryRow() pgx.Row                { return &row{err: e.err} }
func (e errBatch) Close() error                     { return e.err }
func (e errBatch) Tx() pgx.Tx                       { return nil }
