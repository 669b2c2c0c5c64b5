package api

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wriveted/huey-api/schema/catalog"
)

// Postgres error mapping: one function per SQLSTATE (or class) the API
// answers other than with a 500, so handlers ask a name, not a code.

// isPermissionDenied reports row security or the F1 guard refusing a write.
func isPermissionDenied(err error) bool {
	var pe interface{ SQLState() string }
	return errors.As(err, &pe) && pe.SQLState() == "42501"
}

// isUniqueViolation reports a unique violation (23505).
func isUniqueViolation(err error) bool {
	var pe interface{ SQLState() string }
	return errors.As(err, &pe) && pe.SQLState() == "23505"
}

// isForeignKeyViolation reports a foreign-key violation (23503): a row
// still referenced, or a reference to none.
func isForeignKeyViolation(err error) bool {
	var pe interface{ SQLState() string }
	return errors.As(err, &pe) && pe.SQLState() == "23503"
}

// isIntegrityError reports a unique, foreign-key, not-null or check violation.
func isIntegrityError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23")
}

// isDataException reports a data exception (class 22): a value Postgres
// cannot store or compute.
func isDataException(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22")
}

// isFilterError reports an error of the caller's JSONPath: its syntax
// (42601, 22P02), an unknown $variable (42704), its evaluation (class 22,
// e.g. a non-boolean result or a bad like_regex) or its depth (class 54).
func isFilterError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == "42601" || pe.Code == "42704" || isDataException(err) || strings.HasPrefix(pe.Code, "54")
}

// dataExceptionError turns a data exception raised by a write of the
// body's values (isDataException) into a 422; any other error is returned
// unchanged.
func dataExceptionError(err error) error {
	var pe *pgconn.PgError
	if isDataException(err) && errors.As(err, &pe) {
		return invalid([]any{"body"}, "Value error, "+pe.Message, nil)
	}
	return err
}

// catalogueError maps the catalogue package's and the database's refusals
// to the original's answers; anything else stays a 500.
func catalogueError(err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, catalog.ErrInvalidISBN):
		return httpError(http.StatusUnprocessableEntity, msgISBNInvalidWrite)
	case errors.Is(err, catalog.ErrUnknownAuthor), errors.Is(err, catalog.ErrInvalidInput):
		return invalid([]any{"body"}, "Value error, "+err.Error(), nil)
	case isPermissionDenied(err):
		return errForbidden()
	case (isDataException(err) || isIntegrityError(err)) && errors.As(err, &pe):
		return invalid([]any{"body"}, "Value error, "+pe.Message, nil)
	}
	return err
}

// overloadCode names an error that means "too slow or unavailable, not
// wrong": a statement cancelled by statement_timeout (57014), the request's
// deadline, a session ended by idle_in_transaction_session_timeout (25P03),
// or a database that cannot be reached or went away (dbUnavailable). "" for
// any other error. These answer 503 with Retry-After, never 500.
func overloadCode(err error) string {
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "57014":
		return "statement_timeout"
	case errors.As(err, &pe) && pe.Code == "25P03":
		return "idle_in_transaction_timeout"
	case errors.Is(err, context.DeadlineExceeded):
		return "request_timeout"
	case dbUnavailable(err):
		return "database_unavailable"
	}
	return ""
}

// dbUnavailable: the database could not be reached, refused the session
// (starting up, shutting down, out of connections or other resources), or
// the connection broke under the request — what a Postgres restart or a
// failover looks like from the pool. The pool drops a broken connection and
// dials a new one for the next request, so the service recovers by itself.
func dbUnavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", // admin_shutdown: the server is stopping (pg_ctl stop -m fast)
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up or shutting down
			"57P05": // idle_session_timeout
			return true
		}
		// Class 08 connection_exception; class 53 insufficient_resources
		// (too_many_connections, out of memory, disk full).
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "53")
	}
	// A connection that broke mid-request: closed by the driver after a
	// failure, reset, or cut short by the server going away.
	var ne net.Error
	return errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED)
}

// isNumericOutOfRange: a number past its column's range (22003), from
// Postgres or from pgx encoding a parameter (isIntEncodeRange).
func isNumericOutOfRange(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "22003" || isIntEncodeRange(err)
}

// isIntEncodeRange: pgx refused to send an integer its parameter's type
// cannot hold ("… is greater than maximum value for int4"). Handlers check
// their integers; this keeps one they missed a 422, not a 500.
func isIntEncodeRange(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "is greater than maximum value for int") ||
		strings.Contains(msg, "is less than minimum value for int")
}
