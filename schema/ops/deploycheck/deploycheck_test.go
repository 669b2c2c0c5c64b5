package deploycheck

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadEnvFile(t *testing.T) {
	t.Parallel()
	want := map[string]string{"APP_ENV": "production", "PORT": "8080", "CORS_ORIGINS": "https://a.example, https://b.example", "EMPTY": ""}
	for name, text := range map[string]string{
		"yaml":   "# gcloud --env-vars-file\nAPP_ENV: production\nPORT: \"8080\"\nCORS_ORIGINS: https://a.example, https://b.example\nEMPTY: \"\"\n",
		"dotenv": "# comment\nexport APP_ENV=production\nPORT=8080\n\nCORS_ORIGINS='https://a.example, https://b.example'\nEMPTY=\n",
	} {
		got, err := ReadEnvFile(write(t, name, text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	for name, text := range map[string]string{
		"mixed":    "APP_ENV=production\nPORT: 8080\n",
		"not yaml": "APP_ENV: [production\n",
		"bad name": "\"APP ENV\": production\n",
		"nested":   "APP_ENV:\n  x: y\n",
	} {
		if _, err := ReadEnvFile(write(t, name, text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ReadEnvFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestEnvSourcesAndUnreadNames(t *testing.T) {
	t.Parallel()
	base := write(t, "base.yaml", "APP_ENV: production\nDATABASE_URL: postgres://huey_api@db/huey\nSECRET_KYE: typo\nPORT: \"8080\"\n")
	override := write(t, "override.env", "APP_ENV=development\n")
	process := func(k string) (string, bool) {
		if k == "SECRET_KEY" {
			return "from-process", true
		}
		return "", false
	}
	o, err := ParseFlags("server", []string{"-env", base, "-env", override}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	e, err := LoadEnv(o, process)
	if err != nil {
		t.Fatal(err)
	}
	if e.Getenv("APP_ENV") != "development" || e.FromFile("APP_ENV") != override {
		t.Errorf("a later file overrides an earlier one: %q from %q", e.Getenv("APP_ENV"), e.FromFile("APP_ENV"))
	}
	if e.Getenv("SECRET_KEY") != "" || e.Set("SECRET_KEY") {
		t.Error("with -env alone the process environment must not leak in")
	}
	e.Getenv("DATABASE_URL")
	if got := e.UnreadFileNames(); !cmp.Equal(got, []string{"PORT", "SECRET_KYE"}) {
		t.Errorf("unread %v", got)
	}
	r := &Report{Service: "server"}
	Common(r, e, true)
	Unread(r, e, "API server")
	all := strings.Join(r.Warnings, "\n")
	if !strings.Contains(all, "PORT is set in "+base) || !strings.Contains(all, "SECRET_KYE (from "+base+") is not read") ||
		strings.Contains(all, "PORT (from") {
		t.Errorf("warnings:\n%s", all)
	}

	o, _ = ParseFlags("server", []string{"-env", base, "-from-env"}, io.Discard)
	e, _ = LoadEnv(o, process)
	if e.Getenv("SECRET_KEY") != "from-process" || e.Getenv("APP_ENV") != "production" {
		t.Error("-from-env fills in what the files do not set, and the files win")
	}
	o, _ = ParseFlags("server", nil, io.Discard)
	if e, _ = LoadEnv(o, process); !o.FromEnv || e.Getenv("SECRET_KEY") != "from-process" {
		t.Error("without -env the process environment is checked")
	}
	if _, err := ParseFlags("server", []string{"extra"}, io.Discard); err == nil {
		t.Error("an argument accepted")
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	r := &Report{Service: "tasks"}
	r.AddConfigError(nil)
	var b strings.Builder
	r.Write(&b)
	if r.Err() != nil || b.String() != "tasks: configuration ok (0 warning(s))\n" {
		t.Fatalf("empty report: %v %q", r.Err(), b.String())
	}
	r.AddConfigError(io.ErrUnexpectedEOF)
	r.Warnf("w %d", 1)
	b.Reset()
	r.Write(&b)
	if r.Err() == nil || b.String() != "tasks: error: unexpected EOF\ntasks: warning: w 1\n" {
		t.Fatalf("report: %v %q", r.Err(), b.String())
	}
}
