// Package staff is the plumbing every staff script shares: the command's
// flags and exit (one clear line on stderr, exit status 1), who is acting
// (STAFF_ACTOR, else the OS user), the login and the job role its
// transactions run as, dry runs (the same transaction, rolled back), the
// audit event of every write, and the progress bar.
//
// A staff script logs in as a staff login (huey_staff_rw, or huey_staff_ro
// for reads) and each of its transactions runs as its job role — the NOLOGIN
// role of migration 019 that reaches only what the job needs — with claims
// {"kind":"staff","principals":["staff:<script>", …]}. Row-level security
// binds it like any other caller.
package staff

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/db"
)

// The staff logins (DECISIONS §2) and the job roles (migration 019).
const (
	LoginRO = "huey_staff_ro"
	LoginRW = "huey_staff_rw"

	RoleOnboardSchool     = "huey_job_onboard_school"
	RoleImportCollection  = "huey_job_import_collection"
	RoleExportCollection  = "huey_job_export_collection"
	RoleDeactivateAccount = "huey_job_deactivate_account"
)

// RunFunc is a script's body: args without the program name, the
// environment, and where output goes.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Main runs a script: interrupted by SIGINT/SIGTERM through ctx, and on an
// error prints one line, "<name>: <message>", and exits 1.
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", Message(err))
		os.Exit(1)
	}
}

// Message is err as one line: a database error is its message (and detail),
// without the driver's decoration.
func Message(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.Code == "42501" {
			msg = "refused by the database: " + msg
		}
		return strings.ReplaceAll(msg, "\n", " ")
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// Flags is a script's flag set with -dry-run; parse with Parse.
type Flags struct {
	*flag.FlagSet
	DryRun *bool
}

// NewFlags returns the flag set of script name, writing usage to stderr.
func NewFlags(name string, stderr io.Writer) *Flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &Flags{FlagSet: fs,
		DryRun: fs.Bool("dry-run", false, "do everything in a transaction that is rolled back, and report what would change")}
}

// Parse parses args; positional arguments are refused.
func (f *Flags) Parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see -h)", f.Arg(0))
	}
	return nil
}

// Actor is who runs the script, recorded in its audit events: STAFF_ACTOR,
// else the OS user.
func Actor(getenv func(string) string) (string, error) {
	if a := strings.TrimSpace(getenv("STAFF_ACTOR")); a != "" {
		return a, nil
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username, nil
	}
	if a := getenv("USER"); a != "" {
		return a, nil
	}
	return "", errors.New("cannot tell who is acting: set STAFF_ACTOR")
}

// Job is one script's identity in the database.
type Job struct {
	Script string // e.g. "onboard-school"
	Login  string // the staff login it connects as (LoginRW or LoginRO)
	Role   string // the job role its transactions run as
}

// Session is a script's connection.
type Session struct {
	Job
	Pool   *pgxpool.Pool
	Actor  string
	DryRun bool
}

// Open connects script job as its login (db.StaffURL: STAFF_DATABASE_URL,
// STAFF_RO_DATABASE_URL for the read-only login, or DATABASE_URL with the
// user replaced).
func Open(ctx context.Context, getenv func(string) string, job Job, dryRun bool) (*Session, error) {
	actor, err := Actor(getenv)
	if err != nil {
		return nil, err
	}
	dsn, err := db.StaffURL(getenv, job.Login)
	if err != nil {
		return nil, err
	}
	pool, err := db.Open(ctx, dsn, "huey-"+job.Script)
	if err != nil {
		return nil, err
	}
	return &Session{Job: job, Pool: pool, Actor: actor, DryRun: dryRun}, nil
}

// Close closes the pool.
func (s *Session) Close() { s.Pool.Close() }

// Claims are the claims of the job's transactions: kind staff, the job role,
// principal staff:<script>, and any extra principals (e.g. the
// staff-school:<uuid> an import is scoped to).
func (s *Session) Claims(extra ...string) db.Claims {
	return db.Claims{Kind: "staff", Role: s.Role, Principals: append([]string{"staff:" + s.Script}, extra...)}
}

// ErrDryRun rolls back a dry run's transaction; Write returns nil for it.
var ErrDryRun = errors.New("dry run")

// Write runs fn in one transaction with claims and commits it, or rolls it
// back on a dry run (fn runs in full either way). Nothing is half-written:
// any error rolls everything back.
func (s *Session) Write(ctx context.Context, claims db.Claims, fn func(tx *db.Tx) error) error {
	err := db.InTx(ctx, s.Pool, claims, func(tx *db.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.DryRun {
			return ErrDryRun
		}
		return nil
	})
	if errors.Is(err, ErrDryRun) {
		return nil
	}
	return err
}

// Audit records the script's event in tx: "Staff: <script>", with the
// actor, the login, a description and counts (info), for the school when
// schoolID is set. Admins read it in GET /v1/events.
func (s *Session) Audit(ctx context.Context, tx *db.Tx, description string, schoolID *int64, info map[string]any) error {
	return Audit(ctx, tx, s.Script, s.Actor, description, schoolID, info)
}

// Audit records a staff event in tx through huey.staff_record_event (for
// scripts whose transactions run as the login itself: import-books,
// get-auth-token -create-admin).
func Audit(ctx context.Context, tx *db.Tx, script, actor, description string, schoolID *int64, info map[string]any) error {
	if info == nil {
		info = map[string]any{}
	}
	if _, err := tx.Exec(ctx, `SELECT huey.staff_record_event($1, $2, $3, $4, $5)`,
		script, actor, description, schoolID, info); err != nil {
		return fmt.Errorf("record the audit event: %w", err)
	}
	return nil
}
