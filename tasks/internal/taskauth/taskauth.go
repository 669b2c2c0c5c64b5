// Package taskauth authenticates callers of the internal task server (fixes
// tasks.md F-T1: the original's task server accepts anyone who can reach it).
//
// Two verifiers check the Authorization header of a task request:
//
//   - Secret: "Bearer <INTERNAL_TASK_SECRET>", for the local queue
//     (design/DECISIONS.md §1);
//   - GoogleOIDC: the OIDC ID token Cloud Tasks attaches to every task
//     ("Bearer <jwt>"), verified against Google's published keys, the
//     expected audience and the expected service-account e-mail.
//
// Middleware puts a Verifier in front of the task server's routes. The
// invariant it protects: no task handler runs unless the request carries a
// credential that one configured Verifier accepted. Tokens and secrets are
// never logged; only the reason for a refusal is.
//
// The package imports nothing from this module; it sits between the task
// server's HTTP layer (taskapi) and its wiring (tasks/main.go).
package taskauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Verifier checks the Authorization header of a task request.
//
// Verify returns nil when the header carries an accepted credential; an error
// wrapping ErrNoCredentials when the header is empty; and otherwise an error
// whose message says why the credential was refused (never the credential).
type Verifier interface {
	Verify(ctx context.Context, authorization string) error
}

// Errors a Verifier wraps. A refusal for any other reason (for example, the
// key set could not be fetched) is answered like ErrInvalidCredentials.
var (
	// ErrNoCredentials means the request carried no Authorization header.
	ErrNoCredentials = errors.New("no credentials")
	// ErrInvalidCredentials means a credential was presented and refused.
	ErrInvalidCredentials = errors.New("invalid credentials")
)

// Messages of the original's HTTPBearer refusals (api.md §0.3).
const (
	detailNotAuthenticated = "Not authenticated"
	detailInvalid          = "Could not validate credentials"
)

// bearer returns the credential of a "Bearer <credential>" header. The scheme
// is case-insensitive (RFC 9110 §11.1); the credential is one token.
func bearer(authorization string) (string, error) {
	if strings.TrimSpace(authorization) == "" {
		return "", ErrNoCredentials
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", invalid("authorization scheme is not Bearer")
	}
	cred = strings.TrimSpace(cred)
	if cred == "" || strings.ContainsAny(cred, " \t") {
		return "", invalid("malformed bearer credential")
	}
	return cred, nil
}

// invalid builds a refusal wrapping ErrInvalidCredentials.
func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidCredentials, reason)
}

// Middleware requires every request to pass v. It answers, in the original's
// shape, 401 {"detail":"Not authenticated"} (with WWW-Authenticate: Bearer)
// when there is no Authorization header and 403 {"detail":"Could not validate
// credentials"} when v refuses it, and logs the reason (never the credential)
// with logger: refusals at info, failures not caused by the credential (such
// as an unreachable key set) at warn.
//
// The refusal is written here rather than returned, so the response does not
// depend on the server's error handler.
func Middleware(v Verifier, logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			err := v.Verify(req.Context(), req.Header.Get(echo.HeaderAuthorization))
			if err == nil {
				return next(c)
			}
			level, status, detail := slog.LevelInfo, http.StatusForbidden, detailInvalid
			switch {
			case errors.Is(err, ErrNoCredentials):
				status, detail = http.StatusUnauthorized, detailNotAuthenticated
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
			case !errors.Is(err, ErrInvalidCredentials):
				level = slog.LevelWarn
			}
			logger.LogAttrs(req.Context(), level, "task request refused",
				slog.String("request_id", requestID(c)),
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.Int("status", status),
				slog.String("reason", err.Error()),
			)
			return c.JSON(status, map[string]string{"detail": detail})
		}
	}
}

// requestID reads the ID echo's RequestID middleware set, if it ran first.
func requestID(c echo.Context) string {
	if id := c.Response().Header().Get(echo.HeaderXRequestID); id != "" {
		return id
	}
	return c.Request().Header.Get(echo.HeaderXRequestID)
}
