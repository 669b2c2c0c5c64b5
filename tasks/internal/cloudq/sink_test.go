package cloudq

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// fakeTasks is an in-process Cloud Tasks server that records requests and,
// like the real one, refuses a second task of the same name.
type fakeTasks struct {
	cloudtaskspb.UnimplementedCloudTasksServer

	mu      sync.Mutex
	names   map[string]bool
	creates []*cloudtaskspb.CreateTaskRequest
	updates []*cloudtaskspb.UpdateQueueRequest
	fail    error // returned by every call when set
}

func (f *fakeTasks) CreateTask(_ context.Context, req *cloudtaskspb.CreateTaskRequest) (*cloudtaskspb.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, proto.Clone(req).(*cloudtaskspb.CreateTaskRequest))
	if f.fail != nil {
		return nil, f.fail
	}
	name := req.GetTask().GetName()
	if f.names[name] {
		return nil, status.Errorf(codes.AlreadyExists, "Requested entity already exists")
	}
	f.names[name] = true
	return req.GetTask(), nil
}

func (f *fakeTasks) UpdateQueue(_ context.Context, req *cloudtaskspb.UpdateQueueRequest) (*cloudtaskspb.Queue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, proto.Clone(req).(*cloudtaskspb.UpdateQueueRequest))
	if f.fail != nil {
		return nil, f.fail
	}
	return req.GetQueue(), nil
}

func (f *fakeTasks) setFail(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

func (f *fakeTasks) recorded() ([]*cloudtaskspb.CreateTaskRequest, []*cloudtaskspb.UpdateQueueRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*cloudtaskspb.CreateTaskRequest(nil), f.creates...), append([]*cloudtaskspb.UpdateQueueRequest(nil), f.updates...)
}

// startFake serves a fakeTasks on loopback and returns it with the client
// options that reach it (LIBRARIES.md §5).
func startFake(t *testing.T) (*fakeTasks, []option.ClientOption) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeTasks{names: map[string]bool{}}
	srv := grpc.NewServer()
	cloudtaskspb.RegisterCloudTasksServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return fake, []option.ClientOption{
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

func testConfig() Config {
	return Config{
		ProjectID:           "wriveted-api",
		Location:            "australia-southeast1",
		Queue:               "background-tasks",
		TargetBase:          "https://wriveted-api-internal-abc123-ts.a.run.app", // normalised by NewSink
		ServiceAccountEmail: "background-tasks@wriveted-api.iam.gserviceaccount.com",
	}
}

func newSink(t *testing.T, cfg Config) (*Sink, *fakeTasks) {
	t.Helper()
	fake, opts := startFake(t)
	s, err := NewSink(t.Context(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, fake
}

const rowID = "3f9b2c64-8d1e-4a7b-9c0d-5e6f7a8b9c0d"

func TestDeliverCreatesTheHTTPTask(t *testing.T) {
	t.Parallel()
	s, fake := newSink(t, testConfig())
	payload := []byte(`{"work_id":42}`)
	if err := s.Deliver(t.Context(), Task{ID: rowID, Kind: "generate-labels", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	creates, _ := fake.recorded()
	parent := "projects/wriveted-api/locations/australia-southeast1/queues/background-tasks"
	want := []*cloudtaskspb.CreateTaskRequest{{
		Parent: parent,
		Task: &cloudtaskspb.Task{
			Name: parent + "/tasks/" + rowID,
			MessageType: &cloudtaskspb.Task_HttpRequest{HttpRequest: &cloudtaskspb.HttpRequest{
				HttpMethod: cloudtaskspb.HttpMethod_POST,
				Url:        "https://wriveted-api-internal-abc123-ts.a.run.app/v1/generate-labels",
				Headers: map[string]string{
					"Content-Type":      "application/json",
					"X-Huey-Task-Id":    rowID,
					"X-Idempotency-Key": rowID,
				},
				Body: payload,
				AuthorizationHeader: &cloudtaskspb.HttpRequest_OidcToken{OidcToken: &cloudtaskspb.OidcToken{
					ServiceAccountEmail: "background-tasks@wriveted-api.iam.gserviceaccount.com",
					Audience:            "https://wriveted-api-internal-abc123-ts.a.run.app",
				}},
			}},
		},
	}}
	if diff := cmp.Diff(want, creates, protocmp.Transform()); diff != "" {
		t.Fatalf("CreateTask requests (-want +got):\n%s", diff)
	}
}

func TestDeliverUsesAnExplicitAudienceAndOmitsAnEmptyBody(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TargetBase = "http://127.0.0.1:8001/" // already normalised
	cfg.Audience = "https://tasks.example.org"
	s, fake := newSink(t, cfg)
	if err := s.Deliver(t.Context(), Task{ID: "row_1", Kind: "update-search-index"}); err != nil {
		t.Fatal(err)
	}
	creates, _ := fake.recorded()
	if len(creates) != 1 {
		t.Fatalf("%d CreateTask calls, want 1", len(creates))
	}
	hr := creates[0].GetTask().GetHttpRequest()
	if got := hr.GetUrl(); got != "http://127.0.0.1:8001/v1/update-search-index" {
		t.Errorf("url = %q", got)
	}
	if got := hr.GetOidcToken().GetAudience(); got != "https://tasks.example.org" {
		t.Errorf("audience = %q", got)
	}
	if hr.GetBody() != nil {
		t.Errorf("body = %q, want none", hr.GetBody())
	}
}

func TestDeliverTwiceIsDeduplicated(t *testing.T) {
	t.Parallel()
	s, fake := newSink(t, testConfig())
	task := Task{ID: rowID, Kind: "generate-reading-pathways", Payload: []byte(`{"user_id":"u","attributes":{}}`)}
	for i := range 2 {
		if err := s.Deliver(t.Context(), task); err != nil {
			t.Fatalf("Deliver #%d: %v", i+1, err)
		}
	}
	creates, _ := fake.recorded()
	if len(creates) != 2 || creates[0].GetTask().GetName() != creates[1].GetTask().GetName() {
		t.Fatalf("want two CreateTask calls with one name, got %d", len(creates))
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.names) != 1 {
		t.Fatalf("fake holds %d tasks, want 1", len(fake.names))
	}
}

func TestDeliverReportsFailures(t *testing.T) {
	t.Parallel()
	s, fake := newSink(t, testConfig())
	fake.setFail(status.Error(codes.Unavailable, "try again"))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := s.Deliver(ctx, Task{ID: rowID, Kind: "generate-labels", Payload: []byte(`{}`)})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), rowID) {
		t.Fatalf("err = %v, want Unavailable naming the row", err)
	}
	if creates, _ := fake.recorded(); len(creates) != 1 {
		t.Fatalf("%d CreateTask calls, want 1 (no retry inside Deliver)", len(creates))
	}

	fake.setFail(status.Error(codes.PermissionDenied, "no"))
	if err := s.Deliver(ctx, Task{ID: rowID, Kind: "generate-labels"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("err = %v, want PermissionDenied", err)
	}
}

func TestDeliverRefusesBadTasks(t *testing.T) {
	t.Parallel()
	s, fake := newSink(t, testConfig())
	tests := []struct {
		name string
		task Task
		want string
	}{
		{"empty id", Task{Kind: "generate-labels"}, "id must be"},
		{"id with a slash", Task{ID: "a/b", Kind: "generate-labels"}, "id must be"},
		{"id too long", Task{ID: strings.Repeat("a", 501), Kind: "generate-labels"}, "id must be"},
		{"empty kind", Task{ID: rowID}, "not an endpoint path"},
		{"kind escaping /v1", Task{ID: rowID, Kind: "../admin"}, "not an endpoint path"},
		{"absolute kind", Task{ID: rowID, Kind: "/generate-labels"}, "not an endpoint path"},
		{"kind with a query", Task{ID: rowID, Kind: "generate-labels?x=1"}, "not an endpoint path"},
		{"payload not JSON", Task{ID: rowID, Kind: "generate-labels", Payload: []byte("{")}, "not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := s.Deliver(t.Context(), tc.task)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Cleanup(func() {
		if creates, _ := fake.recorded(); len(creates) != 0 {
			t.Errorf("refused tasks reached Cloud Tasks: %d calls", len(creates))
		}
	})
}

func TestDeliverAcceptsNestedKinds(t *testing.T) {
	t.Parallel()
	s, fake := newSink(t, testConfig())
	if err := s.Deliver(t.Context(), Task{ID: "a_b-C9", Kind: "internal/tasks/action-node", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	creates, _ := fake.recorded()
	if got := creates[0].GetTask().GetHttpRequest().GetUrl(); got != "https://wriveted-api-internal-abc123-ts.a.run.app/v1/internal/tasks/action-node" {
		t.Fatalf("url = %q", got)
	}
}

func TestApplyRetryConfig(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Retry = &RetryConfig{MaxAttempts: 8, MinBackoff: 10 * time.Second, MaxBackoff: 5 * time.Minute, MaxRetryDuration: 24 * time.Hour, MaxDoublings: 4}
	s, fake := newSink(t, cfg)
	if err := s.ApplyRetryConfig(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, updates := fake.recorded()
	want := []*cloudtaskspb.UpdateQueueRequest{{
		Queue: &cloudtaskspb.Queue{
			Name: "projects/wriveted-api/locations/australia-southeast1/queues/background-tasks",
			RetryConfig: &cloudtaskspb.RetryConfig{
				MaxAttempts:      8,
				MinBackoff:       durationpb.New(10 * time.Second),
				MaxBackoff:       durationpb.New(5 * time.Minute),
				MaxRetryDuration: durationpb.New(24 * time.Hour),
				MaxDoublings:     4,
			},
		},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"retry_config"}},
	}}
	if diff := cmp.Diff(want, updates, protocmp.Transform()); diff != "" {
		t.Fatalf("UpdateQueue requests (-want +got):\n%s", diff)
	}
}

func TestApplyRetryConfigLeavesZeroFieldsUnset(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Retry = &RetryConfig{MaxAttempts: -1}
	s, fake := newSink(t, cfg)
	if err := s.ApplyRetryConfig(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, updates := fake.recorded()
	want := &cloudtaskspb.RetryConfig{MaxAttempts: -1}
	if len(updates) != 1 {
		t.Fatalf("%d UpdateQueue calls, want 1", len(updates))
	}
	if diff := cmp.Diff(want, updates[0].GetQueue().GetRetryConfig(), protocmp.Transform()); diff != "" {
		t.Fatalf("retry config (-want +got):\n%s", diff)
	}
}

func TestApplyRetryConfigWithoutRetryDoesNothing(t *testing.T) {
	t.Parallel()
	s, fake := newSink(t, testConfig())
	if err := s.ApplyRetryConfig(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, updates := fake.recorded(); len(updates) != 0 {
		t.Fatalf("%d UpdateQueue calls, want none", len(updates))
	}
}

func TestApplyRetryConfigReportsFailures(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Retry = &RetryConfig{MaxAttempts: 3}
	s, fake := newSink(t, cfg)
	fake.setFail(status.Error(codes.PermissionDenied, "cloudtasks.queues.update denied"))
	err := s.ApplyRetryConfig(t.Context())
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "queues/background-tasks") {
		t.Fatalf("err = %v, want PermissionDenied naming the queue", err)
	}
}

func TestNewSinkValidates(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Queue = ""
	cfg.TargetBase = "not a url"
	s, err := NewSink(t.Context(), cfg, option.WithoutAuthentication(), option.WithEndpoint("127.0.0.1:1"))
	if err == nil || s != nil {
		t.Fatalf("NewSink = %v, %v; want an error", s, err)
	}
	for _, want := range []string{"GCP_CLOUD_TASKS_NAME", "WRIVETED_INTERNAL_API"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
