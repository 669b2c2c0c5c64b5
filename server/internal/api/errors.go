package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/db"
)

// Messages of the original (api.md §0.2–0.3), kept in one place.
const (
	msgNotFound            = "Not Found"
	msgMethodNotAllowed    = "Method Not Allowed"
	msgInternal            = "Internal Server Error"
	msgCredentials         = "Could not validate credentials"
	msgInsufficientPerms   = "Insufficient permissions"
	msgInsufficientPrivs   = "Insufficient privileges"
	msgRequiresUser        = "API requires a user"
	msgUnauthorized        = "Unauthorized"
	msgTooManyRequests     = "Too many requests, try again later"
	msgRequestBodyTooLarge = "Request body too large"
	msgBusy                = "The service is busy or the request took too long; try again shortly"
)

// apiError is an error answered to the client as `{"detail": …}`.
type apiError struct {
	Status int
	Detail any
	Header http.Header
	// Code is the stable name logged with a 5xx (errorCode); 4xx need none.
	Code string
	// DecisionID names a recorded refusal (a 403; decisions.go), answered
	// beside the detail.
	DecisionID string
	// refusal is a policy refusal not yet recorded (Server.recordRefusals).
	refusal *refusal
}

func (e *apiError) Error() string { return http.StatusText(e.Status) }

func httpError(status int, detail any) *apiError { return &apiError{Status: status, Detail: detail} }

// unavailable is a 503 the API answers on purpose (a dependency not
// configured or failing), logged with its stable code.
func unavailable(code string, detail any) *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Detail: detail, Code: code}
}

// withBearerChallenge adds `WWW-Authenticate: Bearer`, as the original does
// for missing credentials and permission refusals.
func (e *apiError) withBearerChallenge() *apiError {
	e.Header = http.Header{"Www-Authenticate": []string{"Bearer"}}
	return e
}

func errNotAuthenticated() error {
	return httpError(http.StatusUnauthorized, msgCredentials).withBearerChallenge()
}

func errBadCredentials() error { return httpError(http.StatusForbidden, msgCredentials) }

func errForbidden() error {
	return httpError(http.StatusForbidden, msgInsufficientPerms).withBearerChallenge()
}

// validationError is one entry of a 422 body (api.md §0.3).
type validationError struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

func errValidation(errs ...validationError) error {
	return httpError(http.StatusUnprocessableEntity, errs)
}

// invalid is a single 422 entry: where, what, and the offending input.
func invalid(loc []any, msg string, input any) error {
	return errValidation(validationError{Type: "value_error", Loc: loc, Msg: msg, Input: input})
}

// detail is the original's error body.
type detail struct {
	Detail     any    `json:"detail"`
	DecisionID string `json:"decision_id,omitempty"` // a 403 refusing access (decisions.go)
}

// errorHandler sends every error in the original's shape, `{"detail": …}`.
// Handlers return errors and never write them. Unexpected errors are logged
// with the request id and answered with the original's plain-text 500; the
// private cause never reaches the client. Every 5xx is logged with the
// request id (also in the X-Request-Id response header, for support) and a
// stable code (errorCode; README "5xx error codes in logs").
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		reqAttrs := func(code string) []any {
			return []any{
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("method", c.Request().Method),
				slog.String("route", c.Path()),
				slog.String("code", code),
			}
		}
		if c.Response().Committed { // the status is sent; the cause is still worth a line
			if code := errorCode(err); code != "request_canceled" {
				logger.Warn("request failed after the response was sent",
					append(reqAttrs(code), slog.Int("status", c.Response().Status), slog.String("error", err.Error()))...)
			}
			return
		}
		status, body, decisionID := http.StatusInternalServerError, any(nil), ""
		var ae *apiError
		var he *echo.HTTPError
		if code := overloadCode(err); code != "" { // R3: answered, never hung, never a 500
			logger.Warn("request refused", append(reqAttrs(code), slog.String("error", err.Error()))...)
			c.Response().Header().Set("Retry-After", "1")
			_ = c.JSON(http.StatusServiceUnavailable, detail{Detail: msgBusy})
			return
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "22003" || isIntEncodeRange(err) { // R7: a number past its column's range, wherever it came from
			err = errValidation(validationError{Type: "int_overflow", Loc: []any{"body"},
				Msg: "A number is out of range for what it names", Input: nil})
		}
		switch {
		case errors.As(err, &ae):
			status, body, decisionID = ae.Status, ae.Detail, ae.DecisionID
			for k, v := range ae.Header {
				c.Response().Header()[k] = v
			}
		case errors.As(err, &he) && he.Code < http.StatusInternalServerError:
			status, body = he.Code, he.Message
			switch he.Code {
			case http.StatusNotFound:
				body = msgNotFound
			case http.StatusMethodNotAllowed:
				body = msgMethodNotAllowed
			case http.StatusRequestEntityTooLarge:
				body = msgRequestBodyTooLarge
			case http.StatusTooManyRequests:
				body = msgTooManyRequests
			}
			if s, ok := body.(string); ok && s == "" {
				body = http.StatusText(he.Code)
			}
		}
		if status >= http.StatusInternalServerError && ae == nil {
			attrs := append(reqAttrs(errorCode(err)), slog.String("error", err.Error()))
			var pan *panicError
			if errors.As(err, &pan) && len(pan.stack) > 0 {
				attrs = append(attrs, slog.String("stack", string(pan.stack)))
			}
			logger.Error("request failed", attrs...)
			_ = c.String(http.StatusInternalServerError, msgInternal)
			return
		}
		if status >= http.StatusInternalServerError { // a 5xx answered on purpose (unavailable)
			logger.Warn("request refused", reqAttrs(errorCode(err))...)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, detail{Detail: body, DecisionID: decisionID})
	}
}

// panicError is a panic the Recover middleware caught in a handler.
type panicError struct {
	value error
	stack []byte
}

func (e *panicError) Error() string { return "panic: " + e.value.Error() }

// recovered turns a recovered panic into a panicError for errorHandler,
// which logs it (with its stack) as internal_panic.
func recovered(_ echo.Context, err error, stack []byte) error {
	return &panicError{value: err, stack: stack}
}

// policyError is the policy engine failing to decide (never a denial).
type policyError struct{ err error }

func (e *policyError) Error() string { return e.err.Error() }
func (e *policyError) Unwrap() error { return e.err }

// errorCode is the stable name of a 5xx's cause, logged as `code` (README
// "5xx error codes in logs"): what to search for and count, where the error
// text varies. The private cause stays in `error`.
func errorCode(err error) string {
	var (
		pan *panicError
		ae  *apiError
		pol *policyError
		pe  *pgconn.PgError
		he  *echo.HTTPError
		sae *pgx.ScanArgError
		ute *json.UnsupportedTypeError
		uve *json.UnsupportedValueError
		me  *json.MarshalerError
	)
	switch {
	case errors.As(err, &pan):
		return "internal_panic"
	case errors.As(err, &ae) && ae.Code != "":
		return ae.Code
	case errors.As(err, &pol):
		return "policy_error"
	case overloadCode(err) != "":
		return overloadCode(err)
	case errors.As(err, &pe):
		return "db_" + pe.Code
	case errors.Is(err, pgx.ErrNoRows), errors.Is(err, db.ErrNotFound):
		return "db_not_found"
	case errors.As(err, &sae):
		return "db_scan_error"
	case errors.Is(err, pgx.ErrTxClosed), errors.Is(err, pgx.ErrTxCommitRollback):
		return "db_tx_closed"
	case errors.Is(err, context.Canceled):
		return "request_canceled"
	case errors.As(err, &ute), errors.As(err, &uve), errors.As(err, &me):
		return "encode_error"
	case errors.As(err, &he):
		return "http_" + strconv.Itoa(he.Code)
	}
	return "unknown"
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

// isIntEncodeRange: pgx refused to send an integer its parameter's type
// cannot hold ("… is greater than maximum value for int4"). Handlers check
// their integers; this keeps one they missed a 422, not a 500.
func isIntEncodeRange(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "is greater than maximum value for int") ||
		strings.Contains(msg, "is less than minimum value for int")
}
