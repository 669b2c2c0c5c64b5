package taskapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/tasks/internal/dispatch"
	"github.com/wriveted/huey-api/tasks/internal/taskapi"
	"github.com/wriveted/huey-api/tasks/jobs"
)

// Every task route refuses callers without the shared secret (F-T1).
func TestTaskRoutesRequireTheSecret(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	for _, path := range []string{"/v1/process-event", "/v1/process-outbox-events", "/v1/event-to-slack-alert",
		"/v1/generate-reading-pathways", "/v1/generate-labels", "/v1/hydrate-bulk", "/v1/update-search-index",
		"/v1/send-sms", "/v1/send-email"} {
		for _, tc := range []struct {
			auth string
			want int
		}{{"", http.StatusUnauthorized}, {"Bearer " + strings.Repeat("x", 40), http.StatusForbidden}, {"Basic abc", http.StatusForbidden}} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, env.srv.URL+path, strings.NewReader(`{}`))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s with %q: %d, want %d", path, tc.auth, resp.StatusCode, tc.want)
			}
		}
	}
	if n := env.count(t, `SELECT count(*) FROM events`); n != 0 {
		t.Errorf("refused requests recorded %d events", n)
	}
	// The version needs no credentials.
	resp, err := http.Get(env.srv.URL + "/v1/version")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("version: %d", resp.StatusCode)
	}
}

// E-mail and SMS go through the Messenger and are recorded as events, whatever
// the Content-Type (Cloud Tasks' default is application/octet-stream, F-T2).
func TestSendEmailAndSMS(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	code, body := env.post(t, "/v1/send-email", map[string]any{"email_data": map[string]any{
		"from_email": "orders@hueybooks.com", "from_name": "Huey Books", "to_emails": []string{"a@example.org", "b@example.org"},
		"subject": "Welcome", "template_id": "d-1", "template_data": map[string]any{"name": "Ann"}}}, "")
	if code != http.StatusOK || string(body) != "null" {
		t.Fatalf("send-email: %d %s", code, body)
	}
	code, body = env.post(t, "/v1/send-sms", map[string]any{"to": "+61400000000", "body": "Well read!", "shorten_urls": true}, "")
	var sms map[string]any
	if code != http.StatusOK || json.Unmarshal(body, &sms) != nil || sms["status"] != "sent" || sms["body"] != "Well read!" {
		t.Fatalf("send-sms: %d %s", code, body)
	}
	sent := env.msgs.all()
	if len(sent) != 2 || sent[0].Channel != "email" || strings.Join(sent[0].To, ",") != "a@example.org,b@example.org" ||
		sent[0].From != "Huey Books <orders@hueybooks.com>" || sent[0].TemplateID != "d-1" || sent[0].TemplateData["name"] != "Ann" ||
		sent[1].Channel != "sms" || sent[1].To[0] != "+61400000000" {
		t.Fatalf("sent %+v", sent)
	}
	if n := env.count(t, `SELECT count(*) FROM events WHERE title IN ('Email sent', 'SMS sent') AND level = 'DEBUG'
		AND service_account_id = $1`, actorID); n != 2 {
		t.Errorf("%d message events, want 2", n)
	}
	// Malformed bodies are 422 and send nothing.
	for _, b := range []any{[]byte(`{"to":`), map[string]any{"body": "no recipient"}, map[string]any{"to": 5, "body": "x"}} {
		if code, body := env.post(t, "/v1/send-sms", b, ""); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"detail":[`) {
			t.Errorf("send-sms %s: %d %s", b, code, body)
		}
	}
	if code, _ := env.post(t, "/v1/send-email", map[string]any{"email_data": map[string]any{"to_emails": "x@example.org"},
		"user_id": "6f1f7f0e-4b8c-4d8a-9a47-000000000000"}, ""); code != http.StatusNotFound {
		t.Errorf("unknown user: %d, want 404", code)
	}
	if len(env.msgs.all()) != 2 {
		t.Errorf("refused requests sent messages")
	}
}

// A queued task delivered twice (Cloud Tasks delivers at least once) runs
// its effect once; the second delivery answers the stored result.
func TestRedeliveredTaskAnswersItsStoredResult(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	id := env.enqueue(t, jobs.KindSendSMS, map[string]any{"to": "+61400000000", "body": "once"}, "")
	code1, body1 := env.post(t, "/v1/send-sms", map[string]any{"to": "+61400000000", "body": "once"}, id)
	code2, body2 := env.post(t, "/v1/send-sms", map[string]any{"to": "+61400000000", "body": "once"}, id)
	var first, second map[string]any
	if code1 != http.StatusOK || code2 != http.StatusOK || json.Unmarshal(body1, &first) != nil ||
		json.Unmarshal(body2, &second) != nil || !reflect.DeepEqual(first, second) || first["body"] != "once" {
		t.Fatalf("%d %s / %d %s", code1, body1, code2, body2)
	}
	if len(env.msgs.all()) != 1 || env.count(t, `SELECT count(*) FROM events WHERE title = 'SMS sent'`) != 1 {
		t.Fatalf("sent %d", len(env.msgs.all()))
	}
	var status string
	var result []byte
	if err := env.super.QueryRow(t.Context(), `SELECT status, result FROM task_queue WHERE id = $1`, id).Scan(&status, &result); err != nil ||
		status != "done" || string(result) == "" {
		t.Fatalf("task %s %s %v", status, result, err)
	}
	if code, _ := env.post(t, "/v1/send-sms", map[string]any{"to": "1", "body": "x"}, "00000000-0000-0000-0000-000000000001"); code != http.StatusNotFound {
		t.Errorf("unknown task id: %d, want 404", code)
	}
	if code, _ := env.post(t, "/v1/send-sms", map[string]any{"to": "1", "body": "x"}, "not-a-uuid"); code != http.StatusBadRequest {
		t.Errorf("malformed task id: %d, want 400", code)
	}
}

// The slack alert of an event goes through the Messenger (there is no Slack
// client here); the search views refresh; the outbox route runs a batch.
func TestSlackAlertSearchRefreshAndOutbox(t *testing.T) {
	t.Parallel()
	var batches int
	env := newTaskEnv(t, func(o *taskapi.Options) {
		o.Dispatch = func(context.Context) (dispatch.Stats, error) {
			batches++
			return dispatch.Stats{Processed: 2, Succeeded: 1, Failed: 1}, nil
		}
	})
	var eventID string
	if err := env.super.QueryRow(t.Context(), `INSERT INTO events (id, title, level, info, "timestamp")
		VALUES (gen_random_uuid(), 'Made a recommendation', 'WARNING', '{"description": "x"}', now()) RETURNING id::text`).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	if code, body := env.post(t, "/v1/event-to-slack-alert", map[string]any{"event_id": eventID}, ""); code != http.StatusOK || string(body) != "null" {
		t.Fatalf("slack alert: %d %s", code, body)
	}
	sent := env.msgs.all()
	if len(sent) != 1 || sent[0].Channel != "slack" || sent[0].To[0] != "#api-alerts" || sent[0].Subject != "Made a recommendation" ||
		sent[0].TemplateData["level"] != "warning" {
		t.Fatalf("sent %+v", sent)
	}
	if code, _ := env.post(t, "/v1/event-to-slack-alert", map[string]any{"event_id": "6f1f7f0e-4b8c-4d8a-9a47-000000000000"}, ""); code != http.StatusNotFound {
		t.Errorf("unknown event: %d", code)
	}
	if code, body := env.post(t, "/v1/update-search-index", nil, ""); code != http.StatusOK || string(body) != `{"msg":"ok"}` {
		t.Fatalf("update-search-index: %d %s", code, body)
	}
	code, body := env.post(t, "/v1/process-outbox-events", nil, "")
	if code != http.StatusOK || batches != 1 ||
		strings.TrimSpace(string(body)) != `{"msg":"EventOutbox processing completed","stats":{"processed":2,"succeeded":1,"failed":1,"dead_lettered":0,"skipped":0}}` {
		t.Fatalf("outbox: %d %s", code, body)
	}
}
