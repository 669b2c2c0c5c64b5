package cloudq

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		env    map[string]string
		want   Config
		wantOK bool
	}{
		{
			name:   "queue unset: local queue, defaults",
			env:    map[string]string{},
			want:   Config{ProjectID: DefaultProjectID, Location: DefaultLocation, ServiceAccountEmail: DefaultServiceAccountEmail},
			wantOK: false,
		},
		{
			name: "production: defaults and a normalised base",
			env: map[string]string{
				"GCP_CLOUD_TASKS_NAME":  "background-tasks",
				"WRIVETED_INTERNAL_API": "https://wriveted-api-internal-abc123-ts.a.run.app",
			},
			want: Config{
				ProjectID: "wriveted-api", Location: "australia-southeast1", Queue: "background-tasks",
				TargetBase:          "https://wriveted-api-internal-abc123-ts.a.run.app/",
				ServiceAccountEmail: "background-tasks@wriveted-api.iam.gserviceaccount.com",
			},
			wantOK: true,
		},
		{
			name: "everything set",
			env: map[string]string{
				"GCP_PROJECT_ID":                  "huey-staging",
				"GCP_LOCATION":                    "us-central1",
				"GCP_CLOUD_TASKS_NAME":            "bg",
				"WRIVETED_INTERNAL_API":           " https://internal.example.org/ ",
				"GCP_CLOUD_TASKS_SERVICE_ACCOUNT": "tasks@huey-staging.iam.gserviceaccount.com",
				"CLOUD_TASKS_MAX_ATTEMPTS":        "-1",
				"CLOUD_TASKS_MIN_BACKOFF":         "10s",
				"CLOUD_TASKS_MAX_BACKOFF":         "5m",
				"CLOUD_TASKS_MAX_RETRY_DURATION":  "48h",
				"CLOUD_TASKS_MAX_DOUBLINGS":       "5",
			},
			want: Config{
				ProjectID: "huey-staging", Location: "us-central1", Queue: "bg",
				TargetBase:          "https://internal.example.org/",
				ServiceAccountEmail: "tasks@huey-staging.iam.gserviceaccount.com",
				Retry: &RetryConfig{
					MaxAttempts: -1, MinBackoff: 10 * time.Second, MaxBackoff: 5 * time.Minute,
					MaxRetryDuration: 48 * time.Hour, MaxDoublings: 5,
				},
			},
			wantOK: true,
		},
		{
			name: "one retry setting makes a retry config",
			env: map[string]string{
				"GCP_CLOUD_TASKS_NAME":     "bg",
				"WRIVETED_INTERNAL_API":    "https://internal.example.org",
				"CLOUD_TASKS_MAX_ATTEMPTS": "20",
			},
			want: Config{
				ProjectID: DefaultProjectID, Location: DefaultLocation, Queue: "bg",
				TargetBase: "https://internal.example.org/", ServiceAccountEmail: DefaultServiceAccountEmail,
				Retry: &RetryConfig{MaxAttempts: 20},
			},
			wantOK: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := ConfigFromEnv(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.wantOK {
				t.Errorf("ok = %v, want %v", ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	t.Parallel()
	base := map[string]string{"GCP_CLOUD_TASKS_NAME": "bg", "WRIVETED_INTERNAL_API": "https://internal.example.org"}
	tests := []struct {
		name  string
		set   map[string]string
		lines []string // each must appear, one per line
	}{
		{"queue set without a target", map[string]string{"WRIVETED_INTERNAL_API": ""}, []string{"WRIVETED_INTERNAL_API is not set"}},
		{"relative target", map[string]string{"WRIVETED_INTERNAL_API": "internal/"}, []string{`WRIVETED_INTERNAL_API="internal/"`}},
		{"target with a query", map[string]string{"WRIVETED_INTERNAL_API": "https://x.example.org/?a=1"}, []string{"without query"}},
		{"ftp target", map[string]string{"WRIVETED_INTERNAL_API": "ftp://x.example.org"}, []string{"http(s)"}},
		{"bad queue id", map[string]string{"GCP_CLOUD_TASKS_NAME": "bg/tasks"}, []string{`GCP_CLOUD_TASKS_NAME="bg/tasks"`}},
		{"bad project", map[string]string{"GCP_PROJECT_ID": "a/b"}, []string{`GCP_PROJECT_ID="a/b"`}},
		{"bad location", map[string]string{"GCP_LOCATION": "x/y"}, []string{`GCP_LOCATION="x/y"`}},
		{"bad service account", map[string]string{"GCP_CLOUD_TASKS_SERVICE_ACCOUNT": "tasks"}, []string{`GCP_CLOUD_TASKS_SERVICE_ACCOUNT="tasks"`}},
		{"attempts not a number", map[string]string{"CLOUD_TASKS_MAX_ATTEMPTS": "ten"}, []string{`CLOUD_TASKS_MAX_ATTEMPTS="ten"`}},
		{"attempts below -1", map[string]string{"CLOUD_TASKS_MAX_ATTEMPTS": "-2"}, []string{`CLOUD_TASKS_MAX_ATTEMPTS="-2"`}},
		{"attempts overflow", map[string]string{"CLOUD_TASKS_MAX_ATTEMPTS": "3000000000"}, []string{`CLOUD_TASKS_MAX_ATTEMPTS="3000000000"`}},
		{"doublings negative", map[string]string{"CLOUD_TASKS_MAX_DOUBLINGS": "-1"}, []string{`CLOUD_TASKS_MAX_DOUBLINGS="-1"`}},
		{"seconds without a unit", map[string]string{"CLOUD_TASKS_MIN_BACKOFF": "10"}, []string{`CLOUD_TASKS_MIN_BACKOFF="10"`}},
		{"negative duration", map[string]string{"CLOUD_TASKS_MAX_RETRY_DURATION": "-1h"}, []string{`CLOUD_TASKS_MAX_RETRY_DURATION="-1h"`}},
		{"min above max backoff", map[string]string{"CLOUD_TASKS_MIN_BACKOFF": "10m", "CLOUD_TASKS_MAX_BACKOFF": "1m"}, []string{"CLOUD_TASKS_MIN_BACKOFF=10m0s is greater than CLOUD_TASKS_MAX_BACKOFF=1m0s"}},
		{"several at once", map[string]string{"CLOUD_TASKS_MAX_BACKOFF": "soon", "CLOUD_TASKS_MAX_DOUBLINGS": "x", "WRIVETED_INTERNAL_API": ""}, []string{
			`CLOUD_TASKS_MAX_BACKOFF="soon"`, `CLOUD_TASKS_MAX_DOUBLINGS="x"`, "WRIVETED_INTERNAL_API is not set",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range tc.set {
				m[k] = v
			}
			_, _, err := ConfigFromEnv(env(m))
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.lines) {
				t.Fatalf("%d error lines, want %d:\n%s", len(lines), len(tc.lines), err)
			}
			for _, want := range tc.lines {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q:\n%s", want, err)
				}
			}
		})
	}
}

// Without a queue the target is optional, but a malformed value is still
// reported rather than discovered later.
func TestConfigFromEnvLocalQueueStillChecksValues(t *testing.T) {
	t.Parallel()
	cfg, ok, err := ConfigFromEnv(env(map[string]string{}))
	if ok || err != nil || cfg.Queue != "" {
		t.Fatalf("unset queue: ok=%v err=%v queue=%q", ok, err, cfg.Queue)
	}
	_, ok, err = ConfigFromEnv(env(map[string]string{"CLOUD_TASKS_MAX_ATTEMPTS": "many"}))
	if ok || err == nil || !strings.Contains(err.Error(), "CLOUD_TASKS_MAX_ATTEMPTS") {
		t.Fatalf("unset queue with a bad value: ok=%v err=%v", ok, err)
	}
}

func TestQueuePathAndAudience(t *testing.T) {
	t.Parallel()
	c := Config{ProjectID: "p", Location: "l", Queue: "q", TargetBase: "https://internal.example.org/"}
	if got := c.QueuePath(); got != "projects/p/locations/l/queues/q" {
		t.Errorf("QueuePath = %q", got)
	}
	if got := c.OIDCAudience(); got != "https://internal.example.org" {
		t.Errorf("default audience = %q, want the base without its slash", got)
	}
	c.TargetBase = "https://internal.example.org" // not normalised yet
	if got := c.OIDCAudience(); got != "https://internal.example.org" {
		t.Errorf("audience of an unnormalised base = %q", got)
	}
	c.Audience = "https://aud.example.org"
	if got := c.OIDCAudience(); got != "https://aud.example.org" {
		t.Errorf("explicit audience = %q", got)
	}
}
