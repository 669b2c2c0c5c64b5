package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/tasks/jobs"
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
	env := map[string]string{"DATABASE_URL": d.RoleURL(dbtest.RoleAPI), "SECRET_KEY": strings.Repeat("s", 32), "PORT": "0",
		"INTERNAL_TASK_SECRET": strings.Repeat("t", 32), "APP_ENV": "test"}
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
	if err != nil || resp.StatusCode != http.StatusOK || len(body["database_revision"]) != 14 ||
		body["version"] != "internal" || body["cloud_run_revision"] != "Unknown" {
		t.Fatalf("version: %d %v %v", resp.StatusCode, body, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestConfigAuthenticatesCallers(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://x@localhost/db", "SECRET_KEY": strings.Repeat("s", 32), "APP_ENV": "development"}
	with := func(kv ...string) func(string) string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		name string
		env  func(string) string
		want string // "" = valid
	}{
		{"local without a secret", with(), "INTERNAL_TASK_SECRET is not set"},
		{"local with a short secret", with("INTERNAL_TASK_SECRET", "short"), "INTERNAL_TASK_SECRET is not set or shorter"},
		{"local with a secret", with("INTERNAL_TASK_SECRET", strings.Repeat("t", 32)), ""},
		{"production needs the audience", with("APP_ENV", "production"), "WRIVETED_INTERNAL_API is not set"},
		{"unset APP_ENV on Cloud Run is production", with("APP_ENV", "", "K_SERVICE", "huey-internal", "INTERNAL_TASK_SECRET", strings.Repeat("t", 32)), "WRIVETED_INTERNAL_API is not set"},
		{"unset APP_ENV with Cloud Tasks is production", with("APP_ENV", "", "GCP_CLOUD_TASKS_NAME", "q", "INTERNAL_TASK_SECRET", strings.Repeat("t", 32)), "WRIVETED_INTERNAL_API is not set"},
		{"unset APP_ENV elsewhere is development", with("APP_ENV", ""), "INTERNAL_TASK_SECRET is not set"},
		{"production with OIDC", with("APP_ENV", "production", "WRIVETED_INTERNAL_API", "https://internal.example.org"), ""},
		{"bad interval", with("INTERNAL_TASK_SECRET", strings.Repeat("t", 32), "TASK_DISPATCH_INTERVAL", "soon"), "TASK_DISPATCH_INTERVAL"},
		{"bad actor", with("INTERNAL_TASK_SECRET", strings.Repeat("t", 32), "TASK_SERVICE_ACCOUNT_ID", "gpt"), "TASK_SERVICE_ACCOUNT_ID"},
		{"bad shutdown timeout", with("INTERNAL_TASK_SECRET", strings.Repeat("t", 32), "SHUTDOWN_TIMEOUT", "1ms"), "SHUTDOWN_TIMEOUT"},
		{"bad internal URL", with("INTERNAL_TASK_SECRET", strings.Repeat("t", 32), "WRIVETED_INTERNAL_API", "internal"), "WRIVETED_INTERNAL_API"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(tc.env)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if cfg.actorID.String() != defaultActorID {
					t.Errorf("actor %s", cfg.actorID)
				}
				if cfg.shutdownTimeout != 9*time.Second {
					t.Errorf("shutdown timeout %s", cfg.shutdownTimeout)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming %q, got %v", tc.want, err)
			}
		})
	}
	prod, err := loadConfig(with("APP_ENV", "production", "WRIVETED_INTERNAL_API", "https://internal.example.org/"))
	if err != nil || prod.oidc.Audience != "https://internal.example.org" || prod.dispatchEvery != 0 || prod.refreshEvery != 0 ||
		prod.oidc.ServiceAccountEmail != "background-tasks@wriveted-api.iam.gserviceaccount.com" {
		t.Fatalf("production: %+v %v", prod.oidc, err)
	}
}

// Under `make run` a task the API queues is delivered by the local timer,
// runs once, and the task server refuses callers without the secret.
func TestLocalQueueDeliversQueuedTasks(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	env := map[string]string{"DATABASE_URL": d.RoleURL(dbtest.RoleAPI), "SECRET_KEY": strings.Repeat("s", 32), "PORT": "0",
		"INTERNAL_TASK_SECRET": strings.Repeat("t", 32), "TASK_DISPATCH_INTERVAL": "50ms", "APP_ENV": "test"}
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
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	addr = strings.Replace(addr, "[::]", "127.0.0.1", 1)
	resp, err := http.Post("http://"+addr+"/v1/send-sms", "application/json", strings.NewReader(`{"to":"+61400000000","body":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no secret: %d, want 401", resp.StatusCode)
	}

	// A signed-in request queues an SMS in its transaction.
	user := uuid.New()
	claims := db.Claims{Kind: "user", ID: user.String(), Principals: []string{"system:everyone", "system:authenticated", "user:" + user.String()}}
	pool := d.Pool(t, dbtest.RoleAPI)
	if err := db.InTx(ctx, pool, claims, func(tx *db.Tx) error {
		return jobs.Enqueue(ctx, tx, jobs.Task{Kind: jobs.KindSendSMS, Payload: map[string]any{"to": "+61400000000", "body": "Well read!"}})
	}); err != nil {
		t.Fatal(err)
	}
	super := d.SuperPool(t)
	var status string
	var attempts int
	for range 200 { // ≤ 10 s
		if err := super.QueryRow(ctx, `SELECT status, attempts FROM task_queue`).Scan(&status, &attempts); err != nil {
			t.Fatal(err)
		}
		if status == "done" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var sent int
	if err := super.QueryRow(ctx, `SELECT count(*) FROM events WHERE title = 'SMS sent' AND info -> 'message' ->> 'body' = 'Well read!'`).
		Scan(&sent); err != nil {
		t.Fatal(err)
	}
	if status != "done" || attempts != 1 || sent != 1 {
		t.Fatalf("task %s after %d attempts, %d SMS recorded; want done, 1, 1", status, attempts, sent)
	}
}
