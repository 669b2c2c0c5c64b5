// Command server is the public Huey API.
//
//	go run ./server                         serve /v1 on $PORT (default 8000)
//	go run ./server migrate                 apply pending migrations and exit
//	go run ./server migrate status          list applied and pending migrations
//	go run ./server migrate -baseline V [-legacy-role R]   take over a database created by the original service
//	go run ./server migrate drop-legacy-role R            end the original login's access after the cut-over
//	go run ./server migrate release -owner R              hand the original's tables back (rollback)
//	server healthcheck                      exit 0 when this container's API answers GET /v1/version on $PORT
//	server check-config [-env F] [-connect]  validate a deployment's environment (docs/deploy-gcp.md)
//
// Configuration comes from the environment only (README, DECISIONS.md §1).
// main only wires: config, pool, Server, listen.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"ariga.io/atlas/sql/migrate"
	firebase "firebase.google.com/go/v4"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for Atlas
	"google.golang.org/api/option"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/ops/healthcheck"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/catalog/hydrate"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/server/internal/api"
	"github.com/wriveted/huey-api/server/internal/config"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "0.1.0"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run runs the command of args until ctx ends. The server listens on ln, or
// on $PORT when ln is nil (main); run closes ln.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, ln net.Listener) error {
	if ln != nil {
		defer ln.Close()
	}
	if len(args) > 0 {
		switch args[0] {
		case "migrate":
			return migrateCmd(ctx, args[1:], getenv, stdout)
		case "healthcheck": // the container's health check: GET /v1/version on $PORT
			return healthcheck.Check(ctx, getenv, 8000)
		case "check-config":
			return checkConfig(ctx, args[1:], getenv, stdout)
		}
		return fmt.Errorf("unknown command %q (want no command, `migrate`, `healthcheck` or `check-config`)", args[0])
	}
	cfg, err := config.Load(getenv, true)
	if err != nil {
		return err
	}
	// Logs are buffered and written out every 100 ms: a request's log line
	// then costs no write system call of its own.
	logs := newLogWriter(stdout, 100*time.Millisecond)
	defer logs.Close()
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	pool, err := db.OpenPool(ctx, cfg.DatabaseURL, "huey-api",
		db.PoolOptions{MaxConns: cfg.PoolMaxConns, StatementTimeout: cfg.StatementTimeout})
	if err != nil {
		return err
	}
	defer pool.Close()
	latest, err := schema.Latest(schema.Dir())
	if err != nil {
		return err
	}
	if err := db.CheckServing(ctx, pool, latest, cfg.AllowBypassRLS); err != nil {
		return err
	}
	engine, err := policies.New(ctx)
	if err != nil {
		return fmt.Errorf("compile policies: %w", err)
	}
	tokens, err := auth.NewKeys(cfg.SecretKey, cfg.SigningKey)
	if err != nil {
		return err
	}
	fb, err := firebaseVerifier(ctx, cfg)
	if err != nil {
		return err
	}
	// Account changes reach this process through LISTEN on its own connection
	// (the same login), so cached principals can live for PRINCIPAL_CACHE_TTL.
	accounts := api.NewAccountCache(cfg.PrincipalCacheTTL)
	listenCfg := pool.Config().ConnConfig
	listenCfg.RuntimeParams["application_name"] = "huey-api-listener"
	listenCtx, stopListening := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		accounts.Listen(listenCtx, listenCfg, logger)
	}()
	defer func() { stopListening(); <-listening }()
	opts := api.Options{
		Pool: pool, Logger: logger, Policies: engine, Tokens: tokens, Firebase: fb, Accounts: accounts,
		PrincipalCacheTTL: cfg.PrincipalCacheTTL, Version: version, Commit: commit,
		CloudRunRevision: cfg.CloudRunRevision, CORSOrigins: cfg.CORSOrigins, RequestTimeout: cfg.RequestTimeout,
		TrustedProxies: cfg.TrustedProxies,
	}
	if n := cfg.Nielsen; n.APIURL != "" { // else GET /v1/hydrate/{isbn} answers 503
		opts.Hydrator = &hydrate.Client{BaseURL: n.APIURL, ClientID: n.ClientID, Password: n.Password}
	}
	e := api.New(opts)
	srv := &http.Server{
		Addr:              net.JoinHostPort("", strconv.Itoa(cfg.Port)),
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // a large LMS upload on a slow school network
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", srv.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", srv.Addr, err)
		}
	}
	return serve(ctx, srv, ln, logger, cfg)
}

// firebaseVerifier builds the Firebase ID token verifier. Verifying needs no
// credentials, only the project id (the audience); with
// FIREBASE_AUTH_EMULATOR_HOST set (development and test only, enforced by
// config) the SDK talks to the emulator.
func firebaseVerifier(ctx context.Context, cfg config.Config) (api.FirebaseVerifier, error) {
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.FirebaseProjectID}, option.WithoutAuthentication())
	if err != nil {
		return nil, fmt.Errorf("firebase: %w", err)
	}
	client, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("firebase auth: %w", err)
	}
	return client, nil
}

// serve answers on ln until ctx ends (SIGINT/SIGTERM). Then it stops
// accepting connections and lets in-flight requests finish for up to
// cfg.ShutdownTimeout (SHUTDOWN_TIMEOUT); connections still busy after that
// are closed, which cancels their requests' contexts (their statements are
// cancelled and their transactions roll back).
func serve(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger, cfg config.Config) error {
	logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("version", version), slog.Any("config", cfg))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	drain := cfg.ShutdownTimeout
	if drain <= 0 {
		drain = config.DefaultShutdownTimeout
	}
	logger.Info("shutting down", slog.Duration("drain", drain))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("in-flight requests outlived the drain; closing their connections",
			slog.Duration("drain", drain), slog.String("error", err.Error()))
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	baseline := fs.String("baseline", "", "take over a database the original service created: `VERSION` is the first migration (docs/takeover.md)")
	legacyRole := fs.String("legacy-role", "", "keep the original service's login `ROLE` reading and writing the original's tables during the cut-over")
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintln(out, `usage: server migrate [-baseline VERSION] [-legacy-role ROLE]
       server migrate status
       server migrate drop-legacy-role ROLE
       server migrate release -owner ROLE [-force]`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv, false)
	if err != nil {
		return err
	}
	sqlDB, err := sql.Open("pgx", cfg.MigrationDatabaseURL)
	if err != nil {
		return fmt.Errorf("open %s: %w", db.Redact(cfg.MigrationDatabaseURL), err)
	}
	defer sqlDB.Close()
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to %s: %w", db.Redact(cfg.MigrationDatabaseURL), err)
	}
	dir := schema.Dir()
	logf := func(f string, a ...any) { fmt.Fprintf(out, f+"\n", a...) }
	switch fs.Arg(0) {
	case "status":
		return migrateStatus(ctx, sqlDB, dir, out)
	case "drop-legacy-role":
		if fs.NArg() != 2 {
			fs.Usage()
			return errors.New("drop-legacy-role needs the role: server migrate drop-legacy-role ROLE")
		}
		if err := schema.DropLegacyRole(ctx, sqlDB, dir, fs.Arg(1)); err != nil {
			return err
		}
		logf("%s no longer reads or writes the original's tables", fs.Arg(1))
		return nil
	case "release":
		rf := flag.NewFlagSet("release", flag.ContinueOnError)
		rf.SetOutput(out)
		owner := rf.String("owner", "", "the original service's login `ROLE`, which gets the tables back")
		force := rf.Bool("force", false, "release even though background tasks are still queued (they are dropped)")
		if err := rf.Parse(fs.Args()[1:]); err != nil {
			return err
		}
		if *owner == "" {
			return errors.New("release needs -owner ROLE: the original service's login")
		}
		return schema.Release(ctx, sqlDB, dir, *owner, *force, logf)
	case "":
		applied, err := schema.Migrate(ctx, sqlDB, dir, schema.MigrateOptions{Baseline: *baseline, LegacyRole: *legacyRole, Log: logf})
		if err != nil {
			return err
		}
		if *legacyRole != "" && *baseline == "" {
			if err := schema.GrantLegacyRole(ctx, sqlDB, dir, *legacyRole); err != nil {
				return err
			}
			logf("%s reads and writes the original's tables until `server migrate drop-legacy-role %s`", *legacyRole, *legacyRole)
		}
		latest, _ := schema.Latest(dir)
		if len(applied) == 0 {
			fmt.Fprintf(out, "database is up to date at %s\n", latest)
		} else {
			fmt.Fprintf(out, "applied %d migration(s); database is at %s\n", len(applied), latest)
		}
		return nil
	default:
		fs.Usage()
		return fmt.Errorf("unknown migrate command %q", fs.Arg(0))
	}
}

// migrateStatus prints every migration's state; it changes nothing, and on
// an original database not yet taken over says how to take it over.
func migrateStatus(ctx context.Context, sqlDB *sql.DB, dir migrate.Dir, out io.Writer) error {
	st, err := schema.Status(ctx, sqlDB, dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tDESCRIPTION")
	pending := 0
	for _, s := range st {
		state := "pending"
		switch {
		case s.Baseline:
			state = "baseline"
		case s.Applied:
			state = "applied"
		default:
			pending++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Version, state, s.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d pending\n", pending)
	f, err := schema.Inspect(ctx, sqlDB, dir)
	if err != nil {
		return err
	}
	if f.Revisions == 0 && f.HasAlembic && len(st) > 0 {
		fmt.Fprintf(out, "this database was created by the original service (Alembic %s): take it over with `server migrate -baseline %s` (docs/takeover.md), not a plain `migrate`\n",
			f.AlembicVersion, st[0].Version)
	}
	return nil
}
