package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/db"
)

// apiError is an error answered to the client as `{"detail": …}`.
type apiError struct {
	Status int
	Detail any
	Header http.Header
	// Code is the stable name logged with the error (errorCode): a 5xx's
	// cause, or a 4xx's catalogue entry (refusal).
	Code string
	// DecisionID names a recorded refusal (a 403; decisions.go), answered
	// beside the detail.
	DecisionID string
	// denied is a policy refusal not yet recorded (Server.recordRefusals).
	denied *policyRefusal
}

func (e *apiError) Error() string { return http.StatusText(e.Status) }

// httpError is a refusal answered with status. detail is an entry of the
// error catalogue (its code is logged) or a body of another shape (a 422's
// entries, an object).
func httpError(status int, detail any) *apiError {
	if r, ok := detail.(refusal); ok {
		return &apiError{Status: status, Detail: r.detail, Code: r.code}
	}
	return &apiError{Status: status, Detail: detail}
}

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
			_ = c.JSON(http.StatusServiceUnavailable, detail{Detail: msgBusy.detail})
			return
		}
		if isNumericOutOfRange(err) { // R7: a number past its column's range, wherever it came from
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
				body = msgNotFound.detail
			case http.StatusMethodNotAllowed:
				body = msgMethodNotAllowed.detail
			case http.StatusRequestEntityTooLarge:
				body = msgRequestBodyTooLarge.detail
			case http.StatusTooManyRequests:
				body = msgTooManyRequests.detail
			}
			if s, ok := body.(string); ok && s == "" {
				body = http.StatusText(he.Code)
			}
		}
		if status < http.StatusInternalServerError && logger.Enabled(c.Request().Context(), slog.LevelDebug) {
			logger.Debug("request refused", append(reqAttrs(refusalCode(err, status)), slog.Int("status", status))...)
		}
		if status >= http.StatusInternalServerError && ae == nil {
			attrs := append(reqAttrs(errorCode(err)), slog.String("error", err.Error()))
			var pan *panicError
			if errors.As(err, &pan) && len(pan.stack) > 0 {
				attrs = append(attrs, slog.String("stack", string(pan.stack)))
			}
			logger.Error("request failed", attrs...)
			_ = c.String(http.StatusInternalServerError, msgInternal.detail)
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

// refusalCode is the code logged with a 4xx: its catalogue entry's
// (README "4xx error codes in logs"), validation_failed for a 422 of entries, else http_<status>.
func refusalCode(err error, status int) string {
	if code := errorCode(err); code != "unknown" {
		return code
	}
	return "http_" + strconv.Itoa(status)
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
