package taskapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/tasks/internal/taskapi"
	"github.com/wriveted/huey-api/tasks/internal/taskauth"
	"github.com/wriveted/huey-api/tasks/jobs"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// actorID is the background-work account migration 009 seeds.
var actorID = uuid.MustParse("2c092595-76e8-4ba9-9340-37b7237d6b59")

func workerClaims() db.Claims { return taskapi.WorkerClaims(actorID) }

// taskEnv is a task server on a fresh database, behind the shared secret.
type taskEnv struct {
	d      *dbtest.DB
	pool   *pgxpool.Pool // huey_api, as the services log in
	super  *pgxpool.Pool // superuser, for fixtures and assertions
	srv    *httptest.Server
	secret string
	msgs   *recordingMessenger
	opts   taskapi.Options
}

// recordingMessenger is a Messenger that remembers what it sent.
type recordingMessenger struct {
	mu   sync.Mutex
	sent []taskapi.Message
}

func (r *recordingMessenger) Send(_ context.Context, m taskapi.Message) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return "rec-" + uuid.NewString(), nil
}

func (r *recordingMessenger) all() []taskapi.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]taskapi.Message(nil), r.sent...)
}

// newTaskEnv starts a task server; configure adjusts its options.
func newTaskEnv(t *testing.T, configure ...func(*taskapi.Options)) *taskEnv {
	t.Helper()
	d := dbtest.NewDB(t)
	env := &taskEnv{d: d, pool: d.Pool(t, dbtest.RoleAPI), super: d.SuperPool(t),
		secret: strings.Repeat("k", 40), msgs: &recordingMessenger{}}
	auth, err := taskauth.NewSecret(env.secret)
	if err != nil {
		t.Fatal(err)
	}
	env.opts = taskapi.Options{Pool: env.pool, Logger: slog.New(slog.DiscardHandler), Version: "test", Auth: auth,
		Claims: workerClaims(), ActorID: actorID, Messenger: env.msgs, LabelAfterHydration: true}
	for _, f := range configure {
		f(&env.opts)
	}
	env.srv = httptest.NewServer(taskapi.New(env.opts))
	t.Cleanup(env.srv.Close)
	return env
}

// post sends body (a Go value marshalled to JSON, or raw []byte) to path with
// the shared secret; taskID, when set, names the queued task.
func (e *taskEnv) post(t *testing.T, path string, body any, taskID string) (int, []byte) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	case nil:
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	// What Cloud Tasks sends when no Content-Type is set (F-T2).
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer "+e.secret)
	if taskID != "" {
		req.Header.Set("X-Huey-Task-Id", taskID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// enqueue queues a task as the background-work account would and returns
// its id.
func (e *taskEnv) enqueue(t *testing.T, kind string, payload any, key string) string {
	t.Helper()
	ctx := t.Context()
	if err := db.InTx(ctx, e.pool, workerClaims(), func(tx *db.Tx) error {
		return jobs.Enqueue(ctx, tx, jobs.Task{Kind: kind, Payload: payload, IdempotencyKey: key})
	}); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := e.super.QueryRow(ctx, `SELECT id::text FROM task_queue WHERE kind = $1 ORDER BY created_at DESC LIMIT 1`, kind).
		Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// count runs a count(*) query as the superuser.
func (e *taskEnv) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.super.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
