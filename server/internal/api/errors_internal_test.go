package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Faults (issue 12): every way a database restart or failover reaches a
// handler is a 503, never a 500; real errors stay what they are.
// TestHardening_Faults_PostgresRestartUnderLoad (server/) shows the same
// against a Postgres stopped and started under load.
func TestOverloadCodeNamesDatabaseFaults(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("read school: %w", err) }
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"statement timeout", &pgconn.PgError{Code: "57014"}, "statement_timeout"},
		{"idle in transaction", &pgconn.PgError{Code: "25P03"}, "idle_in_transaction_timeout"},
		{"request deadline", wrap(context.DeadlineExceeded), "request_timeout"},
		{"server shutting down (57P01)", wrap(&pgconn.PgError{Code: "57P01"}), "database_unavailable"},
		{"crash shutdown (57P02)", &pgconn.PgError{Code: "57P02"}, "database_unavailable"},
		{"starting up (57P03)", &pgconn.PgError{Code: "57P03"}, "database_unavailable"},
		{"connection failure (08006)", &pgconn.PgError{Code: "08006"}, "database_unavailable"},
		{"too many connections (53300)", &pgconn.PgError{Code: "53300"}, "database_unavailable"},
		{"connection closed by the driver", wrap(pgconn.ErrConnClosed), "database_unavailable"},
		{"connection reset", wrap(reset), "database_unavailable"},
		{"server went away mid-message", wrap(io.ErrUnexpectedEOF), "database_unavailable"},
		{"server closed the socket", wrap(io.EOF), "database_unavailable"},
		{"broken pipe", wrap(syscall.EPIPE), "database_unavailable"},
		{"a constraint", wrap(&pgconn.PgError{Code: "23505"}), ""},
		{"a permission", &pgconn.PgError{Code: "42501"}, ""},
		{"a bug", errors.New("nil map"), ""},
	} {
		if got := overloadCode(tc.err); got != tc.want {
			t.Errorf("%s: overloadCode = %q, want %q", tc.name, got, tc.want)
		}
	}
	// A refused dial, as pgx reports it.
	_, err := pgconn.Connect(context.Background(), "postgres://u:p@127.0.0.1:1/d?sslmode=disable&connect_timeout=2")
	if got := overloadCode(err); got != "database_unavailable" {
		t.Errorf("refused connection %v: overloadCode = %q", err, got)
	}
}
