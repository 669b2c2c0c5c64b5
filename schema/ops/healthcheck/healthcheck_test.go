package healthcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/version" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	ctx := context.Background()

	if err := Check(ctx, env(map[string]string{"PORT": port}), 1); err != nil {
		t.Fatalf("healthy server: %v", err)
	}
	p, _ := strconv.Atoi(port)
	if err := Check(ctx, env(nil), p); err != nil {
		t.Fatalf("default port: %v", err)
	}
	status.Store(http.StatusServiceUnavailable)
	if err := Check(ctx, env(map[string]string{"PORT": port}), 1); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("503 answer: want unhealthy, got %v", err)
	}
	srv.Close()
	if err := Check(ctx, env(map[string]string{"PORT": port}), 1); err == nil || !strings.Contains(err.Error(), "unhealthy") {
		t.Fatalf("nothing listening: want unhealthy, got %v", err)
	}
	if err := Check(ctx, env(map[string]string{"PORT": "eighty"}), 1); err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("bad PORT: got %v", err)
	}
}
