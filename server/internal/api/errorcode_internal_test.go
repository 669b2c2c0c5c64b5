package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/db"
)

// Every 5xx cause has a stable code for the logs (README "5xx error codes
// in logs"), through any wrapping.
func TestErrorCodeNamesEveryCause(t *testing.T) {
	t.Parallel()
	_, encErr := json.Marshal(math.Inf(1))
	for want, err := range map[string]error{
		"db_23505":                &pgconn.PgError{Code: "23505"},
		"db_42501":                fmt.Errorf("read school: %w", &pgconn.PgError{Code: "42501"}),
		"statement_timeout":       fmt.Errorf("q: %w", &pgconn.PgError{Code: "57014"}),
		"request_timeout":         fmt.Errorf("q: %w", context.DeadlineExceeded),
		"db_not_found":            fmt.Errorf("q: %w", pgx.ErrNoRows),
		"db_tx_closed":            fmt.Errorf("commit: %w", pgx.ErrTxClosed),
		"request_canceled":        fmt.Errorf("q: %w", context.Canceled),
		"internal_panic":          &panicError{value: errors.New("nil map")},
		"policy_error":            fmt.Errorf("policy decision: %w", &policyError{errors.New("eval_conflict_error")}),
		"encode_error":            fmt.Errorf("answer: %w", encErr),
		"http_500":                echo.NewHTTPError(http.StatusInternalServerError),
		"hydrator_provider_error": unavailable("hydrator_provider_error", "x"),
		"unknown":                 errors.New("something else"),
	} {
		if got := errorCode(err); got != want {
			t.Errorf("errorCode(%v) = %q, want %q", err, got, want)
		}
	}
	if got := errorCode(fmt.Errorf("x: %w", db.ErrNotFound)); got != "db_not_found" {
		t.Errorf("db.ErrNotFound: %q", got)
	}
}
