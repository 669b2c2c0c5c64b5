package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema"
)

func newAPI(t *testing.T) *echo.Echo {
	t.Helper()
	return newEnv(t).e
}

func do(t *testing.T, e *echo.Echo, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestVersion(t *testing.T) {
	t.Parallel()
	rec := do(t, newAPI(t), http.MethodGet, "/v1/version", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	latest, _ := schema.Latest(schema.Dir())
	if got["version"] != "1.2.3" || got["commit"] != "abc123" || got["database_revision"] != latest ||
		got["cloud_run_revision"] != "Unknown" || !strings.HasPrefix(got["python_version"], "go") {
		t.Fatalf("version body: %v", got)
	}
	if rec.Header().Get(echo.HeaderXRequestID) == "" {
		t.Error("no X-Request-ID header")
	}
}

func TestHealthcheckDB(t *testing.T) {
	t.Parallel()
	rec := do(t, newAPI(t), http.MethodGet, "/v1/healthcheck/db", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if !regexp.MustCompile(`^\{"random":([1-9][0-9]{0,2}|1000)\.0\}\n?$`).Match(rec.Body.Bytes()) {
		t.Fatalf("body %q, want {\"random\": <1..1000>.0}", rec.Body)
	}
}

func TestErrorsUseTheOriginalShape(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "/v1/no-such-route", http.StatusNotFound, `{"detail":"Not Found"}`},
		{http.MethodPost, "/v1/version", http.StatusMethodNotAllowed, `{"detail":"Method Not Allowed"}`},
	}
	for _, tc := range cases {
		rec := do(t, e, tc.method, tc.path, nil)
		if rec.Code != tc.status || strings.TrimSpace(rec.Body.String()) != tc.body {
			t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, rec.Code, rec.Body, tc.status, tc.body)
		}
	}
}

func TestSecurityTxtAndRedirects(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	rec := do(t, e, http.MethodGet, "/v1/.well-known/security.txt", nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "\nContact: mailto:security@wriveted.com\n") ||
		!strings.HasPrefix(rec.Header().Get(echo.HeaderContentType), "text/plain") {
		t.Fatalf("security.txt: %d %q", rec.Code, rec.Body)
	}
	for _, p := range []string{"/", "/docs"} {
		rec := do(t, e, http.MethodGet, p, nil)
		if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "/v1/docs" {
			t.Errorf("GET %s = %d to %q, want 307 to /v1/docs", p, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	e := newAPI(t)
	for origin, allowed := range map[string]bool{
		"http://localhost:3000":            true,
		"https://wriveted-admin.web.app":   true,
		"https://huey-books-prod.web.app":  true,
		"https://evil.example":             false,
		"https://wriveted.web.app.evil.co": false,
	} {
		rec := do(t, e, http.MethodGet, "/v1/version", map[string]string{"Origin": origin})
		got := rec.Header().Get("Access-Control-Allow-Origin") == origin
		if got != allowed {
			t.Errorf("origin %s: allowed=%v, want %v", origin, got, allowed)
		}
		if allowed && rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("origin %s: credentials not allowed", origin)
		}
	}
}
