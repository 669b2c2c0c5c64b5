package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/auth"
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

// With an Ed25519 key configured, tokens are EdDSA, verified here, and the
// public key is published; the original's HS256 tokens keep working.
func TestEdDSATokensAndJWKS(t *testing.T) {
	t.Parallel()
	seed := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	keys, err := auth.NewKeys([]byte(testSecret), seed)
	if err != nil {
		t.Fatal(err)
	}
	v := newEnv(t, func(o *apiOptions) { o.Tokens = keys })
	v.tokens = keys
	rec := v.do(http.MethodGet, "/.well-known/jwks.json", "", nil)
	wantStatus(t, rec, http.StatusOK)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["crv"] != "Ed25519" {
		t.Fatalf("JWKS %s", rec.Body)
	}
	id := v.user("Ed Dsa", "PUBLIC", nil)
	tok := v.userToken(id) // signed with EdDSA now
	if !strings.Contains(string(must(base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0]))), "EdDSA") {
		t.Fatalf("token not EdDSA: %s", tok)
	}
	wantStatus(t, v.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
	wantStatus(t, v.do(http.MethodGet, "/v1/auth/me", originalToken("Wriveted:User-Account:"+id.String(), time.Now().Add(time.Hour)), nil), http.StatusOK)
	plain := newEnv(t)
	if got := plain.do(http.MethodGet, "/.well-known/jwks.json", "", nil).Body.String(); got != `{"keys":[]}` {
		t.Fatalf("HS256-only JWKS %s", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
