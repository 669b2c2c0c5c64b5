// Package pglocal runs a private PostgreSQL cluster from the machine's own
// server binaries, for `make run` and for the test harness.
//
// It needs no Docker and no database set up by hand: it finds initdb/pg_ctl on
// PATH or under /usr/lib/postgresql/*/bin, creates the cluster on first use,
// picks a free loopback port, and runs the server as the `postgres` user when
// invoked as root (initdb refuses root). The cluster listens on 127.0.0.1
// only, with no Unix socket, and requires a password (scram-sha-256); the
// generated superuser password is kept in the cluster directory, readable only
// by the invoking user.
//
// pglocal imports nothing from this module.
package pglocal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries can be found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl) found on PATH or under /usr/lib/postgresql/*/bin: install them, e.g. `apt-get install -y postgresql`")

// Options say where and how to run a cluster.
type Options struct {
	// Dir holds the cluster (pgdata/, postgres.log, cluster.json). It is
	// created if missing.
	Dir string
	// Durable keeps fsync on. Tests turn it off: their data is throwaway.
	Durable bool
}

// Cluster is a running (or reusable) private cluster.
type Cluster struct {
	Dir      string `json:"-"`
	Port     int    `json:"port"`
	Password string `json:"password"` // the `postgres` superuser's
	bin      string
	runAs    *syscall.Credential
}

// meta is what survives between runs in Dir/cluster.json.
type meta struct {
	Port     int    `json:"port"`
	Password string `json:"password"`
}

// ResolveDir returns preferred when the `postgres` user can write there (or
// when not running as root), and otherwise a directory under the system temp
// dir named after a hash of preferred, so a checkout under a 0700 home
// directory still works. moved says whether the fallback was taken.
func ResolveDir(preferred string) (dir string, moved bool, err error) {
	abs, err := filepath.Abs(preferred)
	if err != nil {
		return "", false, fmt.Errorf("resolve %s: %w", preferred, err)
	}
	cred, err := postgresCredential()
	if err != nil || cred == nil {
		return abs, false, err
	}
	if err := prepareDir(abs, cred); err == nil && reachable(abs, cred) {
		return abs, false, nil
	}
	sum := sha256.Sum256([]byte(abs))
	alt := filepath.Join(os.TempDir(), "huey-pg-"+hex.EncodeToString(sum[:6]), filepath.Base(abs))
	if err := prepareDir(alt, cred); err != nil {
		return "", false, err
	}
	return alt, true, nil
}

// Start creates the cluster if needed and starts it, or reuses it when it is
// already running.
func Start(opts Options) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: opts.Dir, bin: bin, runAs: cred}
	if err := prepareDir(c.Dir, cred); err != nil {
		return nil, err
	}
	if err := c.loadOrInit(); err != nil {
		return nil, err
	}
	if c.running() {
		return c, nil
	}
	if !portFree(c.Port) {
		if c.Port, err = freePort(); err != nil {
			return nil, err
		}
		if err := c.saveMeta(); err != nil {
			return nil, err
		}
	}
	fsync := "off"
	if opts.Durable {
		fsync = "on"
	}
	serverOpts := strings.Join([]string{
		"-p " + strconv.Itoa(c.Port),
		"-c listen_addresses=127.0.0.1",
		"-c unix_socket_directories=''",
		"-c fsync=" + fsync,
		"-c synchronous_commit=" + fsync,
		"-c full_page_writes=" + fsync,
		"-c max_connections=200",
	}, " ")
	if out, err := c.run("pg_ctl", "-D", c.dataDir(), "-l", filepath.Join(c.Dir, "postgres.log"),
		"-w", "-t", "60", "-o", serverOpts, "start"); err != nil {
		return nil, fmt.Errorf("start postgres (log: %s): %w: %s", filepath.Join(c.Dir, "postgres.log"), err, out)
	}
	return c, nil
}

// Stop shuts the cluster down (fast mode: open sessions are rolled back).
func (c *Cluster) Stop() error {
	if !c.running() {
		return nil
	}
	if out, err := c.run("pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("stop postgres: %w: %s", err, out)
	}
	return nil
}

// URL returns a connection URL for user/password to database.
func (c *Cluster) URL(usr, password, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(usr, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// SuperuserURL returns the `postgres` superuser's URL for database.
func (c *Cluster) SuperuserURL(database string) string {
	return c.URL("postgres", c.Password, database)
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "pgdata") }

func (c *Cluster) running() bool {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "postmaster.pid")); err != nil {
		return false
	}
	_, err := c.run("pg_ctl", "-D", c.dataDir(), "status")
	return err == nil
}

func (c *Cluster) loadOrInit() error {
	metaPath := filepath.Join(c.Dir, "cluster.json")
	if b, err := os.ReadFile(metaPath); err == nil { // #nosec G304 -- our own file
		var m meta
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("read %s: %w", metaPath, err)
		}
		c.Port, c.Password = m.Port, m.Password
		if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
			return nil
		}
	}
	// A fresh cluster: a new superuser password, a new data directory.
	if err := os.RemoveAll(c.dataDir()); err != nil {
		return fmt.Errorf("clear %s: %w", c.dataDir(), err)
	}
	c.Password = randomToken()
	pwfile := filepath.Join(c.Dir, "initdb.pw")
	if err := os.WriteFile(pwfile, []byte(c.Password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", pwfile, err)
	}
	defer os.Remove(pwfile)
	if c.runAs != nil {
		if err := os.Chown(pwfile, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
			return fmt.Errorf("chown %s: %w", pwfile, err)
		}
	}
	if out, err := c.run("initdb", "-D", c.dataDir(), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
		"--auth=scram-sha-256", "--pwfile="+pwfile); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.Port = port
	return c.saveMeta()
}

func (c *Cluster) saveMeta() error {
	b, err := json.Marshal(meta{Port: c.Port, Password: c.Password})
	if err != nil {
		return err
	}
	path := filepath.Join(c.Dir, "cluster.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// run executes one of the server binaries, as the postgres user when root.
func (c *Cluster) run(name string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(c.bin, name), args...) // #nosec G204 -- fixed binaries, our own arguments
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "PGPASSWORD=")
	if c.runAs != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs}
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// FindBinaries returns the directory holding initdb and pg_ctl.
func FindBinaries() (string, error) {
	return findBinaries(exec.LookPath, "/usr/lib/postgresql")
}

func findBinaries(lookPath func(string) (string, error), libDir string) (string, error) {
	if p, err := lookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dir := filepath.Dir(real)
			if fileExists(filepath.Join(dir, "initdb")) {
				return dir, nil
			}
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(libDir, "*", "bin"))
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if fileExists(filepath.Join(d, "pg_ctl")) && fileExists(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// postgresCredential returns the credential to run the server under: the
// `postgres` user when we are root, nil otherwise.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, but there is no `postgres` user to run the server as (initdb refuses root): %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepareDir creates dir (0700) and hands it to the server's user.
func prepareDir(dir string, cred *syscall.Credential) error {
	// Parents stay traversable (0755) so the server's user can reach dir.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil { // #nosec G301 -- see above
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("chown %s: %w", dir, err)
		}
	}
	return nil
}

// reachable reports whether the server's user can write in dir (every parent
// must let it through).
func reachable(dir string, cred *syscall.Credential) bool {
	cmd := exec.Command("/bin/sh", "-c", `test -w "$1" && test -x "$1"`, "sh", dir)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return cmd.Run() == nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func portFree(port int) bool {
	if port <= 0 {
		return false
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WaitReady waits until the server accepts TCP connections on its port.
func (c *Cluster) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)), time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres on port %d not ready: %w", c.Port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
