// Command tasks is the internal task server: background work (event
// processing, emails, labelling, hydration, reading pathways) delivered by
// Google Cloud Tasks in production and by the local queue otherwise.
//
//	go run ./tasks      serve the internal API on $PORT (default 8001)
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
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/tasks/internal/taskapi"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "0.1.0"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "tasks:", err)
		os.Exit(1)
	}
}

// config is the task server's configuration.
type config struct {
	databaseURL string
	port        int
	logLevel    slog.Level
}

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
	return c, errors.Join(errs...)
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
	srv := &http.Server{
		Handler:           taskapi.New(taskapi.Options{Pool: pool, Logger: logger, Version: version, Commit: commit}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.port)))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.port, err)
	}
	logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("version", version))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Tasks in flight finish (Cloud Tasks retries what does not).
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
