// Package fbemu runs the Firebase Auth emulator for tests. It is test
// support only: production code must not import it.
//
// Start starts the emulator (npm package firebase-tools, pinned in
// scripts/firebase-emulator, installed by `make firebase-emulator-deps`) or
// joins the one already running, the way schema/dbtest shares its Postgres
// cluster: a start lock serializes start-up, every process using the
// emulator holds a shared lock on a users file, and Release stops the
// emulator when the caller is the last user out. One emulator therefore
// serves every test process of a `go test ./...` run; it costs 10–28 s to
// start. An emulator that a previous process left running on the port is
// reused.
//
// The emulator runs with the demo project ID demo-huey, so it never calls
// real Google services. Its tokens are unsigned; the Admin SDK accepts them
// only when FIREBASE_AUTH_EMULATOR_HOST (see Host) is set when the
// auth.Client is built.
//
// When the emulator cannot be started the error says what to do; callers
// fail the test, they never skip.
package fbemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wriveted/huey-api/schema/pglocal"
)

const (
	// projectID is the emulator's project; "demo-" keeps it offline.
	projectID = "demo-huey"
	// dirInRepo holds package.json, firebase.json and node_modules.
	dirInRepo = "scripts/firebase-emulator"
	// startTimeout bounds the wait for the port (start-up takes 10–28 s).
	startTimeout = 90 * time.Second
	// depsHint is the fix for a missing installation.
	depsHint = "run `make firebase-emulator-deps` (needs Node.js ≥ 20 and npm)"
)

// Emulator is a running Firebase Auth emulator shared by the test processes.
type Emulator struct {
	host    string // 127.0.0.1:19099
	hc      *http.Client
	lockDir string
	release func() // leaves the shared emulator (pglocal.JoinShared)
}

// Host is the value for FIREBASE_AUTH_EMULATOR_HOST.
func (e *Emulator) Host() string { return e.host }

// ProjectID is the emulator's project ID, the audience of its tokens.
func (e *Emulator) ProjectID() string { return projectID }

// ForTest starts or joins the emulator for t and releases it at t's
// cleanup; it fails t (never skips) when the emulator cannot be started.
func ForTest(t testing.TB) *Emulator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout+30*time.Second)
	defer cancel()
	e, err := Start(ctx)
	if err != nil {
		t.Fatalf("fbemu: %v", err)
	}
	t.Cleanup(e.Release)
	return e
}

// Start starts the emulator unless another process already did, waits until
// it answers, and registers the caller as a user of it. Call Release when
// done (ForTest does it at cleanup).
func Start(ctx context.Context) (*Emulator, error) {
	root, err := pglocal.ModuleRoot()
	if err != nil {
		return nil, err
	}
	return start(ctx, filepath.Join(root, filepath.FromSlash(dirInRepo)))
}

// start runs the emulator installed in dir (firebase.json, node_modules).
func start(ctx context.Context, dir string) (*Emulator, error) {
	host, err := configuredHost(filepath.Join(dir, "firebase.json"))
	if err != nil {
		return nil, err
	}
	// The port is machine-wide, so the locks are too (not per checkout).
	lockDir := filepath.Join(os.TempDir(), "huey-fbemu-"+strings.ReplaceAll(host, ":", "-"))
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		return nil, err
	}
	e := &Emulator{host: host, hc: &http.Client{Timeout: 30 * time.Second}, lockDir: lockDir}

	e.release, err = pglocal.JoinShared(lockDir, func() error {
		if e.ready(ctx) {
			return nil
		}
		return e.launch(ctx, dir)
	}, func() error { e.stop(); return nil })
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Release unregisters the caller and stops the emulator if it was the last
// user and the emulator was started by this package. Safe to call twice.
func (e *Emulator) Release() { e.release() }

// launch starts the emulator as its own process group, so it outlives this
// process when others still use it, and waits until the port answers.
func (e *Emulator) launch(ctx context.Context, dir string) error {
	if c, err := net.DialTimeout("tcp", e.host, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("%s is in use by something that is not the Firebase Auth emulator", e.host)
	}
	bin := filepath.Join(dir, "node_modules", ".bin", "firebase")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("firebase-tools is not installed in %s: %s", dir, depsHint)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("node is not on PATH: %s", depsHint)
	}
	logPath := filepath.Join(e.lockDir, "emulator.log")
	logf, err := os.Create(logPath) // #nosec G304 -- our own log file
	if err != nil {
		return err
	}
	defer logf.Close()
	// The package's own binary, as `npx firebase` would run it, without
	// npx's chance of fetching anything from the registry.
	cmd := exec.Command(bin, "emulators:start", "--only", "auth", "--project", projectID) // #nosec G204 -- fixed path
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CI=true") // CI: no message-of-the-day fetch, no update check
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the emulator: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := os.WriteFile(filepath.Join(e.lockDir, "pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return err
	}
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("the emulator exited during start-up (%v); %s; its log %s ends:\n%s", err, depsHint, logPath, tail(logPath))
		case <-deadline.C:
			e.stop()
			return fmt.Errorf("the emulator did not answer on %s within %s; its log %s ends:\n%s", e.host, startTimeout, logPath, tail(logPath))
		case <-ctx.Done():
			e.stop()
			return ctx.Err()
		case <-tick.C:
			if e.ready(ctx) {
				fmt.Fprintf(os.Stderr, "fbemu: Firebase Auth emulator ready on %s after %s\n", e.host, time.Since(began).Round(100*time.Millisecond))
				return nil
			}
		}
	}
}

// stop ends the emulator this package started (its process group), if any,
// and waits for the port to close. The start lock must be held.
func (e *Emulator) stop() {
	pidFile := filepath.Join(e.lockDir, "pid")
	raw, err := os.ReadFile(pidFile) // #nosec G304 -- our own pid file
	if err != nil {
		return // not ours (started by hand, say): leave it running
	}
	defer os.Remove(pidFile)
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 1 {
		return
	}
	// A stale pid file may name a recycled pid: only signal our emulator.
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && !bytes.Contains(cmdline, []byte("emulators:start")) {
		return
	}
	if syscall.Kill(-pid, syscall.SIGTERM) != nil {
		return
	}
	for i := 0; i < 100; i++ { // up to 10 s for a clean shutdown
		if syscall.Kill(-pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// ready reports whether the Auth emulator answers on the port.
func (e *Emulator) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var out struct {
		AuthEmulator struct {
			Ready bool `json:"ready"`
		} `json:"authEmulator"`
	}
	err := e.call(ctx, http.MethodGet, "http://"+e.host+"/", "", nil, &out)
	return err == nil && out.AuthEmulator.Ready
}

// CreateUser signs up an e-mail/password account, sets emailVerified and the
// display name (name "" leaves it unset), and signs in again so the returned
// ID token carries them (claims email, email_verified, name, user_id,
// firebase.sign_in_provider = "password").
func (e *Emulator) CreateUser(ctx context.Context, email, password, name string, emailVerified bool) (idToken, uid string, err error) {
	var up struct {
		LocalID string `json:"localId"`
	}
	if err := e.call(ctx, http.MethodPost, e.api("/v1/accounts:signUp?key=fake-api-key"), "",
		map[string]any{"email": email, "password": password, "returnSecureToken": true}, &up); err != nil {
		return "", "", fmt.Errorf("sign up %s: %w", email, err)
	}
	fields := map[string]any{"emailVerified": emailVerified}
	if name != "" {
		fields["displayName"] = name
	}
	if err := e.UpdateUser(ctx, up.LocalID, fields); err != nil {
		return "", "", err
	}
	return e.SignIn(ctx, email, password)
}

// UpdateUser sets account fields as an administrator (accounts:update), e.g.
// {"emailVerified": true}, {"displayName": …}, {"photoUrl": …},
// {"disableUser": true}. Tokens issued before carry the old values; call
// SignIn for a fresh one.
func (e *Emulator) UpdateUser(ctx context.Context, uid string, fields map[string]any) error {
	body := map[string]any{"localId": uid}
	for k, v := range fields {
		body[k] = v
	}
	if err := e.call(ctx, http.MethodPost, e.api("/v1/projects/"+projectID+"/accounts:update"), "owner", body, nil); err != nil {
		return fmt.Errorf("update account %s: %w", uid, err)
	}
	return nil
}

// SignIn signs in with e-mail and password and returns a fresh ID token.
func (e *Emulator) SignIn(ctx context.Context, email, password string) (idToken, uid string, err error) {
	var in struct {
		IDToken string `json:"idToken"`
		LocalID string `json:"localId"`
	}
	if err := e.call(ctx, http.MethodPost, e.api("/v1/accounts:signInWithPassword?key=fake-api-key"), "",
		map[string]any{"email": email, "password": password, "returnSecureToken": true}, &in); err != nil {
		return "", "", fmt.Errorf("sign in %s: %w", email, err)
	}
	return in.IDToken, in.LocalID, nil
}

// Clear deletes every account of the project. The emulator is shared by the
// test processes of a run, so this also removes other tests' accounts: tests
// that run in parallel should use unique e-mails instead.
func (e *Emulator) Clear(ctx context.Context) error {
	return e.call(ctx, http.MethodDelete, "http://"+e.host+"/emulator/v1/projects/"+projectID+"/accounts", "", nil, nil)
}

func (e *Emulator) api(path string) string {
	return "http://" + e.host + "/identitytoolkit.googleapis.com" + path
}

// call sends a JSON request and decodes a JSON answer into out (if not nil).
func (e *Emulator) call(ctx context.Context, method, url, bearer string, in, out any) error {
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(raw))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// configuredHost reads the auth emulator's host:port from firebase.json.
func configuredHost(path string) (string, error) {
	raw, err := os.ReadFile(path) // #nosec G304 -- the repository's config
	if err != nil {
		return "", fmt.Errorf("read the emulator config: %w", err)
	}
	var cfg struct {
		Emulators struct {
			Auth struct {
				Host string `json:"host"`
				Port int    `json:"port"`
			} `json:"auth"`
		} `json:"emulators"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	a := cfg.Emulators.Auth
	if a.Host == "" || a.Port == 0 {
		return "", fmt.Errorf("%s: emulators.auth.host and .port must be set", path)
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)), nil
}

func tail(path string) string {
	raw, err := os.ReadFile(path) // #nosec G304 -- our own log file
	if err != nil {
		return "(no log)"
	}
	if len(raw) > 2000 {
		raw = raw[len(raw)-2000:]
	}
	return string(raw)
}
