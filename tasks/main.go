// Command tasks is the internal task server: background work (event
// processing, emails, labelling, hydration, reading pathways) delivered by
// Google Cloud Tasks in production and by the local queue otherwise.
//
//	go run ./tasks      serve the internal API on $PORT (default 8001)
//	tasks healthcheck   the container's health check; tasks check-config: see commands.go
//
// Configuration comes from the environment only (README).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/catalog/hydrate"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/tasks/internal/cloudq"
	"github.com/wriveted/huey-api/tasks/internal/dispatch"
	"github.com/wriveted/huey-api/tasks/internal/taskapi"
	"github.com/wriveted/huey-api/tasks/internal/taskauth"
	"github.com/wriveted/huey-api/tasks/labels"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "0.1.0"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := command(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tasks:", err)
		os.Exit(1)
	}
}

// config is the task server's configuration (README "Background work").
type config struct {
	databaseURL string
	port        int
	logLevel    slog.Level
	appEnv      string
	secret      string // INTERNAL_TASK_SECRET (local queue)
	// internalURL is where tasks are delivered (WRIVETED_INTERNAL_API), "/"-terminated.
	internalURL string
	cloud       *cloudq.Config // nil: the local queue
	useOIDC     bool           // callers present Google OIDC tokens (production, Cloud Tasks)
	oidc        taskauth.GoogleOIDCOptions
	actorID     uuid.UUID
	// dispatchEvery and refreshEvery drive the local timer (0 = off).
	dispatchEvery, refreshEvery time.Duration
	nielsen                     hydrate.Client
	labelAfterHydration         bool
	openAI                      *labels.OpenAI
	appURL                      string
	cloudRunRevision            string
	// shutdownTimeout is how long tasks in flight may run after SIGTERM
	// (SHUTDOWN_TIMEOUT, default 9s: Cloud Run kills 10 s after SIGTERM);
	// a task cut off rolls back and is delivered again.
	shutdownTimeout time.Duration
}

// defaultActorID is the background-work account migration 009 seeds: the
// original's GPT labelling service account (tasks.md §5.2).
const defaultActorID = "2c092595-76e8-4ba9-9340-37b7237d6b59"

func loadConfig(getenv func(string) string) (config, error) {
	var c config
	var errs []error
	var err error
	if c.databaseURL, err = db.URLFromEnv(getenv); err != nil {
		errs = append(errs, err)
	}
	if len(getenv("SECRET_KEY")) < 32 {
		errs = append(errs, errors.New("SECRET_KEY is not set or shorter than 32 bytes: it must be the API's HS256 key"))
	}
	c.port = 8001
	if v := getenv("PORT"); v != "" {
		if c.port, err = strconv.Atoi(v); err != nil || c.port < 0 || c.port > 65535 {
			errs = append(errs, fmt.Errorf("PORT=%q: want a port number", v))
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := c.logLevel.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v))
		}
	}
	c.appEnv = strings.ToLower(strings.TrimSpace(getenv("APP_ENV")))
	if c.appEnv == "" {
		// Unset: production on Cloud Run (K_SERVICE) or with Cloud Tasks
		// configured; development otherwise, so `go run ./tasks` on a laptop
		// asks for the local queue's secret, not for Google's settings.
		c.appEnv = "development"
		if getenv("K_SERVICE") != "" || getenv("GCP_CLOUD_TASKS_NAME") != "" {
			c.appEnv = "production"
		}
	}
	if c.appEnv != "development" && c.appEnv != "test" && c.appEnv != "production" {
		errs = append(errs, fmt.Errorf("APP_ENV=%q: want development, test or production", c.appEnv))
	}
	production := c.appEnv == "production"

	cloud, ok, err := cloudq.ConfigFromEnv(getenv)
	if err != nil {
		errs = append(errs, err)
	} else if ok {
		c.cloud = &cloud
	}
	c.internalURL = strings.TrimSpace(getenv("WRIVETED_INTERNAL_API"))
	if c.internalURL == "" {
		c.internalURL = fmt.Sprintf("http://127.0.0.1:%d/", c.port)
	} else if u, err := url.Parse(c.internalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("WRIVETED_INTERNAL_API=%q: want the internal service's http(s) URL", c.internalURL))
	}
	if !strings.HasSuffix(c.internalURL, "/") {
		c.internalURL += "/"
	}
	// Callers authenticate (F-T1): Google OIDC in production, the shared
	// secret otherwise.
	// Tasks from Cloud Tasks carry its OIDC token, whatever APP_ENV says.
	c.secret = getenv("INTERNAL_TASK_SECRET")
	c.useOIDC = production || c.cloud != nil
	if c.useOIDC {
		c.oidc = taskauth.GoogleOIDCOptions{
			Audience:            strings.TrimSuffix(c.internalURL, "/"),
			ServiceAccountEmail: getenv("GCP_CLOUD_TASKS_SERVICE_ACCOUNT"),
			JWKSURL:             getenv("GOOGLE_OIDC_JWKS_URL"),
		}
		if c.cloud != nil {
			c.oidc.Audience, c.oidc.ServiceAccountEmail = c.cloud.OIDCAudience(), c.cloud.ServiceAccountEmail
		}
		if c.oidc.ServiceAccountEmail == "" {
			c.oidc.ServiceAccountEmail = cloudq.DefaultServiceAccountEmail
		}
		if getenv("WRIVETED_INTERNAL_API") == "" {
			errs = append(errs, errors.New("WRIVETED_INTERNAL_API is not set: in production (and with Cloud Tasks) it is the OIDC audience tasks are verified against"))
		}
	} else if len(c.secret) < taskauth.MinSecretLen {
		errs = append(errs, fmt.Errorf("INTERNAL_TASK_SECRET is not set or shorter than %d bytes: the local queue authenticates with it (make run generates one)", taskauth.MinSecretLen))
	}
	actor := getenv("TASK_SERVICE_ACCOUNT_ID")
	if actor == "" {
		actor = getenv("GPT_SERVICE_ACCOUNT_ID")
	}
	if actor == "" {
		actor = defaultActorID
	}
	if c.actorID, err = uuid.Parse(actor); err != nil {
		errs = append(errs, fmt.Errorf("TASK_SERVICE_ACCOUNT_ID=%q: want a service account uuid", actor))
	}
	defaultEvery := "1s"
	if production {
		defaultEvery = "off" // Cloud Scheduler calls /v1/process-outbox-events
	}
	c.dispatchEvery = durationEnv(getenv, "TASK_DISPATCH_INTERVAL", defaultEvery, &errs)
	defaultRefresh := "10m"
	if production {
		defaultRefresh = "off" // Cloud Scheduler calls /v1/update-search-index
	}
	c.refreshEvery = durationEnv(getenv, "SEARCH_REFRESH_INTERVAL", defaultRefresh, &errs)
	c.nielsen = hydrate.Client{BaseURL: getenv("NIELSEN_API_URL"), ClientID: getenv("NIELSEN_CLIENT_ID"), Password: getenv("NIELSEN_PASSWORD")}
	c.labelAfterHydration = true
	if v := getenv("LABEL_AFTER_HYDRATION"); v != "" {
		if c.labelAfterHydration, err = strconv.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("LABEL_AFTER_HYDRATION=%q: want true or false", v))
		}
	}
	if key := getenv("OPENAI_API_KEY"); key != "" {
		c.openAI = &labels.OpenAI{BaseURL: getenv("OPENAI_BASE_URL"), APIKey: key, Model: getenv("OPENAI_MODEL")}
		if c.openAI.BaseURL == "" {
			c.openAI.BaseURL = "https://api.openai.com/v1"
		}
		if v := getenv("OPENAI_TIMEOUT"); v != "" {
			secs, err := strconv.ParseFloat(v, 64)
			if err != nil || secs <= 0 {
				errs = append(errs, fmt.Errorf("OPENAI_TIMEOUT=%q: want seconds", v))
			}
			c.openAI.Timeout = time.Duration(secs * float64(time.Second))
		}
	}
	c.appURL = getenv("HUEY_BOOKS_APP_URL")
	c.cloudRunRevision = getenv("K_REVISION")
	c.shutdownTimeout = 9 * time.Second
	if v := strings.TrimSpace(getenv("SHUTDOWN_TIMEOUT")); v != "" {
		if c.shutdownTimeout, err = time.ParseDuration(v); err != nil || c.shutdownTimeout < 100*time.Millisecond {
			errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT=%q: want a duration of at least 100ms, such as 9s", v))
		}
	}
	return c, errors.Join(errs...)
}

// durationEnv reads a Go duration; "off" or "0" is 0 (disabled).
func durationEnv(getenv func(string) string, name, def string, errs *[]error) time.Duration {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		v = def
	}
	if v == "off" || v == "0" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q: want a duration such as 1s or 10m, or off", name, v))
	}
	return d
}

// checkActor makes sure the background-work account exists, is active and
// is a backend account, so tasks fail at start-up rather than one by one.
func checkActor(ctx context.Context, pool *pgxpool.Pool, id uuid.UUID) error {
	var active bool
	var typ string
	err := db.InTx(ctx, pool, taskapi.WorkerClaims(id), func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `SELECT is_active, type::text FROM public.service_accounts WHERE id = $1`, id).Scan(&active, &typ)
	})
	switch {
	case errors.Is(err, db.ErrNotFound):
		return fmt.Errorf("TASK_SERVICE_ACCOUNT_ID %s: no such service account (migrations create the default one: run `go run ./server migrate`)", id)
	case err != nil:
		return fmt.Errorf("check the background-work account: %w", err)
	case !active || typ != "BACKEND":
		return fmt.Errorf("TASK_SERVICE_ACCOUNT_ID %s: want an active backend service account, found type %s active=%v", id, typ, active)
	}
	return nil
}

// run serves until ctx ends; ready, when set, receives the listening address.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready chan<- string) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.logLevel}))
	pool, err := db.Open(ctx, cfg.databaseURL, "huey-tasks")
	if err != nil {
		return err
	}
	defer pool.Close()
	latest, err := schema.Latest(schema.Dir())
	if err != nil {
		return err
	}
	if err := db.CheckServing(ctx, pool, latest, getenv("ALLOW_BYPASSRLS") == "1"); err != nil {
		return err
	}
	if err := checkActor(ctx, pool, cfg.actorID); err != nil {
		return err
	}
	claims := taskapi.WorkerClaims(cfg.actorID)

	var verifier taskauth.Verifier
	if cfg.useOIDC {
		if verifier, err = taskauth.NewGoogleOIDC(ctx, cfg.oidc); err != nil {
			return err
		}
	} else if verifier, err = taskauth.NewSecret(cfg.secret); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.port)))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.port, err)
	}
	if getenv("WRIVETED_INTERNAL_API") == "" && cfg.port == 0 {
		cfg.internalURL = fmt.Sprintf("http://127.0.0.1:%d/", ln.Addr().(*net.TCPAddr).Port)
	}

	// The dispatcher: Cloud Tasks when configured, else straight to this
	// server with the shared secret.
	disp := &dispatch.Dispatcher{Pool: pool, Claims: claims, Logger: logger}
	if cfg.cloud != nil {
		sink, err := cloudq.NewSink(ctx, *cfg.cloud)
		if err != nil {
			return err
		}
		defer sink.Close()
		if err := sink.ApplyRetryConfig(ctx); err != nil {
			return err
		}
		disp.Sink, disp.Handover = dispatch.CloudTasks(sink), true
		logger.Info("queue: Cloud Tasks", slog.String("queue", cfg.cloud.QueuePath()))
	} else {
		disp.Sink = &dispatch.HTTPSink{BaseURL: cfg.internalURL, Secret: cfg.secret,
			Client: &http.Client{Timeout: 15 * time.Minute}}
		logger.Info("queue: local", slog.String("target", cfg.internalURL))
	}

	opts := taskapi.Options{Pool: pool, Logger: logger, Version: version, Commit: commit,
		CloudRunRevision: cfg.cloudRunRevision, Auth: verifier, Claims: claims, ActorID: cfg.actorID,
		LabelAfterHydration: cfg.labelAfterHydration, AppURL: cfg.appURL, Dispatch: disp.RunOnce}
	if cfg.nielsen.BaseURL != "" {
		opts.Hydrator = &cfg.nielsen
	}
	if cfg.openAI != nil {
		opts.Labeller = cfg.openAI
	}
	srv := &http.Server{Handler: taskapi.New(opts), ReadHeaderTimeout: 10 * time.Second}
	logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("version", version))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	// The local timer: drain the queue, refresh the search views.
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if cfg.dispatchEvery > 0 {
		wg.Go(func() { disp.Run(bg, cfg.dispatchEvery) })
	}
	if cfg.refreshEvery > 0 {
		wg.Go(func() { refreshViews(bg, pool, claims, logger, cfg.refreshEvery) })
	}

	select {
	case err := <-errc:
		stopBG()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	// Tasks in flight finish within the drain; one still running after it
	// has its connection closed, so its transaction rolls back and the
	// queue delivers it again (exactly-once effects, README).
	stopBG()
	logger.Info("shutting down", slog.Duration("drain", cfg.shutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("tasks in flight outlived the drain; closing their connections",
			slog.Duration("drain", cfg.shutdownTimeout), slog.String("error", err.Error()))
		_ = srv.Close()
	}
	wg.Wait()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// refreshViews refreshes the search views every interval (what Cloud
// Scheduler does in production through /v1/update-search-index).
func refreshViews(ctx context.Context, pool *pgxpool.Pool, claims db.Claims, logger *slog.Logger, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := db.InTx(ctx, pool, claims, func(tx *db.Tx) error { return taskapi.RefreshViews(ctx, tx) })
		if err != nil && ctx.Err() == nil {
			logger.Error("refresh search views", slog.String("error", err.Error()))
		}
	}
}
