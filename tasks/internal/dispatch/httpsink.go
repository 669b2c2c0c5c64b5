package dispatch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/wriveted/huey-api/tasks/internal/cloudq"
)

// HTTPSink delivers a task straight to the internal task server (the local
// queue, when Cloud Tasks is not configured): POST <BaseURL>v1/<kind> with
// the payload as JSON, the shared secret, and the task's id as idempotency
// key. It waits for the task to finish.
type HTTPSink struct {
	BaseURL string // the internal service, ending in "/"
	Secret  string // INTERNAL_TASK_SECRET
	Client  *http.Client
}

// Deliver implements Sink. A 2xx is success; a 4xx other than 408 and 429
// is permanent (the task server refused the task itself); anything else is
// retried.
func (s *HTTPSink) Deliver(ctx context.Context, t Task) error {
	base := s.BaseURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	body := []byte(t.Payload)
	if len(body) == 0 {
		body = []byte("null")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"v1/"+t.Kind, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.Secret)
	req.Header.Set("X-Huey-Task-Id", t.ID)
	req.Header.Set("X-Idempotency-Key", t.ID)
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", t.Kind, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 &&
		resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return fmt.Errorf("%w: %s answered %d: %s", ErrPermanent, t.Kind, resp.StatusCode, bytes.TrimSpace(msg))
	default:
		return fmt.Errorf("%s answered %d: %s", t.Kind, resp.StatusCode, bytes.TrimSpace(msg))
	}
}

// cloudSink adapts a Cloud Tasks sink (cloudq) to Sink.
type cloudSink struct{ s *cloudq.Sink }

// CloudTasks delivers through Google Cloud Tasks: Deliver returns once Cloud
// Tasks accepted the task (named after the row, so a repeat is a no-op);
// Cloud Tasks then calls the task server and retries it per the queue's
// retry configuration. Use it with Dispatcher.Handover.
func CloudTasks(s *cloudq.Sink) Sink { return cloudSink{s} }

func (c cloudSink) Deliver(ctx context.Context, t Task) error {
	return c.s.Deliver(ctx, cloudq.Task{ID: t.ID, Kind: t.Kind, Payload: t.Payload})
}
