// Package taskapi is the HTTP layer of the internal task server: the
// endpoints Cloud Tasks (production) or the local dispatcher call to run
// background work (tasks.md §1, §5–§6). It is not exposed to the public, and
// every route but /v1/version requires an authenticated caller (F-T1): a
// Google OIDC token in production, the shared secret locally (taskauth).
//
// One task, one transaction: a handler's effect and the task's "done" mark
// (task_queue.status, with the result) commit together, and a task that is
// already done is answered with its stored result instead of running again,
// so a redelivered task has its effect once (F-T6).
package taskapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/wriveted/huey-api/schema/catalog/hydrate"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/tasks/internal/dispatch"
	"github.com/wriveted/huey-api/tasks/internal/taskauth"
	"github.com/wriveted/huey-api/tasks/labels"
)

// Hydrator fetches one edition's metadata (hydrate.Client in production).
type Hydrator interface {
	Hydrate(ctx context.Context, isbn13 string) (hydrate.HydratedBookData, error)
}

// Options are everything the task server depends on.
type Options struct {
	Pool             *pgxpool.Pool
	Logger           *slog.Logger
	Version          string
	Commit           string
	CloudRunRevision string // K_REVISION
	// Auth checks every task request's Authorization header.
	Auth taskauth.Verifier
	// Claims are the background-work account's: every task runs under them.
	Claims db.Claims
	// ActorID is that account's id (events the tasks record name it).
	ActorID uuid.UUID
	// Messenger sends e-mail and SMS; nil → LogMessenger (logs and records).
	Messenger Messenger
	// Labeller labels works (generate-labels); nil → the rule-based labeller.
	Labeller labels.Provider
	// Hydrator fetches edition metadata (hydrate-bulk); nil → hydration
	// answers 503 (NIELSEN_API_URL unset).
	Hydrator Hydrator
	// LabelAfterHydration queues generate-labels for hydrated works with a
	// cover (LABEL_AFTER_HYDRATION, default true).
	LabelAfterHydration bool
	// AppURL is the Huey Books app (HUEY_BOOKS_APP_URL) feedback links point to.
	AppURL string
	// Dispatch runs one batch of the queue (POST /v1/process-outbox-events);
	// nil → that route answers 503.
	Dispatch func(ctx context.Context) (dispatch.Stats, error)
	// Now is the clock (tests); nil → time.Now.
	Now func() time.Time
}

type server struct {
	opts Options
	log  *slog.Logger
}

// New builds the task server's Echo instance.
func New(opts Options) *echo.Echo {
	if opts.Messenger == nil {
		opts.Messenger = LogMessenger{Logger: opts.Logger}
	}
	if opts.Labeller == nil {
		opts.Labeller = RuleBasedLabeller{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AppURL == "" {
		opts.AppURL = "https://hueybooks.com"
	}
	s := &server{opts: opts, log: opts.Logger}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
	e.Use(middleware.BodyLimit("32M"))
	redirect := func(c echo.Context) error { return c.Redirect(http.StatusTemporaryRedirect, "/v1/version") }
	e.GET("/", redirect)
	v1 := e.Group("/v1")
	v1.GET("/version", s.getVersion)
	authed := taskauth.Middleware(opts.Auth, opts.Logger)
	v1.POST("/process-event", s.postProcessEvent, authed)
	v1.POST("/process-outbox-events", s.postProcessOutbox, authed)
	v1.POST("/event-to-slack-alert", s.postEventToSlackAlert, authed)
	v1.POST("/generate-reading-pathways", s.postGenerateReadingPathways, authed)
	v1.POST("/generate-labels", s.postGenerateLabels, authed)
	v1.POST("/hydrate-bulk", s.postHydrateBulk, authed)
	v1.POST("/update-search-index", s.postUpdateSearchIndex, authed)
	v1.POST("/send-sms", s.postSendSMS, authed)
	v1.POST("/send-email", s.postSendEmail, authed)
	return e
}

func (s *server) getVersion(c echo.Context) error {
	rev, err := db.DatabaseRevision(c.Request().Context(), s.opts.Pool)
	if err != nil {
		s.log.Warn("read database revision", slog.String("error", err.Error()))
		rev = "development"
	}
	cr := s.opts.CloudRunRevision
	if cr == "" {
		cr = "Unknown"
	}
	return c.JSON(http.StatusOK, map[string]string{
		"cloud_run_revision": cr, "version": "internal", "build": s.opts.Version, "commit": s.opts.Commit,
		"go_version": runtime.Version(), "database_revision": rev,
	})
}

// WorkerClaims are the claims every task runs under: the background-work
// account, a backend service account (role:admin, access.md §4), so row
// security binds the task server through the admin policies.
func WorkerClaims(id uuid.UUID) db.Claims {
	return db.Claims{Sub: "wriveted:service-account:" + id.String(), Kind: "service_account", ID: id.String(),
		Principals: []string{"system:everyone", "system:authenticated", "role:admin"},
		SchoolIDs:  []int64{}, ChildIDs: []string{}, IsAdmin: true}
}

// taskFunc is one task's effect, run in the task's transaction; its result
// is the response body (and is stored with the task).
type taskFunc func(ctx context.Context, tx *db.Tx) (any, error)

// run executes fn as one task. When the request names a queued task
// (X-Huey-Task-Id, set by both dispatchers), the task row is locked first: a
// task already done answers its stored result without running again;
// otherwise fn's effect and the done mark commit together.
func (s *server) run(c echo.Context, fn taskFunc) error {
	ctx := c.Request().Context()
	var taskID *uuid.UUID
	if h := c.Request().Header.Get("X-Huey-Task-Id"); h != "" {
		id, err := uuid.Parse(h)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "X-Huey-Task-Id is not a task id")
		}
		taskID = &id
	}
	var out json.RawMessage
	err := db.InTx(ctx, s.opts.Pool, s.opts.Claims, func(tx *db.Tx) error {
		if taskID != nil {
			var status string
			var stored []byte
			err := tx.QueryRow(ctx, `SELECT status, result FROM public.task_queue WHERE id = $1 FOR UPDATE`, *taskID).
				Scan(&status, &stored)
			if db.IsNotFound(err) {
				return echo.NewHTTPError(http.StatusNotFound, "Task "+taskID.String()+" not found")
			}
			if err != nil {
				return err
			}
			if status == "done" {
				out = stored
				if out == nil {
					out = json.RawMessage("null")
				}
				return nil
			}
		}
		res, err := fn(ctx, tx)
		if err != nil {
			return err
		}
		if out, err = json.Marshal(res); err != nil {
			return err
		}
		if taskID != nil {
			_, err = tx.Exec(ctx, `UPDATE public.task_queue SET status = 'done', result = $2, last_error = NULL,
  completed_at = huey.utcnow(), updated_at = huey.utcnow() WHERE id = $1`, *taskID, []byte(out))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, out)
}

// bindJSON decodes the request body as JSON whatever its Content-Type
// (Cloud Tasks defaults to application/octet-stream, F-T2). An empty body
// leaves v as it is. Malformed JSON is a 422 in the original's shape.
func bindJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "could not read the request body")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return validation("body", "Input should be valid JSON: "+err.Error(), "json_invalid")
	}
	return nil
}

// validation is a 422 in the original's {"detail":[…]} shape.
func validation(field, msg, typ string) error {
	return echo.NewHTTPError(http.StatusUnprocessableEntity, []map[string]any{
		{"loc": []string{"body", field}, "msg": msg, "type": typ},
	})
}

// handleError answers in the original's shape; causes of 5xx are logged only.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	// 4xx, and the 503 of an unconfigured provider, are answers; other 5xx
	// are failures, their cause logged only.
	var he *echo.HTTPError
	if errors.As(err, &he) && (he.Code < http.StatusInternalServerError || he.Code == http.StatusServiceUnavailable) {
		_ = c.JSON(he.Code, map[string]any{"detail": he.Message})
		return
	}
	s.log.Error("task request failed", slog.String("path", c.Path()), slog.String("error", err.Error()))
	_ = c.JSON(http.StatusInternalServerError, map[string]any{"detail": "Task processing failed"})
}
