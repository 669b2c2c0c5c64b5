package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/schema/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestConfigIsRequired(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), func(string) string { return "" }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL is not set") || !strings.Contains(err.Error(), "SECRET_KEY") {
		t.Fatalf("got %v", err)
	}
}

// The task server starts, answers /v1/version and shuts down cleanly.
func TestServeVersionAndShutdown(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	env := map[string]string{"DATABASE_URL": d.RoleURL(dbtest.RoleAPI), "SECRET_KEY": strings.Repeat("s", 32), "PORT": "0"}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, io.Discard, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("task server did not start: %v", err)
	}
	addr = strings.Replace(addr, "[::]", "127.0.0.1", 1)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+"/v1/version", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(body["database_revision"]) != 14 {
		t.Fatalf("version: %d %v %v", resp.StatusCode, body, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
