package dispatch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/tasks/internal/cloudq"
	"github.com/wriveted/huey-api/tasks/internal/dispatch"
	"github.com/wriveted/huey-api/tasks/internal/taskapi"
	"github.com/wriveted/huey-api/tasks/internal/taskauth"
	"github.com/wriveted/huey-api/tasks/jobs"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var actorID = uuid.MustParse("2c092595-76e8-4ba9-9340-37b7237d6b59")

func workerClaims() db.Claims { return taskapi.WorkerClaims(actorID) }

const secret = "a-shared-secret-of-at-least-32-bytes!"

// messenger counts sends; when block is set, the first send waits for its
// request to be cut off (the task server killed mid-task).
type messenger struct {
	block   bool
	started chan struct{}
	once    sync.Once
	sent    atomic.Int64
}

func (m *messenger) Send(ctx context.Context, _ taskapi.Message) (string, error) {
	blocked := false
	if m.block {
		m.once.Do(func() { blocked = true })
	}
	if blocked {
		close(m.started)
		<-ctx.Done()
		return "", ctx.Err()
	}
	m.sent.Add(1)
	return "id", nil
}

type env struct {
	d     *dbtest.DB
	pool  *pgxpool.Pool
	super *pgxpool.Pool
}

func newEnv(t testing.TB) *env {
	t.Helper()
	d := dbtest.NewDB(t)
	return &env{d: d, pool: d.Pool(t, dbtest.RoleAPI), super: d.SuperPool(t)}
}

// server starts a task server on the env's database.
func (e *env) server(t testing.TB, m taskapi.Messenger) *httptest.Server {
	t.Helper()
	auth, err := taskauth.NewSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(taskapi.New(taskapi.Options{Pool: e.pool, Logger: slog.New(slog.DiscardHandler),
		Auth: auth, Claims: workerClaims(), ActorID: actorID, Messenger: m}))
	t.Cleanup(srv.Close)
	return srv
}

// enqueueSMS queues n SMS tasks in one transaction of a signed-in user and
// returns their bodies.
func (e *env) enqueueSMS(t testing.TB, n int) []string {
	t.Helper()
	user := uuid.New()
	claims := db.Claims{Kind: "user", ID: user.String(), Principals: []string{"system:everyone", "system:authenticated"}}
	var bodies []string
	err := db.InTx(t.Context(), e.pool, claims, func(tx *db.Tx) error {
		for i := range n {
			body := fmt.Sprintf("message %d", i)
			bodies = append(bodies, body)
			if err := jobs.Enqueue(t.Context(), tx, jobs.Task{Kind: jobs.KindSendSMS,
				Payload: map[string]any{"to": "+61400000000", "body": body}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return bodies
}

func (e *env) statuses(t *testing.T) map[string]int {
	t.Helper()
	rows, err := e.super.Query(t.Context(), `SELECT status, count(*) FROM task_queue GROUP BY status`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

// smsRecorded counts the "SMS sent" events per body: a task's effect.
func (e *env) smsRecorded(t *testing.T) map[string]int {
	t.Helper()
	rows, err := e.super.Query(t.Context(), `SELECT info -> 'message' ->> 'body', count(*) FROM events WHERE title = 'SMS sent' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var b string
		var n int
		if err := rows.Scan(&b, &n); err != nil {
			t.Fatal(err)
		}
		out[b] = n
	}
	return out
}

// switchSink delivers over HTTP to whichever server is current.
type switchSink struct {
	mu   sync.Mutex
	sink dispatch.HTTPSink
}

func (s *switchSink) to(url string) {
	s.mu.Lock()
	s.sink = dispatch.HTTPSink{BaseURL: url + "/", Secret: secret}
	s.mu.Unlock()
}

func (s *switchSink) Deliver(ctx context.Context, t dispatch.Task) error {
	s.mu.Lock()
	sink := s.sink
	s.mu.Unlock()
	return sink.Deliver(ctx, t)
}

func noBackoff(int) time.Duration { return 0 }

// drain runs batches until nothing is due (bounded).
func drain(t *testing.T, d *dispatch.Dispatcher) {
	t.Helper()
	for range 20 {
		st, err := d.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Processed == 0 {
			return
		}
	}
	t.Fatal("the queue did not drain in 20 batches")
}

// The task server is killed while it runs a task: that task's transaction
// rolls back, the dispatcher records the failure, and after a restart every
// queued task completes exactly once.
func TestServerKilledMidTaskEveryTaskCompletesOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bodies := e.enqueueSMS(t, 6)
	first := &messenger{block: true, started: make(chan struct{})}
	srvA := e.server(t, first)
	sink := &switchSink{}
	sink.to(srvA.URL)
	d := &dispatch.Dispatcher{Pool: e.pool, Claims: workerClaims(), Sink: sink, Workers: 3, Backoff: noBackoff}

	done := make(chan dispatch.Stats, 1)
	go func() {
		st, err := d.RunOnce(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	select {
	case <-first.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no task started")
	}
	srvA.CloseClientConnections() // kill the server mid-task
	srvA.Close()
	st := <-done
	if st.Processed != 6 || st.Failed < 1 || st.Succeeded+st.Failed != 6 {
		t.Fatalf("first batch %+v: want 6 processed, at least the killed one failed", st)
	}

	srvB := e.server(t, &messenger{})
	sink.to(srvB.URL) // the restarted server
	drain(t, d)
	if got := e.statuses(t); got["done"] != 6 || len(got) != 1 {
		t.Fatalf("statuses %v, want 6 done", got)
	}
	got := e.smsRecorded(t)
	for _, b := range bodies {
		if got[b] != 1 {
			t.Errorf("%q ran %d times, want once (%v)", b, got[b], got)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM task_queue WHERE attempts = 2`); n < 1 {
		t.Errorf("the killed task should have taken a second attempt")
	}
}

// A dispatcher dies after claiming (the task is left running). Once the
// lease runs out another dispatcher claims it again; and a task the server
// finished while its dispatcher lost the answer is not run again.
func TestDispatcherKilledTaskIsClaimedAgainAfterItsLease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bodies := e.enqueueSMS(t, 3)
	m := &messenger{}
	srv := e.server(t, m)
	// The lease is long enough that the steps "within the lease" finish
	// inside it under a loaded `go test -race ./...` (300 ms was not).
	const lease = 2 * time.Second
	dead := &dispatch.Dispatcher{Pool: e.pool, Claims: workerClaims(), Lease: lease,
		Sink: &dispatch.HTTPSink{BaseURL: srv.URL, Secret: secret}}
	claimed, _, err := dead.Claim(t.Context()) // …and dies
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d: %v", len(claimed), err)
	}
	// The server ran one of them, but its dispatcher never heard back.
	if err := (&dispatch.HTTPSink{BaseURL: srv.URL, Secret: secret}).Deliver(t.Context(), claimed[0]); err != nil {
		t.Fatal(err)
	}
	next := &dispatch.Dispatcher{Pool: e.pool, Claims: workerClaims(), Sink: &dispatch.HTTPSink{BaseURL: srv.URL, Secret: secret}}
	if st, err := next.RunOnce(t.Context()); err != nil || st.Processed != 0 {
		t.Fatalf("within the lease: %+v %v, want nothing claimed", st, err)
	}
	time.Sleep(lease + 100*time.Millisecond)
	drain(t, next)
	// At-least-once delivery (a Cloud Tasks retry, a lease that ran out while
	// the server was still busy) delivers a done task again: answered from
	// its stored result, not run.
	if err := (&dispatch.HTTPSink{BaseURL: srv.URL, Secret: secret}).Deliver(t.Context(), claimed[1]); err != nil {
		t.Fatal(err)
	}
	if got := e.statuses(t); got["done"] != 3 {
		t.Fatalf("statuses %v", got)
	}
	got := e.smsRecorded(t)
	for _, b := range bodies {
		if got[b] != 1 {
			t.Errorf("%q ran %d times, want once", b, got[b])
		}
	}
	if m.sent.Load() != 3 {
		t.Errorf("messenger sent %d, want 3", m.sent.Load())
	}
}

// A task enqueued in a rolled-back transaction never runs.
func TestRolledBackEnqueueNeverRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := &messenger{}
	srv := e.server(t, m)
	claims := db.Claims{Kind: "user", ID: uuid.NewString(), Principals: []string{"system:everyone", "system:authenticated"}}
	boom := errors.New("the change failed")
	err := db.InTx(t.Context(), e.pool, claims, func(tx *db.Tx) error {
		if err := jobs.Enqueue(t.Context(), tx, jobs.Task{Kind: jobs.KindSendSMS, Payload: map[string]any{"to": "1", "body": "x"}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	d := &dispatch.Dispatcher{Pool: e.pool, Claims: workerClaims(), Sink: &dispatch.HTTPSink{BaseURL: srv.URL, Secret: secret}}
	st, err := d.RunOnce(t.Context())
	if err != nil || st.Processed != 0 || m.sent.Load() != 0 || len(e.smsRecorded(t)) != 0 {
		t.Fatalf("%+v %v sent=%d", st, err, m.sent.Load())
	}
}

// Failures back off exponentially and end dead-lettered; a task the server
// refuses as malformed is dead at once.
func TestFailuresBackOffThenDeadLetter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var calls atomic.Int64
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, `{"detail":"Task processing failed"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	e.enqueueSMS(t, 1)
	if _, err := e.super.Exec(t.Context(), `UPDATE task_queue SET max_attempts = 3`); err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	d := &dispatch.Dispatcher{Pool: e.pool, Claims: workerClaims(), Sink: &dispatch.HTTPSink{BaseURL: failing.URL, Secret: secret},
		Backoff: func(n int) time.Duration { waits = append(waits, dispatch.DefaultBackoff(n)); return 0 }}
	for i := range 3 {
		st, err := d.RunOnce(t.Context())
		if err != nil || st.Processed != 1 {
			t.Fatalf("run %d: %+v %v", i, st, err)
		}
	}
	if st, _ := d.RunOnce(t.Context()); st.Processed != 0 {
		t.Fatalf("a dead task was claimed: %+v", st)
	}
	var statusText, lastErr string
	var attempts int
	if err := e.super.QueryRow(t.Context(), `SELECT status, attempts, last_error FROM task_queue`).Scan(&statusText, &attempts, &lastErr); err != nil {
		t.Fatal(err)
	}
	if statusText != "dead" || attempts != 3 || calls.Load() != 3 || !strings.Contains(lastErr, "500") {
		t.Fatalf("status %s attempts %d calls %d error %q", statusText, attempts, calls.Load(), lastErr)
	}
	if len(waits) != 3 || waits[0] != 5*time.Second || waits[1] != 10*time.Second || waits[2] != 20*time.Second {
		t.Errorf("backoff %v, want 5s 10s 20s", waits)
	}
	if dispatch.DefaultBackoff(40) != time.Hour {
		t.Errorf("backoff is not capped")
	}

	// Malformed: the task server answers 422 → dead after one attempt.
	srv := e.server(t, &messenger{})
	if _, err := e.super.Exec(t.Context(), `DELETE FROM task_queue`); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(t.Context(), e.pool, workerClaims(), func(tx *db.Tx) error {
		return jobs.Enqueue(t.Context(), tx, jobs.Task{Kind: jobs.KindSendSMS, Payload: map[string]any{"body": "no recipient"}})
	}); err != nil {
		t.Fatal(err)
	}
	d.Sink = &dispatch.HTTPSink{BaseURL: srv.URL, Secret: secret}
	if st, err := d.RunOnce(t.Context()); err != nil || st.DeadLettered != 1 {
		t.Fatalf("%+v %v", st, err)
	}
	if err := e.super.QueryRow(t.Context(), `SELECT status, attempts FROM task_queue`).Scan(&statusText, &attempts); err != nil ||
		statusText != "dead" || attempts != 1 {
		t.Fatalf("malformed task: %s after %d attempts (%v)", statusText, attempts, err)
	}
}

func (e *env) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := e.super.QueryRow(t.Context(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fakeCloudTasks is an in-process Cloud Tasks: it accepts CreateTask
// (refusing a repeated name) and then runs the task like Cloud Tasks does,
// an HTTP request to the task's URL with its headers and body (the bearer
// secret standing in for the OIDC token).
type fakeCloudTasks struct {
	cloudtaskspb.UnimplementedCloudTasksServer
	mu    sync.Mutex
	names map[string]bool
	reqs  []*cloudtaskspb.CreateTaskRequest
	wg    sync.WaitGroup
	codes []int
}

func (f *fakeCloudTasks) CreateTask(_ context.Context, req *cloudtaskspb.CreateTaskRequest) (*cloudtaskspb.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	if f.names[req.GetTask().GetName()] {
		return nil, status.Error(codes.AlreadyExists, "Requested entity already exists")
	}
	f.names[req.GetTask().GetName()] = true
	h := req.GetTask().GetHttpRequest()
	f.wg.Go(func() {
		r, _ := http.NewRequest(h.GetHttpMethod().String(), h.GetUrl(), bytes.NewReader(h.GetBody()))
		for k, v := range h.GetHeaders() {
			r.Header.Set(k, v)
		}
		r.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(r)
		code := 0
		if err == nil {
			code = resp.StatusCode
			resp.Body.Close()
		}
		f.mu.Lock()
		f.codes = append(f.codes, code)
		f.mu.Unlock()
	})
	return req.GetTask(), nil
}

// With Cloud Tasks configured, the dispatcher hands tasks over (named after
// their rows, with the OIDC identity, JSON content type and the task id),
// marks them dispatched, and the task server marks each done when Cloud
// Tasks delivers it.
func TestCloudTasksPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bodies := e.enqueueSMS(t, 2)
	srv := e.server(t, &messenger{})

	fake := &fakeCloudTasks{names: map[string]bool{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	cloudtaskspb.RegisterCloudTasksServer(gs, fake)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	cfg := cloudq.Config{ProjectID: "p", Location: "l", Queue: "q", TargetBase: srv.URL + "/",
		ServiceAccountEmail: "tasks@p.iam.gserviceaccount.com"}
	sink, err := cloudq.NewSink(t.Context(), cfg, option.WithEndpoint(lis.Addr().String()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	d := &dispatch.Dispatcher{Pool: e.pool, Claims: workerClaims(), Sink: dispatch.CloudTasks(sink), Handover: true}
	st, err := d.RunOnce(t.Context())
	if err != nil || st.Processed != 2 || st.Succeeded != 2 {
		t.Fatalf("%+v %v", st, err)
	}
	fake.wg.Wait()
	fake.mu.Lock()
	reqs, codes := fake.reqs, fake.codes
	fake.mu.Unlock()
	if len(reqs) != 2 || len(codes) != 2 || codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("%d tasks created, deliveries answered %v", len(reqs), codes)
	}
	r := reqs[0]
	h := r.GetTask().GetHttpRequest()
	if r.GetParent() != "projects/p/locations/l/queues/q" || !strings.HasPrefix(r.GetTask().GetName(), "projects/p/locations/l/queues/q/tasks/") ||
		h.GetUrl() != srv.URL+"/v1/send-sms" || h.GetHeaders()["Content-Type"] != "application/json" ||
		h.GetHeaders()["X-Huey-Task-Id"] == "" || h.GetOidcToken().GetServiceAccountEmail() != "tasks@p.iam.gserviceaccount.com" ||
		h.GetOidcToken().GetAudience() != srv.URL {
		t.Fatalf("task %v", r)
	}
	if got := e.statuses(t); got["done"] != 2 {
		t.Fatalf("statuses %v, want both done by the task server", got)
	}
	got := e.smsRecorded(t)
	for _, b := range bodies {
		if got[b] != 1 {
			t.Errorf("%q ran %d times", b, got[b])
		}
	}
	// A dispatcher that hands over the same row again is de-duplicated by name.
	id := h.GetHeaders()["X-Huey-Task-Id"]
	if err := dispatch.CloudTasks(sink).Deliver(t.Context(), dispatch.Task{ID: id, Kind: "send-sms", Payload: h.GetBody()}); err != nil {
		t.Fatalf("repeat hand-over: %v", err)
	}
	fake.wg.Wait()
	if got := e.smsRecorded(t); got[bodies[0]] != 1 || got[bodies[1]] != 1 {
		t.Errorf("after a repeated hand-over: %v", got)
	}
}
