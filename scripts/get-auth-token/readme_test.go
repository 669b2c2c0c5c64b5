package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/demo"
	"github.com/wriveted/huey-api/schema/pglocal"
	"github.com/wriveted/huey-api/scripts/internal/devenv"
)

// Issue 14: the README's token commands, run exactly as written (in bash,
// from the module root) against the environment `make run` writes
// (scripts/internal/devenv) and the demo it seeds, print a token the API
// accepts for that account — for a user and for a service account. Only the
// path of dev.env differs (a temporary file, not the developer's).
func TestReadmeTokenCommandsWork(t *testing.T) {
	t.Parallel()
	root, err := pglocal.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var commands []string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "set -a; . .data/dev.env; set +a; go run ./scripts/get-auth-token ") {
			commands = append(commands, line)
		}
	}
	if len(commands) < 2 {
		t.Fatalf("the README shows %d get-auth-token commands, want the user and the service-account one", len(commands))
	}
	d := dbtest.NewDB(t)
	if _, err := demo.Seed(context.Background(), d.SuperuserURL()); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(t.TempDir(), "dev.env")
	if err := devenv.Write(envFile, devenv.For(d.RoleURL, d.SuperuserURL(), secret, strings.Repeat("t", 32))); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeys([]byte(secret), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		cmd := exec.Command("bash", "-c", strings.Replace(c, ".data/dev.env", envFile, 1)) // #nosec G204 -- the README's own command
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "STAFF_DATABASE_URL=", "STAFF_RO_DATABASE_URL=", "DATABASE_URL=")
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("%s: %v\n%s", c, err, stderr)
		}
		tok, err := keys.Verify(lastLine(string(out)), time.Now())
		if err != nil {
			t.Fatalf("%s printed no valid token: %v", c, err)
		}
		want := demo.AdminID
		if strings.Contains(c, "-service-account") {
			want = demo.LMSID
		}
		if tok.Subject.ID != want {
			t.Fatalf("%s: token for %s, want %s", c, tok.Subject, want)
		}
	}
}
