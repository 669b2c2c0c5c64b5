package composecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.yaml.in/yaml/v3"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/pglocal"
)

// composeFile is the part of the compose format the file uses.
type composeFile struct {
	XApp     any                `yaml:"x-app"` // anchors, merged into the services
	XEnv     any                `yaml:"x-env"`
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string            `yaml:"image"`
	Build       string            `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Profiles    []string          `yaml:"profiles"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		StartPeriod string   `yaml:"start_period"`
		Retries     int      `yaml:"retries"`
	} `yaml:"healthcheck"`
}

func readCompose(t *testing.T, root string) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a key this test does not model would go untested
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("docker-compose.yml: %v (keep environment a map and command a list)", err)
	}
	return f
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := pglocal.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestComposeShape checks what the run below cannot: the start order, the
// image every app service runs, and that each published port is the one
// the service listens on.
func TestComposeShape(t *testing.T) {
	t.Parallel()
	f := readCompose(t, moduleRoot(t))
	want := []string{"api", "books", "db", "internal", "migrate"}
	var got []string
	for name := range f.Services {
		got = append(got, name)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}
	after := map[string]string{"migrate": "db:service_healthy", "api": "migrate:service_completed_successfully",
		"internal": "migrate:service_completed_successfully", "books": "migrate:service_completed_successfully"}
	defaultPort := map[string]string{"server": "8000", "tasks": "8001"}
	for name, dep := range after {
		s := f.Services[name]
		d, c, _ := strings.Cut(dep, ":")
		if s.DependsOn[d].Condition != c || len(s.DependsOn) != 1 {
			t.Errorf("%s: depends_on %v, want %s", name, s.DependsOn, dep)
		}
		if s.Image != "huey-api:compose" || s.Build != "." {
			t.Errorf("%s: image %q build %q: every app service runs the one image built from ./Dockerfile", name, s.Image, s.Build)
		}
		if len(s.Environment["SECRET_KEY"]) < 32 {
			t.Errorf("%s: SECRET_KEY shorter than 32 bytes", name)
		}
		for _, p := range s.Ports {
			_, container, _ := strings.Cut(p, ":")
			port := s.Environment["PORT"]
			if port == "" {
				port = defaultPort[s.Command[0]]
			}
			if container != port {
				t.Errorf("%s: publishes container port %s but listens on %s", name, container, port)
			}
		}
	}
	for _, name := range []string{"api", "internal"} {
		s := f.Services[name]
		if want := []string{"CMD", s.Command[0], "healthcheck"}; !slices.Equal(s.Healthcheck.Test, want) {
			t.Errorf("%s: healthcheck %v, want %v", name, s.Healthcheck.Test, want)
		}
	}
	if p := f.Services["books"].Profiles; !slices.Equal(p, []string{"books"}) {
		t.Errorf("books: profiles %v: the import is opt-in (docker compose --profile books up)", p)
	}
	if _, ok := f.Services["api"].Environment["MIGRATION_DATABASE_URL"]; ok {
		t.Error("api: the owner's login belongs to the migrate service only")
	}
}

// TestDockerignore keeps the build context small and free of secrets.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, want := range []string{".git", ".data/", "**/.data/", "**/node_modules/", "*.test", "**/secrets.json", "bin/"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
	for _, keep := range []string{"schema", "server", "tasks", "policies", "scripts", "go.mod", "go.sum"} {
		if slices.Contains(lines, keep) || slices.Contains(lines, keep+"/") {
			t.Errorf(".dockerignore excludes %s, which the build needs", keep)
		}
	}
}

// TestComposeUp is `docker compose --profile books up` without Docker.
func TestComposeUp(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	f := readCompose(t, root)

	// The image's binaries, built once (with the test's own cgo setting, so
	// the build cache of `go test` serves; the image builds them static).
	bin := t.TempDir()
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancelBuild()
	build := exec.CommandContext(buildCtx, "go", "build", "-o", bin+"/", "./server", "./tasks", "./scripts/import-books")
	build.Dir = root
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the binaries in %s", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// The db service: a fresh cluster of our own, since compose-init.sql
	// sets cluster-wide role passwords the shared test cluster must keep.
	db := f.Services["db"]
	host := startPostgres(t, ctx, root, db)

	// Each app service: the compose environment with host `db` (and, for
	// servers, the published port) mapped to loopback.
	env := func(name string) []string {
		s := f.Services[name]
		var out []string
		for k, v := range s.Environment {
			if strings.HasPrefix(v, "postgres://") {
				v = strings.Replace(v, "@db:5432/", "@"+host+"/", 1)
			}
			if k == "PORT" {
				v = strconv.Itoa(freePort(t))
			}
			out = append(out, k+"="+v)
		}
		return out
	}
	command := func(name string, s service, e []string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, s.Command[0]), s.Command[1:]...) // #nosec G204 -- our binaries
		cmd.Env = e
		cmd.Dir = t.TempDir()
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 10 * time.Second
		return cmd
	}

	// migrate runs to completion first.
	migrate := f.Services["migrate"]
	out, err := command("migrate", migrate, env("migrate")).CombinedOutput()
	latest, _ := schema.Latest(schema.Dir())
	if err != nil || !strings.Contains(string(out), "database is at "+latest) {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	// api and internal start together; each is up when its own health
	// check passes, as Docker decides.
	var wg sync.WaitGroup
	for _, name := range []string{"api", "internal"} {
		s := f.Services[name]
		e := env(name)
		var logs syncBuffer
		cmd := command(name, s, e)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})
		wg.Go(func() {
			check := exec.CommandContext(ctx, filepath.Join(bin, s.Healthcheck.Test[1]), s.Healthcheck.Test[2:]...) // #nosec G204
			deadline := time.Now().Add(30 * time.Second)
			for {
				c := *check
				c.Env = e
				hc, herr := c.CombinedOutput()
				if herr == nil {
					break
				}
				select {
				case err := <-exited:
					t.Errorf("%s exited before it was healthy: %v\n%s", name, err, logs.String())
					return
				default:
				}
				if time.Now().After(deadline) {
					t.Errorf("%s: not healthy after 30 s: %s\n%s", name, hc, logs.String())
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
			port := ""
			for _, kv := range e {
				if p, ok := strings.CutPrefix(kv, "PORT="); ok {
					port = p
				}
			}
			var v map[string]string
			getJSON(t, "http://127.0.0.1:"+port+"/v1/version", &v)
			if v["database_revision"] != latest {
				t.Errorf("%s: /v1/version %v, want database_revision %s", name, v, latest)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// books (the opt-in profile): its bind mount is the CSV it imports.
	books := f.Services["books"]
	src, dst := bindMount(t, root, books.Volumes[0])
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("books: the sample data is missing: %v (the shared data lives beside the checkout; HUEY_BOOKS_CSV names another file)", err)
	}
	args := slices.Clone(books.Command)
	for i, a := range args {
		if a == dst {
			args[i] = src
		}
	}
	if slices.Equal(args, books.Command) {
		t.Fatalf("books: command %v does not read its mount %s", books.Command, dst)
	}
	books.Command = args
	if out, err := command("books", books, env("books")).CombinedOutput(); err != nil || !strings.Contains(string(out), "created") {
		t.Fatalf("books: %v\n%s", err, out)
	}
	conn, err := pgx.Connect(ctx, superuserURL(host, f.Services["db"]))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var works int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM public.works`).Scan(&works); err != nil || works < 100 {
		t.Fatalf("after the books import: %d works, %v", works, err)
	}
}

// startPostgres starts a private cluster and prepares it as the postgres
// image does on first start: the superuser's password is POSTGRES_PASSWORD,
// POSTGRES_DB exists, and the mounted init scripts run in it as the
// superuser. It returns the cluster's host:port.
func startPostgres(t *testing.T, ctx context.Context, root string, db service) string {
	t.Helper()
	dir, _, err := pglocal.ResolveDir(filepath.Join(t.TempDir(), "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := pglocal.Start(pglocal.Options{Dir: dir})
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop postgres: %v", err)
		}
		_ = os.RemoveAll(dir)
	})
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	pw, name := db.Environment["POSTGRES_PASSWORD"], db.Environment["POSTGRES_DB"]
	if pw == "" || name == "" {
		t.Fatalf("db: want POSTGRES_PASSWORD and POSTGRES_DB, got %v", db.Environment)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER ROLE postgres PASSWORD '%s'", pw)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port))
	initConn, err := pgx.Connect(ctx, superuserURL(host, db))
	if err != nil {
		t.Fatal(err)
	}
	defer initConn.Close(context.Background())
	ran := 0
	for _, v := range db.Volumes {
		if !strings.HasPrefix(v, ".") { // the named data volume
			continue
		}
		src, dst := bindMount(t, root, v)
		if !strings.HasPrefix(dst, "/docker-entrypoint-initdb.d/") {
			continue
		}
		sql, err := os.ReadFile(src) // #nosec G304 -- the compose file's own mount
		if err != nil {
			t.Fatal(err)
		}
		if _, err := initConn.Exec(ctx, string(sql)); err != nil {
			t.Fatalf("db: %s: %v", src, err)
		}
		ran++
	}
	if ran == 0 {
		t.Fatal("db: no init script mounted: the roles' passwords would not exist")
	}
	return host
}

func superuserURL(host string, db service) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword("postgres", db.Environment["POSTGRES_PASSWORD"]),
		Host: host, Path: "/" + db.Environment["POSTGRES_DB"], RawQuery: "sslmode=disable"}
	return u.String()
}

var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}`)

// bindMount splits SRC:DST[:ro], interpolating ${VAR:-default} from this
// process's environment as compose does and resolving SRC against the
// compose file's directory.
func bindMount(t *testing.T, root, v string) (src, dst string) {
	t.Helper()
	v = interpolation.ReplaceAllStringFunc(v, func(m string) string {
		g := interpolation.FindStringSubmatch(m)
		if val := os.Getenv(g[1]); val != "" {
			return val
		}
		return g[2]
	})
	parts := strings.Split(v, ":")
	if len(parts) < 2 || !strings.HasPrefix(parts[0], ".") && !filepath.IsAbs(parts[0]) {
		t.Fatalf("volume %q: want a bind mount PATH:DEST", v)
	}
	src = parts[0]
	if !filepath.IsAbs(src) {
		src = filepath.Join(root, src)
	}
	return src, parts[1]
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s %s", u, resp.Status, b)
		return
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Errorf("GET %s: %v: %s", u, err, b)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
