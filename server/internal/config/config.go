// Package config loads the API server's configuration from the environment
// (DECISIONS.md §1). Only main reads the environment; everything else gets a
// Config value.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/wriveted/huey-api/schema/db"
)

// Environments.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvProduction  = "production"
)

// Config is the API server's configuration.
type Config struct {
	DatabaseURL          string // huey_api login
	MigrationDatabaseURL string // owner or superuser login, for `migrate`
	SecretKey            []byte // HS256 key
	SigningKey           string // optional Ed25519 seed (base64): new tokens are EdDSA when set
	Port                 int
	LogLevel             slog.Level
	AppEnv               string
	CORSOrigins          []string
	PrincipalCacheTTL    time.Duration
	// PoolMaxConns bounds the API's connection pool: DATABASE_POOL_SIZE,
	// else 0 when DATABASE_URL carries pool_max_conns (pgx reads it there),
	// else DefaultPoolMaxConns().
	PoolMaxConns int32
	// StatementTimeout bounds each statement the API runs
	// (DATABASE_STATEMENT_TIMEOUT, default 10s; Postgres cancels it) and
	// RequestTimeout each request (REQUEST_TIMEOUT, default 20s): one
	// account's slow request cannot hold connections other schools need.
	StatementTimeout time.Duration
	RequestTimeout   time.Duration
	// ShutdownTimeout (SHUTDOWN_TIMEOUT, default 9s) is how long in-flight
	// requests may run after SIGTERM before their connections are cut:
	// Cloud Run kills the instance 10 s after SIGTERM.
	ShutdownTimeout time.Duration
	// TrustedProxies (TRUSTED_PROXIES, comma-separated CIDRs) are the
	// networks whose X-Forwarded-For names the client for the class-code
	// limiter; none: the connecting address is the client's.
	TrustedProxies       []*net.IPNet
	FirebaseProjectID    string
	FirebaseEmulatorHost string
	CloudRunRevision     string
	// AllowBypassRLS (ALLOW_BYPASSRLS=1) lets the API serve through a login
	// that is a superuser or has BYPASSRLS; refused otherwise (issue 14).
	AllowBypassRLS bool
	// Nielsen is the metadata provider of GET /v1/hydrate/{isbn}
	// (NIELSEN_API_URL, NIELSEN_CLIENT_ID, NIELSEN_PASSWORD); an empty
	// APIURL means none (the route answers 503).
	Nielsen Nielsen
}

// Nielsen is the metadata provider's endpoint and credentials.
type Nielsen struct {
	APIURL, ClientID, Password string
}

// Load reads the configuration through getenv (os.Getenv in main, a map in
// tests) and validates it. needSecret is false for commands that never touch
// tokens (migrate).
func Load(getenv func(string) string, needSecret bool) (Config, error) {
	c := Config{
		AppEnv:               strings.ToLower(strings.TrimSpace(getenv("APP_ENV"))),
		FirebaseProjectID:    getenv("FIREBASE_PROJECT_ID"),
		FirebaseEmulatorHost: getenv("FIREBASE_AUTH_EMULATOR_HOST"),
		CloudRunRevision:     getenv("K_REVISION"),
		AllowBypassRLS:       getenv("ALLOW_BYPASSRLS") == "1",
		Nielsen: Nielsen{APIURL: strings.TrimSpace(getenv("NIELSEN_API_URL")), ClientID: getenv("NIELSEN_CLIENT_ID"),
			Password: getenv("NIELSEN_PASSWORD")},
	}
	if c.AppEnv == "" {
		c.AppEnv = EnvProduction
	}
	if c.FirebaseProjectID == "" {
		c.FirebaseProjectID = "wriveted-api"
	}
	if c.CloudRunRevision == "" {
		c.CloudRunRevision = "Unknown"
	}
	var errs []error
	var err error
	if c.DatabaseURL, err = db.URLFromEnv(getenv); err != nil {
		errs = append(errs, err)
	}
	c.MigrationDatabaseURL = getenv("MIGRATION_DATABASE_URL")
	if c.MigrationDatabaseURL == "" {
		c.MigrationDatabaseURL = c.DatabaseURL
	} else if c.MigrationDatabaseURL, err = db.NormalizeURL("MIGRATION_DATABASE_URL", c.MigrationDatabaseURL); err != nil {
		errs = append(errs, err)
	}
	if key := getenv("SECRET_KEY"); len(key) >= 32 {
		c.SecretKey = []byte(key)
	} else if needSecret {
		if key == "" {
			errs = append(errs, errors.New("SECRET_KEY is not set: set it to a random string of at least 32 bytes (the HS256 key shared with the original service)"))
		} else {
			errs = append(errs, errors.New("SECRET_KEY is too short: it must be at least 32 bytes"))
		}
	}
	c.SigningKey = getenv("JWT_SIGNING_KEY")
	if c.Port, err = port(getenv("PORT"), 8000); err != nil {
		errs = append(errs, err)
	}
	if c.LogLevel, err = logLevel(getenv("LOG_LEVEL")); err != nil {
		errs = append(errs, err)
	}
	switch c.AppEnv {
	case EnvDevelopment, EnvTest, EnvProduction:
	default:
		errs = append(errs, fmt.Errorf("APP_ENV=%q: want development, test or production", c.AppEnv))
	}
	// The Firebase SDK trusts unsigned tokens whenever the emulator variable
	// is set: never outside development and test.
	if c.FirebaseEmulatorHost != "" && c.AppEnv != EnvDevelopment && c.AppEnv != EnvTest {
		errs = append(errs, fmt.Errorf("FIREBASE_AUTH_EMULATOR_HOST is set while APP_ENV=%s: the emulator accepts unsigned tokens, so it is refused outside development and test", c.AppEnv))
	}
	for _, o := range strings.Split(getenv("CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if u := c.Nielsen.APIURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, errors.New("NIELSEN_API_URL: want an http(s) URL"))
		}
	}
	// Long, because account changes reach every instance at once through
	// LISTEN/NOTIFY; while that listener is down the API keeps accounts 5 s at most.
	c.PrincipalCacheTTL = 5 * time.Minute
	if v := getenv("PRINCIPAL_CACHE_TTL"); v != "" {
		if c.PrincipalCacheTTL, err = time.ParseDuration(v); err != nil || c.PrincipalCacheTTL < 0 {
			errs = append(errs, fmt.Errorf("PRINCIPAL_CACHE_TTL=%q: want a duration such as 5m", v))
		}
	}
	if v := strings.TrimSpace(getenv("DATABASE_POOL_SIZE")); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("DATABASE_POOL_SIZE=%q: want a number of connections ≥ 1", v))
		}
		c.PoolMaxConns = int32(n)
	} else if u, err := url.Parse(c.DatabaseURL); err != nil || !u.Query().Has("pool_max_conns") {
		c.PoolMaxConns = DefaultPoolMaxConns()
	}
	c.StatementTimeout, c.RequestTimeout, c.ShutdownTimeout = 10*time.Second, 20*time.Second, DefaultShutdownTimeout
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"DATABASE_STATEMENT_TIMEOUT", &c.StatementTimeout}, {"REQUEST_TIMEOUT", &c.RequestTimeout}, {"SHUTDOWN_TIMEOUT", &c.ShutdownTimeout}} {
		if v := strings.TrimSpace(getenv(d.name)); v != "" {
			if *d.to, err = time.ParseDuration(v); err != nil || *d.to < 100*time.Millisecond {
				errs = append(errs, fmt.Errorf("%s=%q: want a duration of at least 100ms, such as 10s", d.name, v))
			}
		}
	}
	for _, raw := range strings.Split(getenv("TRUSTED_PROXIES"), ",") {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		_, n, err := net.ParseCIDR(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR such as 10.0.0.0/8", raw))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	if c.RequestTimeout < c.StatementTimeout {
		errs = append(errs, fmt.Errorf("REQUEST_TIMEOUT (%s) must not be shorter than DATABASE_STATEMENT_TIMEOUT (%s)",
			c.RequestTimeout, c.StatementTimeout))
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// DefaultShutdownTimeout is the drain after SIGTERM without SHUTDOWN_TIMEOUT:
// just under the 10 s Cloud Run allows before it kills the instance.
const DefaultShutdownTimeout = 9 * time.Second

// DefaultPoolMaxConns is the API's pool size without a setting:
// max(8, 4 × GOMAXPROCS). A request holds a connection only for its round
// trip, so a few per core keep the cores busy while others wait on the
// network; pgx's own default (max(4, CPUs)) left requests queueing for one.
func DefaultPoolMaxConns() int32 {
	return int32(max(8, 4*runtime.GOMAXPROCS(0)))
}

func port(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p <= 0 || p > 65535 {
		return 0, fmt.Errorf("PORT=%q: want a port number", v)
	}
	return p, nil
}

func logLevel(v string) (slog.Level, error) {
	var l slog.Level
	if v == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v)
	}
	return l, nil
}

// LogValue keeps secrets out of logs: `slog.Any("config", cfg)` is safe.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database_url", db.Redact(c.DatabaseURL)),
		slog.Int("port", c.Port),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("app_env", c.AppEnv),
		slog.String("secret_key", "[redacted]"),
		slog.Bool("eddsa_signing", c.SigningKey != ""),
		slog.Any("cors_origins", c.CORSOrigins),
		slog.Duration("principal_cache_ttl", c.PrincipalCacheTTL),
		slog.Int("pool_max_conns", int(c.PoolMaxConns)),
		slog.Duration("statement_timeout", c.StatementTimeout),
		slog.Duration("request_timeout", c.RequestTimeout),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.String("firebase_project_id", c.FirebaseProjectID),
		slog.Bool("firebase_emulator", c.FirebaseEmulatorHost != ""),
		slog.Bool("nielsen", c.Nielsen.APIURL != ""),
	)
}
