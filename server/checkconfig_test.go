package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/schema/dbtest"
)

func envFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "api.env.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A production environment file as gcloud takes it, with the mistakes the
// check exists for.
func TestDeployCheckConfigFindsMistakes(t *testing.T) {
	t.Parallel()
	f := envFile(t, `APP_ENV: production
DATABASE_URL: postgres://postgres:pw@/huey?host=/cloudsql/p:r:i
SECRET_KEY: too-short
INTERNAL_TASK_SECRET: a-shared-secret-of-more-than-32-bytes
MIGRATION_DATABASE_URL: postgres://huey_owner:pw@/huey?host=/cloudsql/p:r:i
PORT: "8080"
CORS_ORIGIN: https://app.example
`)
	var out bytes.Buffer
	err := run(context.Background(), []string{"check-config", "-env", f}, envOf(nil), &out, nil)
	if err == nil {
		t.Fatalf("accepted:\n%s", out.String())
	}
	for _, want := range []string{
		"server: error: SECRET_KEY is too short",
		"server: error: INTERNAL_TASK_SECRET is set while APP_ENV=production",
		"server: error: MIGRATION_DATABASE_URL is set in a serving service's environment",
		"server: warning: PORT is set in " + f,
		"server: warning: CORS_ORIGIN (from " + f + ") is not read by the API server",
		`server: warning: DATABASE_URL logs in as "postgres"`,
		"server: warning: FIREBASE_PROJECT_ID is not set",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("want %q in:\n%s", want, out.String())
		}
	}
}

// -connect logs in: huey_api passes; a superuser and the owner do not; an
// unmigrated database does not.
func TestDeployCheckConfigConnect(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	check := func(databaseURL string) (string, error) {
		var out bytes.Buffer
		env := envOf(map[string]string{"APP_ENV": "production", "DATABASE_URL": databaseURL,
			"SECRET_KEY": strings.Repeat("k", 32), "FIREBASE_PROJECT_ID": "huey-test"})
		err := run(context.Background(), []string{"check-config", "-connect"}, env, &out, nil)
		return out.String(), err
	}
	if out, err := check(d.RoleURL(dbtest.RoleAPI)); err != nil || out != "server: configuration ok (0 warning(s))\n" {
		t.Fatalf("huey_api: %v\n%s", err, out)
	}
	out, err := check(d.SuperuserURL())
	if err == nil || !strings.Contains(out, "a superuser: row-level security does not bind superusers") {
		t.Errorf("superuser: %v\n%s", err, out)
	}
	out, err = check(d.RoleURL(dbtest.RoleOwner))
	if err == nil || !strings.Contains(out, "which owns") || !strings.Contains(out, "not a member of huey_app") {
		t.Errorf("owner: %v\n%s", err, out)
	}
	u, _ := url.Parse(strings.Replace(d.RoleURL(dbtest.RoleAPI), d.Name, "huey_no_such_db", 1))
	pw, _ := u.User.Password()
	out, err = check(u.String())
	if err == nil || !strings.Contains(out, "-connect: cannot log in with DATABASE_URL") || strings.Contains(out, pw) {
		t.Errorf("no database: %v\n%s", err, out)
	}
	e := dbtest.EmptyDB(t)
	out, err = check(e.RoleURL(dbtest.RoleAPI))
	if err == nil || !strings.Contains(out, "the database has no migrations applied") {
		t.Errorf("unmigrated: %v\n%s", err, out)
	}
}

func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	// Nothing listens on the port: unhealthy.
	err := run(context.Background(), []string{"healthcheck"}, envOf(map[string]string{"PORT": "1"}), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "unhealthy") {
		t.Fatalf("got %v", err)
	}
	if err := run(context.Background(), []string{"sideways"}, envOf(nil), io.Discard, nil); err == nil ||
		!strings.Contains(err.Error(), "check-config") {
		t.Fatalf("unknown command: %v", err)
	}
}

// The example in deploy/ that docs/deploy-gcp.md deploys passes, with the
// secrets from the environment as Secret Manager provides them.
func TestDeployExampleEnvPasses(t *testing.T) {
	t.Parallel()
	secrets := envOf(map[string]string{"SECRET_KEY": strings.Repeat("k", 32),
		"DATABASE_URL": "postgres://huey_api:pw@/huey?host=/cloudsql/huey-prod:australia-southeast1:huey-db"})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check-config", "-env", "../docs/deploy/api.env.yaml", "-from-env"}, secrets, &out, nil); err != nil ||
		out.String() != "server: configuration ok (0 warning(s))\n" {
		t.Fatalf("%v\n%s", err, out.String())
	}
}
