package cloudq

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	cloudtasks "cloud.google.com/go/cloudtasks/apiv2"
	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// Headers every task carries besides Content-Type.
const (
	HeaderTaskID         = "X-Huey-Task-Id"
	HeaderIdempotencyKey = "X-Idempotency-Key"
)

var (
	// taskIDRE is what Cloud Tasks accepts as TASK_ID.
	taskIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,500}$`)
	// kindRE is an endpoint path below /v1/: slash-separated segments of
	// letters, digits, "_" and "-" (for example "generate-labels" or
	// "internal/tasks/action-node").
	kindRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*(/[A-Za-z0-9][A-Za-z0-9_-]*)*$`)
)

// Task is one queued unit of work to deliver.
type Task struct {
	// ID is the uuid of the task_queue row; it names the Cloud Task, so it
	// must consist of letters, digits, "-" and "_" (a uuid does).
	ID string
	// Kind is the endpoint below /v1/ (jobs.Kind…).
	Kind string
	// Payload is the JSON request body; empty means no body.
	Payload []byte
}

// Sink creates Cloud Tasks HTTP tasks for queued rows. It is safe for
// concurrent use.
type Sink struct {
	cfg    Config
	client *cloudtasks.Client
}

// NewSink validates cfg (after normalising TargetBase) and opens a Cloud
// Tasks client with opts (credentials come from the environment unless opts
// say otherwise). Close the Sink when done.
func NewSink(ctx context.Context, cfg Config, opts ...option.ClientOption) (*Sink, error) {
	cfg.TargetBase = normaliseBase(cfg.TargetBase)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cloud tasks config: %w", err)
	}
	client, err := cloudtasks.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("open cloud tasks client: %w", err)
	}
	return &Sink{cfg: cfg, client: client}, nil
}

// Close closes the client's connection.
func (s *Sink) Close() error {
	return s.client.Close()
}

// ApplyRetryConfig sets the queue's retry policy to cfg.Retry with
// UpdateQueue and the update mask "retry_config", so nothing else about the
// queue changes; it does nothing when cfg.Retry is nil. The whole retry
// policy is replaced: fields left zero take Cloud Tasks' defaults. Note that
// UpdateQueue creates the queue when it does not exist, and needs the
// cloudtasks.queues.update permission.
func (s *Sink) ApplyRetryConfig(ctx context.Context) error {
	r := s.cfg.Retry
	if r == nil {
		return nil
	}
	rc := &cloudtaskspb.RetryConfig{MaxAttempts: r.MaxAttempts, MaxDoublings: r.MaxDoublings}
	if r.MinBackoff > 0 {
		rc.MinBackoff = durationpb.New(r.MinBackoff)
	}
	if r.MaxBackoff > 0 {
		rc.MaxBackoff = durationpb.New(r.MaxBackoff)
	}
	if r.MaxRetryDuration > 0 {
		rc.MaxRetryDuration = durationpb.New(r.MaxRetryDuration)
	}
	_, err := s.client.UpdateQueue(ctx, &cloudtaskspb.UpdateQueueRequest{
		Queue:      &cloudtaskspb.Queue{Name: s.cfg.QueuePath(), RetryConfig: rc},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"retry_config"}},
	})
	if err != nil {
		return fmt.Errorf("update retry config of %s: %w", s.cfg.QueuePath(), err)
	}
	return nil
}

// Deliver creates the HTTP task for t: named QueuePath()+"/tasks/"+t.ID,
// POST to TargetBase+"v1/"+t.Kind with t.Payload as body, headers
// Content-Type: application/json, X-Huey-Task-Id and X-Idempotency-Key (both
// t.ID), and an OIDC token for ServiceAccountEmail with OIDCAudience.
//
// A task of that name existing already (AlreadyExists) means an earlier
// Deliver of the same row got through, so Deliver returns nil. Any other
// failure is returned and the row should stay pending; the client does not
// retry CreateTask itself.
func (s *Sink) Deliver(ctx context.Context, t Task) error {
	if !taskIDRE.MatchString(t.ID) {
		return fmt.Errorf("deliver task %q: id must be 1 to 500 letters, digits, '-' or '_'", t.ID)
	}
	if !kindRE.MatchString(t.Kind) {
		return fmt.Errorf("deliver task %s: kind %q is not an endpoint path", t.ID, t.Kind)
	}
	if len(t.Payload) > 0 && !json.Valid(t.Payload) {
		return fmt.Errorf("deliver task %s (%s): payload is not JSON", t.ID, t.Kind)
	}
	req := s.createRequest(t)
	_, err := s.client.CreateTask(ctx, req)
	if status.Code(err) == codes.AlreadyExists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deliver task %s (%s): %w", t.ID, t.Kind, err)
	}
	return nil
}

// createRequest builds the CreateTask request for a checked t.
func (s *Sink) createRequest(t Task) *cloudtaskspb.CreateTaskRequest {
	var body []byte
	if len(t.Payload) > 0 {
		body = t.Payload
	}
	parent := s.cfg.QueuePath()
	return &cloudtaskspb.CreateTaskRequest{
		Parent: parent,
		Task: &cloudtaskspb.Task{
			Name: parent + "/tasks/" + t.ID,
			MessageType: &cloudtaskspb.Task_HttpRequest{HttpRequest: &cloudtaskspb.HttpRequest{
				HttpMethod: cloudtaskspb.HttpMethod_POST,
				Url:        s.cfg.TargetBase + "v1/" + t.Kind,
				Headers: map[string]string{
					"Content-Type":       "application/json",
					HeaderTaskID:         t.ID,
					HeaderIdempotencyKey: t.ID,
				},
				Body: body,
				AuthorizationHeader: &cloudtaskspb.HttpRequest_OidcToken{OidcToken: &cloudtaskspb.OidcToken{
					ServiceAccountEmail: s.cfg.ServiceAccountEmail,
					Audience:            s.cfg.OIDCAudience(),
				}},
			}},
		},
	}
}
