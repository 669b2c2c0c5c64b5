// Package deploycheck validates a deployment's environment before it goes
// live (`server check-config`, `tasks check-config`, `make deploy-check`).
// Each service first loads its configuration with its own loader, so a
// setting the service would refuse is reported exactly as the service words
// it; this package adds what a loader cannot know: deployment rules
// (production without the shared secret, Cloud Run's reserved names, names
// nothing reads) and, with -connect, what the database login really is
// (not a superuser, no BYPASSRLS, owns nothing, migrations applied).
package deploycheck

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/db"
)

// Options are the command-line flags of check-config.
type Options struct {
	Files   []string // -env FILE, repeatable: later files override earlier ones
	FromEnv bool     // -from-env: the process environment fills in what the files do not set
	Connect bool     // -connect: log in with DATABASE_URL and inspect the login
}

// ParseFlags parses check-config's flags; command names the binary
// ("server" or "tasks") in the usage text.
func ParseFlags(command string, args []string, out io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Func("env", "read the environment from `FILE` (gcloud's --env-vars-file YAML, or KEY=VALUE lines); repeatable", func(v string) error {
		o.Files = append(o.Files, v)
		return nil
	})
	fs.BoolVar(&o.FromEnv, "from-env", false, "with -env: take settings the files do not set from this process's environment (secrets); the default without -env")
	fs.BoolVar(&o.Connect, "connect", false, "log in with DATABASE_URL and check the login (not a superuser, no BYPASSRLS, owns nothing) and that the migrations are applied")
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: %s check-config [-env FILE]... [-from-env] [-connect]\n", command)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if len(o.Files) == 0 {
		o.FromEnv = true
	}
	return o, nil
}

// Env is the environment under check. It records which names were read, so
// that a name set in a file that the service never reads (a typo, a setting
// of the other service) can be reported.
type Env struct {
	vals     map[string]string
	fromFile map[string]string // name → file that set it
	process  func(string) (string, bool)
	read     map[string]bool
}

// LoadEnv reads o's files, with lookup (os.LookupEnv in main) behind them
// when o.FromEnv.
func LoadEnv(o Options, lookup func(string) (string, bool)) (*Env, error) {
	e := &Env{vals: map[string]string{}, fromFile: map[string]string{}, read: map[string]bool{}}
	if o.FromEnv {
		e.process = lookup
	}
	for _, f := range o.Files {
		m, err := ReadEnvFile(f)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			e.vals[k], e.fromFile[k] = v, f
		}
	}
	return e, nil
}

// Getenv is the getenv the service's loader reads through.
func (e *Env) Getenv(name string) string {
	e.read[name] = true
	if v, ok := e.vals[name]; ok {
		return v
	}
	if e.process != nil {
		v, _ := e.process(name)
		return v
	}
	return ""
}

// Set reports whether name is set (to anything, even ""), without counting
// it as read.
func (e *Env) Set(name string) bool {
	if _, ok := e.vals[name]; ok {
		return true
	}
	if e.process != nil {
		_, ok := e.process(name)
		return ok
	}
	return false
}

// FromFile says which file set name ("" when none did).
func (e *Env) FromFile(name string) string { return e.fromFile[name] }

// UnreadFileNames are the names the files set that were never read, sorted.
func (e *Env) UnreadFileNames() []string {
	var out []string
	for k := range e.fromFile {
		if !e.read[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

var (
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	dotenvRE  = regexp.MustCompile(`^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
)

// ReadEnvFile reads an environment file: the YAML map gcloud takes with
// --env-vars-file (`NAME: value`), or KEY=VALUE lines (`#` comments, an
// optional `export `, values optionally in single or double quotes, no
// expansion).
func ReadEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the operator names the file
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	dotenv := true
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		g := dotenvRE.FindStringSubmatch(line)
		if g == nil {
			if n == 0 || len(m) == 0 {
				dotenv = false
				break
			}
			return nil, fmt.Errorf("%s:%d: want NAME=value", path, n+1)
		}
		v := g[2]
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		m[g[1]] = v
	}
	if dotenv {
		return m, nil
	}
	var y map[string]string
	if err := yaml.Unmarshal(b, &y); err != nil {
		return nil, fmt.Errorf("%s: neither NAME=value lines nor a YAML map of strings (gcloud --env-vars-file): %w", path, err)
	}
	for k := range y {
		if !envNameRE.MatchString(k) {
			return nil, fmt.Errorf("%s: %q is not an environment variable name", path, k)
		}
	}
	return y, nil
}

// Report collects a check's findings: errors stop a deployment, warnings
// do not.
type Report struct {
	Service          string
	Errors, Warnings []string
}

// Errorf adds an error; Warnf a warning.
func (r *Report) Errorf(format string, a ...any) {
	r.Errors = append(r.Errors, fmt.Sprintf(format, a...))
}

// Warnf adds a warning.
func (r *Report) Warnf(format string, a ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, a...))
}

// AddConfigError adds each line of a loader's joined error as an error.
func (r *Report) AddConfigError(err error) {
	if err == nil {
		return
	}
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			r.Errors = append(r.Errors, l)
		}
	}
}

// Write prints the findings, one a line, and a verdict; Err is non-nil when
// there are errors.
func (r *Report) Write(w io.Writer) {
	for _, e := range r.Errors {
		fmt.Fprintf(w, "%s: error: %s\n", r.Service, e)
	}
	for _, e := range r.Warnings {
		fmt.Fprintf(w, "%s: warning: %s\n", r.Service, e)
	}
	if len(r.Errors) == 0 {
		fmt.Fprintf(w, "%s: configuration ok (%d warning(s))\n", r.Service, len(r.Warnings))
	}
}

// Err summarises the errors (nil when there are none).
func (r *Report) Err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	return fmt.Errorf("%d configuration error(s): not ready to deploy", len(r.Errors))
}

// CloudRunReserved are the names Cloud Run sets itself and refuses in a
// service's environment.
var CloudRunReserved = []string{"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"}

// Common checks the rules both services share. production is APP_ENV as the
// service's loader read it.
func Common(r *Report, e *Env, production bool) {
	for _, n := range CloudRunReserved {
		if f := e.FromFile(n); f != "" {
			r.Warnf("%s is set in %s: Cloud Run sets it itself and refuses it in --env-vars-file (the container port is `gcloud run deploy --port`)", n, f)
		}
	}
	if production {
		if e.Set("INTERNAL_TASK_SECRET") {
			r.Errorf("INTERNAL_TASK_SECRET is set while APP_ENV=production: production authenticates tasks with Google OIDC only; remove the shared secret from the service")
		}
		if e.Set("FIREBASE_AUTH_EMULATOR_HOST") {
			r.Errorf("FIREBASE_AUTH_EMULATOR_HOST is set while APP_ENV=production")
		}
		if e.Set("MIGRATION_DATABASE_URL") {
			r.Errorf("MIGRATION_DATABASE_URL is set in a serving service's environment: the owner's password belongs to the migration job only")
		}
		if e.Set("TEST_DATABASE_URL") {
			r.Warnf("TEST_DATABASE_URL is set: a test setting, read by no service")
		}
	}
	if raw := e.Getenv("DATABASE_URL"); raw != "" {
		if u, err := url.Parse(raw); err == nil && u.User != nil && u.User.Username() != "huey_api" {
			r.Warnf("DATABASE_URL logs in as %q: the services' login is huey_api (DECISIONS.md §2)", u.User.Username())
		}
	}
}

// Unread warns about names the files set that the service never read.
func Unread(r *Report, e *Env, service string) {
	for _, n := range e.UnreadFileNames() {
		if slices.Contains(CloudRunReserved, n) {
			continue
		}
		r.Warnf("%s (from %s) is not read by the %s: a typo, another service's setting, or one that has no effect with these values", n, e.FromFile(n), service)
	}
}

// Login is what -connect found about the DATABASE_URL login.
type Login struct {
	User                                      string
	Superuser, BypassRLS, CreateRole, Inherit bool
	OwnedRelations                            int
	AppMember                                 bool   // member of huey_app, the role requests run as
	Revision                                  string // huey.database_revision(), "" when unreadable
}

// InspectLogin logs in with databaseURL and describes the login; the
// revision is read as GET /v1/version reads it.
func InspectLogin(ctx context.Context, databaseURL string) (Login, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	pool, err := db.Open(ctx, databaseURL, "huey-check-config")
	if err != nil {
		return Login{}, err
	}
	defer pool.Close()
	var l Login
	err = pool.QueryRow(ctx, `
		SELECT r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolinherit,
		       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		         WHERE c.relowner = r.oid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		           AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'),
		       EXISTS (SELECT 1 FROM pg_roles a WHERE a.rolname = 'huey_app' AND pg_has_role(r.oid, a.oid, 'MEMBER'))
		  FROM pg_roles r WHERE r.rolname = current_user`).
		Scan(&l.User, &l.Superuser, &l.BypassRLS, &l.CreateRole, &l.Inherit, &l.OwnedRelations, &l.AppMember)
	if err != nil {
		return l, fmt.Errorf("inspect the login: %w", err)
	}
	if l.AppMember { // else the anonymous request cannot even start
		if rev, err := db.DatabaseRevision(ctx, pool); err == nil && rev != "development" {
			l.Revision = rev
		}
	}
	return l, nil
}

// CheckLogin adds what is wrong with the login to r.
func CheckLogin(ctx context.Context, r *Report, databaseURL string) {
	l, err := InspectLogin(ctx, databaseURL)
	if err != nil {
		r.Errorf("-connect: cannot log in with DATABASE_URL: %v", err)
		return
	}
	if l.Superuser {
		r.Errorf("DATABASE_URL logs in as %s, a superuser: row-level security does not bind superusers; use the huey_api login", l.User)
	}
	if l.BypassRLS {
		r.Errorf("DATABASE_URL logs in as %s, which has BYPASSRLS: row-level security would not bind the service; use the huey_api login", l.User)
	}
	if l.OwnedRelations > 0 {
		r.Errorf("DATABASE_URL logs in as %s, which owns %d table(s) or view(s): owners can turn row security off; the services' login owns nothing (use huey_api, migrate as huey_owner)", l.User, l.OwnedRelations)
	}
	if l.CreateRole {
		r.Warnf("DATABASE_URL logs in as %s, which has CREATEROLE: the services need no role management", l.User)
	}
	if !l.AppMember {
		r.Errorf("DATABASE_URL logs in as %s, which is not a member of huey_app: requests could not switch to the role row security names (run the migrations; use huey_api)", l.User)
	}
	latest, err := schema.Latest(schema.Dir())
	switch {
	case err != nil:
		r.Errorf("read this build's migrations: %v", err)
	case l.Revision == "":
		r.Errorf("the database has no migrations applied (huey.database_revision() unreadable): run `server migrate` (the migration job) before deploying")
	case l.Revision < latest:
		r.Errorf("the database is at migration %s, this build expects %s: run `server migrate` (the migration job) before deploying", l.Revision, latest)
	case l.Revision > latest:
		r.Warnf("the database is at migration %s, newer than this build's %s: an older image against a newer schema", l.Revision, latest)
	}
}
