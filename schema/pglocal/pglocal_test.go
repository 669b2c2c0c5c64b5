package pglocal

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMissingBinariesSayHowToInstall(t *testing.T) {
	t.Parallel()
	notFound := func(string) (string, error) { return "", exec.ErrNotFound }
	_, err := findBinaries(notFound, t.TempDir())
	if !errors.Is(err, ErrNoBinaries) || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("got %v, want one line saying how to install Postgres", err)
	}
}

func TestFindsNewestVersionUnderLib(t *testing.T) {
	t.Parallel()
	lib := t.TempDir()
	for _, v := range []string{"13", "15"} {
		bin := filepath.Join(lib, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"pg_ctl", "initdb"} {
			if err := os.WriteFile(filepath.Join(bin, f), nil, 0o755); err != nil { // #nosec G306 -- test fake
				t.Fatal(err)
			}
		}
	}
	got, err := findBinaries(func(string) (string, error) { return "", exec.ErrNotFound }, lib)
	if err != nil || got != filepath.Join(lib, "15", "bin") {
		t.Fatalf("got %q, %v", got, err)
	}
}

// A cluster is created, answers, stops, and on the next start keeps its data,
// port and password.
func TestStartStopReuse(t *testing.T) {
	t.Parallel()
	dir, _, err := ResolveDir(filepath.Join(t.TempDir(), "pg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(dir)) })
	c, err := Start(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE kept"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if _, err := pgx.Connect(ctx, c.URL("postgres", "wrong-password", "postgres")); err == nil {
		t.Fatal("connected with a wrong password")
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	c2, err := Start(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c2.Password != c.Password {
		t.Fatal("restart changed the superuser password")
	}
	conn, err = pgx.Connect(ctx, c2.SuperuserURL("kept"))
	if err != nil {
		t.Fatalf("data not kept across restart: %v", err)
	}
	conn.Close(ctx)
	// Starting an already running cluster reuses it.
	c3, err := Start(Options{Dir: dir})
	if err != nil || c3.Port != c2.Port {
		t.Fatalf("reuse: port %d vs %d, %v", c3.Port, c2.Port, err)
	}
	if err := c2.Stop(); err != nil {
		t.Fatal(err)
	}
}

// As root, a checkout the postgres user cannot reach moves the cluster to a
// temp directory named after the checkout.
func TestResolveDirFallsBackWhenUnreachable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		dir, moved, err := ResolveDir(filepath.Join(t.TempDir(), "pg"))
		if err != nil || moved || dir == "" {
			t.Fatalf("non-root: %q %v %v", dir, moved, err)
		}
		return
	}
	private := t.TempDir()
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	closed := filepath.Join(private, "home")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	dir, moved, err := ResolveDir(filepath.Join(closed, "checkout", ".data", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(dir)) })
	if !moved || !strings.HasPrefix(dir, os.TempDir()) {
		t.Fatalf("got %q moved=%v, want a temp dir", dir, moved)
	}
	again, _, _ := ResolveDir(filepath.Join(closed, "checkout", ".data", "postgres"))
	if again != dir {
		t.Fatalf("fallback not stable: %q then %q", dir, again)
	}
}
