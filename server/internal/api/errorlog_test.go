package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/server/internal/api"
)

// logLines collects the server's JSON log lines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

// find returns the lines whose msg is msg.
func (l *logLines) find(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// deciderFunc is a policy engine whose answer the test chooses.
type deciderFunc func(ctx context.Context, in policies.Input) (bool, error)

func (f deciderFunc) Allow(ctx context.Context, in policies.Input) (bool, error) { return f(ctx, in) }

func logTo(l *logLines) envOption {
	return func(o *api.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
}

// Issue 12: every 5xx is logged once with the request id (the one the
// client got in X-Request-Id) and a stable code; the client gets the
// original's plain-text 500 and nothing of the cause. The failures are
// forced through the API's own dependencies: a policy engine that errs, one
// that panics, and a pool whose role may not become the request role.
func TestErrorLog_5xxCarriesRequestIDAndCode(t *testing.T) {
	t.Parallel()
	base := newCast(t)
	failing := deciderFunc(func(context.Context, policies.Input) (bool, error) {
		return false, errors.New("rego: eval_conflict_error: secret detail")
	})
	panicking := deciderFunc(func(context.Context, policies.Input) (bool, error) {
		var m map[string]int
		m["secret detail"]++ // a nil map write: a runtime panic
		return true, nil
	})
	for _, tc := range []struct {
		name, code, path string
		env              func(l *logLines) *env
	}{
		{"policy error", "policy_error", "/v1/schools", func(l *logLines) *env {
			return newEnvOn(t, base.v, base.v.db.Pool(t, dbtest.RoleAPI), logTo(l),
				func(o *api.Options) { o.Policies = failing })
		}},
		{"panic", "internal_panic", "/v1/schools", func(l *logLines) *env {
			return newEnvOn(t, base.v, base.v.db.Pool(t, dbtest.RoleAPI), logTo(l),
				func(o *api.Options) { o.Policies = panicking })
		}},
		{"database refusal", "db_42501", "/v1/auth/me", func(l *logLines) *env {
			// huey_staff_ro is not a member of huey_app: set_config('role') fails with 42501
			return newEnvOn(t, base.v, base.v.db.Pool(t, dbtest.RoleStaffRO), logTo(l))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l logLines
			v := tc.env(&l)
			rec := v.do(http.MethodGet, tc.path, base.tokens["admin"], nil)
			if rec.Code != http.StatusInternalServerError || rec.Body.String() != "Internal Server Error" {
				t.Fatalf("status %d %q, want the plain-text 500", rec.Code, rec.Body)
			}
			if strings.Contains(rec.Body.String(), "secret") {
				t.Fatal("the cause reached the client")
			}
			rid := rec.Header().Get("X-Request-Id")
			if len(rid) != 32 {
				t.Fatalf("X-Request-Id %q", rid)
			}
			lines := l.find(t, "request failed")
			if len(lines) != 1 {
				t.Fatalf("%d 'request failed' lines, want 1: %s", len(lines), l.buf.String())
			}
			got := lines[0]
			if got["level"] != "ERROR" || got["request_id"] != rid || got["code"] != tc.code ||
				got["route"] != tc.path || got["method"] != http.MethodGet || got["error"] == "" {
				t.Fatalf("log line %v, want request_id %s and code %s", got, rid, tc.code)
			}
			if tc.code == "internal_panic" && !strings.Contains(got["stack"].(string), "goroutine") {
				t.Fatalf("panic logged without its stack: %v", got)
			}
			// the access log line of the same request says 500
			access := l.find(t, "request")
			if len(access) != 1 || access[0]["request_id"] != rid || access[0]["status"] != float64(500) {
				t.Fatalf("access log %v", access)
			}
		})
	}
	// a 503 answered on purpose (no Firebase configured) is logged with its code too
	var l logLines
	v := newEnvOn(t, base.v, base.v.db.Pool(t, dbtest.RoleAPI), logTo(&l))
	rec := v.do(http.MethodGet, "/v1/auth/firebase", "some-firebase-token", nil)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	lines := l.find(t, "request refused")
	if len(lines) != 1 || lines[0]["code"] != "firebase_unconfigured" || lines[0]["request_id"] != rec.Header().Get("X-Request-Id") {
		t.Fatalf("503 log %v", lines)
	}
}

// Issue 15: a 4xx is logged at debug level with the stable code of its
// catalogue entry (README "Error codes in logs"); the body is the
// original's, unchanged.
func TestErrorLog_4xxCarriesCatalogueCodeAtDebug(t *testing.T) {
	t.Parallel()
	base := newCast(t)
	var l logLines
	v := newEnvOn(t, base.v, base.v.db.Pool(t, dbtest.RoleAPI), func(o *api.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&l, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	const missing = "00000000-0000-4000-8000-000000000015"
	for _, tc := range []struct {
		path, code, body string
		status           int
	}{
		{"/v1/school/" + missing, "school_not_found",
			`{"detail":"School with wriveted_id ` + missing + ` not found."}`, http.StatusNotFound},
		{"/v1/school/not-a-uuid", "validation_failed", "", http.StatusUnprocessableEntity},
		{"/v1/no-such-route", "http_404", `{"detail":"Not Found"}`, http.StatusNotFound},
	} {
		rec := v.do(http.MethodGet, tc.path, base.tokens["admin"], nil)
		wantStatus(t, rec, tc.status)
		if tc.body != "" && strings.TrimSpace(rec.Body.String()) != tc.body {
			t.Errorf("GET %s: body %s, want %s", tc.path, rec.Body, tc.body)
		}
		rid := rec.Header().Get("X-Request-Id")
		var found bool
		for _, line := range l.find(t, "request refused") {
			if line["request_id"] == rid {
				found = true
				if line["level"] != "DEBUG" || line["code"] != tc.code || line["status"] != float64(tc.status) {
					t.Errorf("GET %s: log line %v, want code %s at DEBUG", tc.path, line, tc.code)
				}
			}
		}
		if !found {
			t.Errorf("GET %s: no 'request refused' line: %s", tc.path, l.buf.String())
		}
	}
}
