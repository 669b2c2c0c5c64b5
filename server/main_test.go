package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/originaldb"
	"github.com/wriveted/huey-api/server/internal/config"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestStartWithoutDatabaseSaysWhatToSet(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), nil, envOf(map[string]string{"SECRET_KEY": strings.Repeat("k", 32)}), io.Discard, nil)
	if err == nil || strings.Count(err.Error(), "\n") > 0 || !strings.Contains(err.Error(), "DATABASE_URL is not set") {
		t.Fatalf("want one line naming DATABASE_URL, got %v", err)
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	d := dbtest.EmptyDB(t)
	env := envOf(map[string]string{"MIGRATION_DATABASE_URL": d.SuperuserURL(), "DATABASE_URL": d.RoleURL(dbtest.RoleAPI)})
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "status"}, env, &out, nil); err != nil {
		t.Fatal(err)
	}
	files, _ := schema.Dir().Files()
	if !strings.Contains(out.String(), fmt.Sprintf("%d pending", len(files))) {
		t.Fatalf("status before: %s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"migrate"}, env, &out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("applied %d migration(s)", len(files))) {
		t.Fatalf("migrate: %s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"migrate"}, env, &out, nil); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("second migrate: %v %s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "status"}, env, &out, nil); err != nil || !strings.Contains(out.String(), "0 pending") {
		t.Fatalf("status after: %v %s", err, out.String())
	}
	if err := run(ctx, []string{"migrate", "sideways"}, env, io.Discard, nil); err == nil {
		t.Fatal("unknown migrate command accepted")
	}
}

// SIGTERM (a cancelled context) lets an in-flight request finish.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	srv := &http.Server{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("done"))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, srv, ln, slog.New(slog.NewJSONHandler(io.Discard, nil)), config.Config{})
	}()
	var resp *http.Response
	got := make(chan error, 1)
	go func() {
		for range 100 { // wait for the listener
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+srv.Addr+"/", nil)
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		got <- err
	}()
	<-started
	cancel()
	if err := <-got; err != nil {
		t.Fatalf("in-flight request failed: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "done" {
		t.Fatalf("in-flight body %q", body)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

// Issue 13: the takeover commands as an operator types them, on a database
// shaped like the original's, run as its owner login.
func TestMigrateTakeoverCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.EmptyDB(t)
	o, err := originaldb.Create(ctx, d.SuperuserURL(), d.URL)
	if err != nil {
		t.Fatal(err)
	}
	env := envOf(map[string]string{"MIGRATION_DATABASE_URL": d.URL(o.Owner, o.Password), "DATABASE_URL": d.RoleURL(dbtest.RoleAPI)})
	files, _ := schema.Dir().Files()
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "status"}, env, &out, nil); err != nil || !strings.Contains(out.String(), "-baseline "+files[0].Version()) {
		t.Fatalf("status of an original: %v %s", err, out.String())
	}
	if err := run(ctx, []string{"migrate"}, env, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "-baseline") {
		t.Fatalf("plain migrate of an original: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "-baseline", files[0].Version(), "-legacy-role", o.Owner}, env, &out, nil); err != nil ||
		!strings.Contains(out.String(), "drop-legacy-role "+o.Owner) {
		t.Fatalf("takeover: %v %s", err, out.String())
	}
	if err := run(ctx, []string{"migrate", "drop-legacy-role"}, env, io.Discard, nil); err == nil {
		t.Fatal("drop-legacy-role without a role accepted")
	}
	if err := run(ctx, []string{"migrate", "drop-legacy-role", o.Owner}, env, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"migrate", "release"}, env, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "-owner") {
		t.Fatalf("release without -owner: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "release", "-owner", o.Owner}, env, &out, nil); err != nil || !strings.Contains(out.String(), "released") {
		t.Fatalf("release: %v %s", err, out.String())
	}
}
