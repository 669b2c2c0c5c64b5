// Package cloudq delivers queued tasks to Google Cloud Tasks (tasks.md §2.1).
//
// A row of task_queue becomes one Cloud Tasks HTTP task that POSTs its JSON
// payload to the internal task server at <WRIVETED_INTERNAL_API>v1/<kind>,
// signed with an OIDC token for the tasks' service account. Compared with the
// original it fixes F-T2 and part of F-T6:
//
//   - Content-Type is application/json (the original let Cloud Tasks default
//     to application/octet-stream, which a JSON body parser rejects);
//   - the OIDC audience is one value for every task, the service URL
//     (Config.OIDCAudience), which the task server verifies (package
//     taskauth) instead of the original's "<base>/<endpoint>";
//   - the task is named after the row's id, so delivering the same row twice
//     creates one task (Cloud Tasks answers AlreadyExists, which Deliver
//     treats as success), and the row's id travels in X-Huey-Task-Id and
//     X-Idempotency-Key for the handler's own de-duplication.
//
// Cloud Tasks refuses a name for about an hour after a task of that name was
// deleted or executed (longer for some queues), so de-duplication by name
// covers redelivery after a crash, not arbitrary replays; handlers remain
// idempotent (STYLE.md §11). Row ids are random (gen_random_uuid), which also
// avoids the latency Cloud Tasks documents for sequential task names.
//
// cloudq imports nothing from this module; the task server's dispatcher calls
// Deliver for each pending row and marks it dispatched on success.
package cloudq

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Defaults of the original's settings (tasks.md §2.1).
const (
	DefaultProjectID           = "wriveted-api"
	DefaultLocation            = "australia-southeast1"
	DefaultServiceAccountEmail = "background-tasks@wriveted-api.iam.gserviceaccount.com"
)

var (
	projectIDRE = regexp.MustCompile(`^[A-Za-z0-9:.-]+$`)
	locationRE  = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	queueIDRE   = regexp.MustCompile(`^[A-Za-z0-9-]{1,100}$`)
)

// Config says where tasks go and how they reach the task server.
type Config struct {
	// ProjectID is the queue's project (GCP_PROJECT_ID, default "wriveted-api").
	ProjectID string
	// Location is the queue's region (GCP_LOCATION, default "australia-southeast1").
	Location string
	// Queue is the queue id (GCP_CLOUD_TASKS_NAME).
	Queue string
	// TargetBase is the task server's base URL (WRIVETED_INTERNAL_API),
	// normalised to end with "/"; a task's URL is TargetBase+"v1/"+kind.
	TargetBase string
	// ServiceAccountEmail is the identity whose OIDC token Cloud Tasks
	// attaches (GCP_CLOUD_TASKS_SERVICE_ACCOUNT, default
	// background-tasks@wriveted-api.iam.gserviceaccount.com).
	ServiceAccountEmail string
	// Audience is the OIDC token's audience; "" means TargetBase without its
	// trailing "/". The task server must verify the same value
	// (OIDCAudience).
	Audience string
	// Retry, when set, is applied to the queue by Sink.ApplyRetryConfig;
	// nil leaves the queue's retry configuration alone.
	Retry *RetryConfig
}

// RetryConfig is the queue's retry policy (Cloud Tasks RetryConfig). A zero
// field is left unset, so Cloud Tasks applies its default for it; durations
// are truncated to whole seconds by Cloud Tasks.
type RetryConfig struct {
	// MaxAttempts counts attempts including the first; -1 means unlimited
	// (CLOUD_TASKS_MAX_ATTEMPTS).
	MaxAttempts int32
	// MinBackoff and MaxBackoff bound the wait before a retry
	// (CLOUD_TASKS_MIN_BACKOFF, CLOUD_TASKS_MAX_BACKOFF).
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryDuration limits retrying, measured from the first attempt
	// (CLOUD_TASKS_MAX_RETRY_DURATION).
	MaxRetryDuration time.Duration
	// MaxDoublings is how many times the backoff doubles before growing
	// linearly (CLOUD_TASKS_MAX_DOUBLINGS).
	MaxDoublings int32
}

// ConfigFromEnv reads the queue configuration: GCP_PROJECT_ID, GCP_LOCATION,
// GCP_CLOUD_TASKS_NAME, WRIVETED_INTERNAL_API, GCP_CLOUD_TASKS_SERVICE_ACCOUNT
// and, for the retry policy, CLOUD_TASKS_MAX_ATTEMPTS,
// CLOUD_TASKS_MIN_BACKOFF, CLOUD_TASKS_MAX_BACKOFF,
// CLOUD_TASKS_MAX_RETRY_DURATION and CLOUD_TASKS_MAX_DOUBLINGS (durations in
// Go syntax, such as "10s" or "1h"). cfg.Retry is set when any of the
// latter is.
//
// ok is false when GCP_CLOUD_TASKS_NAME is unset: tasks then go to the local
// queue, and WRIVETED_INTERNAL_API is not required. Malformed values are
// reported either way, one line each, joined.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	cfg = Config{
		ProjectID:           get("GCP_PROJECT_ID", DefaultProjectID),
		Location:            get("GCP_LOCATION", DefaultLocation),
		Queue:               get("GCP_CLOUD_TASKS_NAME", ""),
		TargetBase:          get("WRIVETED_INTERNAL_API", ""),
		ServiceAccountEmail: get("GCP_CLOUD_TASKS_SERVICE_ACCOUNT", DefaultServiceAccountEmail),
	}
	ok = cfg.Queue != ""
	cfg.TargetBase = normaliseBase(cfg.TargetBase)

	var errs []error
	var retry RetryConfig
	var anyRetry bool
	readInt := func(name string, dst *int32, lowest int32) {
		v := get(name, "")
		if v == "" {
			return
		}
		anyRetry = true
		n, perr := strconv.ParseInt(v, 10, 32)
		if perr != nil || int32(n) < lowest {
			errs = append(errs, fmt.Errorf("%s=%q: want an integer ≥ %d", name, v, lowest))
			return
		}
		*dst = int32(n)
	}
	readDuration := func(name string, dst *time.Duration) {
		v := get(name, "")
		if v == "" {
			return
		}
		anyRetry = true
		d, perr := time.ParseDuration(v)
		if perr != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a non-negative Go duration such as 10s or 1h", name, v))
			return
		}
		*dst = d
	}
	readInt("CLOUD_TASKS_MAX_ATTEMPTS", &retry.MaxAttempts, -1)
	readDuration("CLOUD_TASKS_MIN_BACKOFF", &retry.MinBackoff)
	readDuration("CLOUD_TASKS_MAX_BACKOFF", &retry.MaxBackoff)
	readDuration("CLOUD_TASKS_MAX_RETRY_DURATION", &retry.MaxRetryDuration)
	readInt("CLOUD_TASKS_MAX_DOUBLINGS", &retry.MaxDoublings, 0)
	if anyRetry {
		cfg.Retry = &retry
	}

	if err := cfg.validate(ok); err != nil {
		errs = append(errs, err)
	}
	return cfg, ok, errors.Join(errs...)
}

// normaliseBase appends the "/" the original's URL type adds.
func normaliseBase(base string) string {
	if base != "" && !strings.HasSuffix(base, "/") {
		return base + "/"
	}
	return base
}

// QueuePath is the queue's resource name, projects/P/locations/L/queues/Q.
func (c Config) QueuePath() string {
	return "projects/" + c.ProjectID + "/locations/" + c.Location + "/queues/" + c.Queue
}

// OIDCAudience is the audience of the tasks' OIDC tokens: Audience, or
// TargetBase without its trailing "/". Pass it to taskauth as the expected
// audience.
func (c Config) OIDCAudience() string {
	if c.Audience != "" {
		return c.Audience
	}
	return strings.TrimSuffix(normaliseBase(c.TargetBase), "/")
}

// Validate reports every problem that would stop delivery, one line each.
func (c Config) Validate() error {
	return c.validate(true)
}

// validate checks c; the queue and the target are required only when
// queueSet (ConfigFromEnv without GCP_CLOUD_TASKS_NAME checks the rest).
func (c Config) validate(queueSet bool) error {
	var errs []error
	if !projectIDRE.MatchString(c.ProjectID) {
		errs = append(errs, fmt.Errorf("GCP_PROJECT_ID=%q: want a project id", c.ProjectID))
	}
	if !locationRE.MatchString(c.Location) {
		errs = append(errs, fmt.Errorf("GCP_LOCATION=%q: want a location id such as %s", c.Location, DefaultLocation))
	}
	if queueSet && !queueIDRE.MatchString(c.Queue) {
		errs = append(errs, fmt.Errorf("GCP_CLOUD_TASKS_NAME=%q: want a queue id of letters, digits and hyphens (at most 100)", c.Queue))
	}
	switch {
	case c.TargetBase == "" && queueSet:
		errs = append(errs, errors.New("WRIVETED_INTERNAL_API is not set: it must be the task server's URL when GCP_CLOUD_TASKS_NAME is set"))
	case c.TargetBase != "":
		if u, err := url.Parse(c.TargetBase); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("WRIVETED_INTERNAL_API=%q: want an absolute http(s) URL without query or fragment", c.TargetBase))
		}
	}
	if at := strings.IndexByte(c.ServiceAccountEmail, '@'); at <= 0 || at == len(c.ServiceAccountEmail)-1 {
		errs = append(errs, fmt.Errorf("GCP_CLOUD_TASKS_SERVICE_ACCOUNT=%q: want a service account e-mail", c.ServiceAccountEmail))
	}
	if r := c.Retry; r != nil {
		if r.MaxAttempts < -1 {
			errs = append(errs, fmt.Errorf("CLOUD_TASKS_MAX_ATTEMPTS=%d: want -1 (unlimited) or more", r.MaxAttempts))
		}
		if r.MaxDoublings < 0 {
			errs = append(errs, fmt.Errorf("CLOUD_TASKS_MAX_DOUBLINGS=%d: want 0 or more", r.MaxDoublings))
		}
		if r.MinBackoff < 0 || r.MaxBackoff < 0 || r.MaxRetryDuration < 0 {
			errs = append(errs, errors.New("CLOUD_TASKS_MIN_BACKOFF, CLOUD_TASKS_MAX_BACKOFF and CLOUD_TASKS_MAX_RETRY_DURATION must not be negative"))
		}
		if r.MinBackoff > 0 && r.MaxBackoff > 0 && r.MinBackoff > r.MaxBackoff {
			errs = append(errs, fmt.Errorf("CLOUD_TASKS_MIN_BACKOFF=%s is greater than CLOUD_TASKS_MAX_BACKOFF=%s", r.MinBackoff, r.MaxBackoff))
		}
	}
	return errors.Join(errs...)
}
