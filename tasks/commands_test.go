package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// The task server's production rules: a Cloud Tasks queue, no shared
// secret; and what its own loader refuses, worded as it words it.
func TestDeployCheckTasksProduction(t *testing.T) {
	t.Parallel()
	check := func(text string, process map[string]string, args ...string) (string, error) {
		p := filepath.Join(t.TempDir(), "tasks.env.yaml")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := command(context.Background(), append([]string{"check-config", "-env", p}, args...),
			func(k string) string { return process[k] }, &out)
		return out.String(), err
	}
	out, err := check(`APP_ENV: production
DATABASE_URL: postgres://huey_api:pw@/huey?host=/cloudsql/p:r:i
SECRET_KEY: "0123456789abcdef0123456789abcdef"
INTERNAL_TASK_SECRET: "0123456789abcdef0123456789abcdef"
NIELSEN_CLIENTID: typo
`, nil)
	if err == nil {
		t.Fatalf("accepted:\n%s", out)
	}
	for _, want := range []string{
		"tasks: error: WRIVETED_INTERNAL_API is not set: in production",
		"tasks: error: INTERNAL_TASK_SECRET is set while APP_ENV=production",
		"tasks: error: GCP_CLOUD_TASKS_NAME is not set while APP_ENV=production",
		"tasks: warning: GCP_CLOUD_TASKS_SERVICE_ACCOUNT is not set",
		"tasks: warning: NIELSEN_CLIENTID (from ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}

	// A good production file; the secret comes from the process (-from-env),
	// as Secret Manager provides it.
	good := `APP_ENV: production
DATABASE_URL: postgres://huey_api:pw@/huey?host=/cloudsql/p:r:i
WRIVETED_INTERNAL_API: https://huey-internal-abc-ts.a.run.app
GCP_PROJECT_ID: huey-prod
GCP_LOCATION: australia-southeast1
GCP_CLOUD_TASKS_NAME: huey-background
GCP_CLOUD_TASKS_SERVICE_ACCOUNT: huey-tasks-invoker@huey-prod.iam.gserviceaccount.com
`
	secret := map[string]string{"SECRET_KEY": strings.Repeat("s", 32)}
	if out, err := check(good, secret, "-from-env"); err != nil || out != "tasks: configuration ok (0 warning(s))\n" {
		t.Fatalf("good production file: %v\n%s", err, out)
	}
	if out, err := check(good, secret); err == nil || !strings.Contains(out, "SECRET_KEY is not set") {
		t.Fatalf("without -from-env the process environment is not read: %v\n%s", err, out)
	}
	if out, err := check(strings.Replace(good, "https://", "http://", 1), secret, "-from-env"); err != nil ||
		!strings.Contains(out, "is not https") {
		t.Fatalf("http audience: %v\n%s", err, out)
	}
}

// -connect checks the login and the background-work account.
func TestDeployCheckTasksConnect(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	check := func(actor string) (string, error) {
		env := map[string]string{"APP_ENV": "development", "DATABASE_URL": d.RoleURL(dbtest.RoleAPI),
			"SECRET_KEY": strings.Repeat("s", 32), "INTERNAL_TASK_SECRET": strings.Repeat("t", 32), "TASK_SERVICE_ACCOUNT_ID": actor}
		var out bytes.Buffer
		err := command(context.Background(), []string{"check-config", "-connect"}, func(k string) string { return env[k] }, &out)
		return out.String(), err
	}
	if out, err := check(defaultActorID); err != nil || out != "tasks: configuration ok (0 warning(s))\n" {
		t.Fatalf("default actor: %v\n%s", err, out)
	}
	if out, err := check("00000000-0000-4000-8000-000000000000"); err == nil || !strings.Contains(out, "no such service account") {
		t.Fatalf("unknown actor: %v\n%s", err, out)
	}
}

func TestTasksCommands(t *testing.T) {
	t.Parallel()
	env := func(k string) string { return map[string]string{"PORT": "1"}[k] }
	if err := command(context.Background(), []string{"healthcheck"}, env, io.Discard); err == nil || !strings.Contains(err.Error(), "unhealthy") {
		t.Fatalf("healthcheck with nothing listening: %v", err)
	}
	if err := command(context.Background(), []string{"sideways"}, env, io.Discard); err == nil || !strings.Contains(err.Error(), "healthcheck") {
		t.Fatalf("unknown command: %v", err)
	}
}

// The example in deploy/ that docs/deploy-gcp.md deploys passes, with the
// secrets from the environment as Secret Manager provides them.
func TestDeployExampleEnvPasses(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{"SECRET_KEY": strings.Repeat("k", 32),
		"DATABASE_URL": "postgres://huey_api:pw@/huey?host=/cloudsql/huey-prod:australia-southeast1:huey-db"}
	var out bytes.Buffer
	if err := command(context.Background(), []string{"check-config", "-env", "../docs/deploy/tasks.env.yaml", "-from-env"},
		func(k string) string { return secrets[k] }, &out); err != nil || out.String() != "tasks: configuration ok (0 warning(s))\n" {
		t.Fatalf("%v\n%s", err, out.String())
	}
}
