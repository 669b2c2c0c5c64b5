package config

import (
	"bytes"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const secret = "0123456789abcdef0123456789abcdef"

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://huey_api:pw@db/huey", "SECRET_KEY": secret}), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8000 || c.LogLevel != slog.LevelInfo || c.AppEnv != EnvProduction || c.MigrationDatabaseURL != c.DatabaseURL ||
		c.PrincipalCacheTTL != 5*time.Minute || c.PoolMaxConns != DefaultPoolMaxConns() ||
		c.StatementTimeout != 10*time.Second || c.RequestTimeout != 20*time.Second || c.ShutdownTimeout != 9*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestSQLAlchemyURLFallback(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://u:p@h:5432/d", "SECRET_KEY": secret}), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgresql://u:p@h:5432/d" {
		t.Fatalf("DatabaseURL = %q", c.DatabaseURL)
	}
}

func TestLoadRefusesBadSettings(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"no database":            {map[string]string{"SECRET_KEY": secret}, "DATABASE_URL is not set"},
		"no secret":              {map[string]string{"DATABASE_URL": "postgres://h/d"}, "SECRET_KEY is not set"},
		"short secret":           {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": "short"}, "too short"},
		"mysql url":              {map[string]string{"DATABASE_URL": "mysql://h/d", "SECRET_KEY": secret}, "postgres://"},
		"bad port":               {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "PORT": "http"}, "PORT"},
		"bad level":              {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		"emulator in prod":       {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}, "FIREBASE_AUTH_EMULATOR_HOST"},
		"bad nielsen url":        {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "NIELSEN_API_URL": "nielsen.example"}, "NIELSEN_API_URL"},
		"bad pool size":          {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE"},
		"pool size word":         {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "DATABASE_POOL_SIZE": "many"}, "DATABASE_POOL_SIZE"},
		"statement timeout word": {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "DATABASE_STATEMENT_TIMEOUT": "soon"}, "DATABASE_STATEMENT_TIMEOUT"},
		"statement timeout tiny": {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "DATABASE_STATEMENT_TIMEOUT": "1ms"}, "DATABASE_STATEMENT_TIMEOUT"},
		"shutdown timeout word":  {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "SHUTDOWN_TIMEOUT": "later"}, "SHUTDOWN_TIMEOUT"},
		"bad proxy":              {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "TRUSTED_PROXIES": "10.0.0.0/8, proxy"}, "TRUSTED_PROXIES"},
		"request shorter":        {map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret, "REQUEST_TIMEOUT": "5s", "DATABASE_STATEMENT_TIMEOUT": "8s"}, "REQUEST_TIMEOUT"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(tc.env), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestEmulatorAllowedInDevelopment(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{"DATABASE_URL": "postgres://h/d", "SECRET_KEY": secret,
		"APP_ENV": "development", "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}), true)
	if err != nil {
		t.Fatal(err)
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://huey_api:hunter2pw@db/huey", "SECRET_KEY": secret,
		"NIELSEN_API_URL": "https://nielsen.example/api", "NIELSEN_CLIENT_ID": "huey", "NIELSEN_PASSWORD": "nielsen-pw-42"}), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Nielsen != (Nielsen{APIURL: "https://nielsen.example/api", ClientID: "huey", Password: "nielsen-pw-42"}) {
		t.Fatalf("Nielsen = %+v", c.Nielsen)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", c)
	if out := buf.String(); strings.Contains(out, "hunter2pw") || strings.Contains(out, secret) || strings.Contains(out, "nielsen-pw-42") {
		t.Fatalf("secret in log: %s", out)
	}
}

func TestPoolMaxConns(t *testing.T) {
	t.Parallel()
	if d := DefaultPoolMaxConns(); d < 8 || d != int32(max(8, 4*runtime.GOMAXPROCS(0))) {
		t.Fatalf("DefaultPoolMaxConns() = %d", d)
	}
	cases := map[string]struct {
		url, setting string
		want         int32
	}{
		"default":               {"postgres://h/d", "", DefaultPoolMaxConns()},
		"setting":               {"postgres://h/d", "24", 24},
		"URL's pool_max_conns":  {"postgres://h/d?pool_max_conns=3", "", 0}, // 0: pgx reads the URL's
		"setting wins over URL": {"postgres://h/d?pool_max_conns=3", "12", 12},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env(map[string]string{"DATABASE_URL": tc.url, "SECRET_KEY": secret, "DATABASE_POOL_SIZE": tc.setting}), true)
			if err != nil {
				t.Fatal(err)
			}
			if c.PoolMaxConns != tc.want {
				t.Fatalf("PoolMaxConns = %d, want %d", c.PoolMaxConns, tc.want)
			}
		})
	}
}
