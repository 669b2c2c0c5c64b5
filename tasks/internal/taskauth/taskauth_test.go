package taskauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// verifierFunc adapts a function to Verifier.
type verifierFunc func(ctx context.Context, authorization string) error

func (f verifierFunc) Verify(ctx context.Context, authorization string) error {
	return f(ctx, authorization)
}

// serve runs one request through an Echo instance guarded by Middleware and
// returns the response and the log output.
func serve(t *testing.T, v Verifier, authorization string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	e := echo.New()
	e.Use(middleware.RequestID())
	g := e.Group("/v1", Middleware(v, logger))
	g.POST("/generate-labels", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"msg": "ok"})
	})
	req := httptest.NewRequest(http.MethodPost, "/v1/generate-labels", strings.NewReader(`{"work_id":1}`))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	if authorization != "" {
		req.Header.Set(echo.HeaderAuthorization, authorization)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec, logs.String()
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	secret, err := NewSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	broken := verifierFunc(func(context.Context, string) error {
		return errors.New("google JWKS: connection refused")
	})
	tests := []struct {
		name       string
		v          Verifier
		header     string
		wantStatus int
		wantBody   string
		wantLog    string // fragment of the log line; "" means no log line
	}{
		{"accepted", secret, "Bearer " + testSecret, http.StatusOK, `{"msg":"ok"}`, ""},
		{"no header", secret, "", http.StatusUnauthorized, `{"detail":"Not authenticated"}`, `"level":"INFO","msg":"task request refused"`},
		{"wrong secret", secret, "Bearer " + strings.Repeat("z", 40), http.StatusForbidden, `{"detail":"Could not validate credentials"}`, `"reason":"invalid credentials: secret does not match"`},
		{"wrong scheme", secret, "Basic " + testSecret, http.StatusForbidden, `{"detail":"Could not validate credentials"}`, `not Bearer`},
		{"verifier failure", broken, "Bearer x.y.z", http.StatusForbidden, `{"detail":"Could not validate credentials"}`, `"level":"WARN"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, logs := serve(t, tc.v, tc.header)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", rec.Code, tc.wantStatus, rec.Body)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != tc.wantBody {
				t.Fatalf("body = %s, want %s", got, tc.wantBody)
			}
			if tc.wantStatus == http.StatusUnauthorized && rec.Header().Get(echo.HeaderWWWAuthenticate) != "Bearer" {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if tc.wantLog == "" {
				if logs != "" {
					t.Fatalf("accepted request logged %s", logs)
				}
				return
			}
			if !strings.Contains(logs, tc.wantLog) {
				t.Fatalf("log %s does not contain %s", logs, tc.wantLog)
			}
			if strings.Contains(logs, testSecret) || strings.Contains(logs, "z"+strings.Repeat("z", 39)) {
				t.Fatalf("log quotes the credential: %s", logs)
			}
			var rec2 map[string]any
			if err := json.Unmarshal([]byte(logs), &rec2); err != nil {
				t.Fatalf("log is not one JSON record: %v", err)
			}
			if rec2["request_id"] == "" || rec2["path"] != "/v1/generate-labels" || rec2["status"] != float64(tc.wantStatus) {
				t.Fatalf("log record lacks request_id, path or status: %s", logs)
			}
		})
	}
}
