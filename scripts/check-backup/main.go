// Command check-backup proves a backup can be used: it restores a pg_dump
// into a new scratch database, migrates it to this build's schema, runs the
// row-security and schema checks, reports every table's row count, and drops
// the scratch database.
//
//	CHECK_BACKUP_DATABASE_URL=postgres://postgres:…@scratch-host:5432/postgres \
//	    go run ./scripts/check-backup -file huey-2026-12-05.dump
//
// The dump may be pg_dump's custom format (-Fc, restored with pg_restore) or
// plain SQL (restored with psql); both stop at the first error. The checks:
// every migration of this build applied (pending ones are applied first, so
// an older backup is proven upgradable), every table our roles use has row
// security enabled and forced, no role of ours is a superuser or bypasses row
// security, nothing is granted to PUBLIC (schema.CheckRowSecurity). The report
// (one line per table, then the summary line) goes to stdout; any failed
// check exits 1. -keep leaves the scratch database for inspection; -dry-run
// only reads the archive's table of contents (custom format) and creates
// nothing.
//
// Role: it never connects to the production database and writes nothing there,
// so it records no event. CHECK_BACKUP_DATABASE_URL is a login on a scratch
// server — a superuser, since restoring objects owned by huey_owner and
// creating a database need one — whose cluster has the huey roles (any
// cluster where the migrations ran once). The client binaries (pg_restore,
// psql) come from PATH or /usr/lib/postgresql/*/bin.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the migrator

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/pglocal"
	"github.com/wriveted/huey-api/scripts/internal/staff"
)

func main() { staff.Main("check-backup", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := staff.NewFlags("check-backup", stderr)
	file := fs.String("file", "", "the pg_dump `PATH` (custom format or plain SQL; required)")
	keep := fs.Bool("keep", false, "keep the scratch database (its name is printed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("give the dump with -file PATH")
	}
	custom, err := isCustomFormat(*file)
	if err != nil {
		return err
	}
	if *fs.DryRun {
		if !custom {
			fmt.Fprintf(stdout, "dry run: %s is plain SQL; only a restore can check it; nothing was created\n", *file)
			return nil
		}
		out, err := command(ctx, "pg_restore", nil, "--list", *file)
		if err != nil {
			return fmt.Errorf("%s is not a readable archive: %w", *file, err)
		}
		fmt.Fprintf(stdout, "dry run: %s is a readable archive of %d entries; nothing was created\n", *file, strings.Count(out, "\n"))
		return nil
	}
	raw := getenv("CHECK_BACKUP_DATABASE_URL")
	if raw == "" {
		return errors.New("set CHECK_BACKUP_DATABASE_URL to a superuser login on a scratch server (never production)")
	}
	adminURL, err := db.NormalizeURL("CHECK_BACKUP_DATABASE_URL", raw)
	if err != nil {
		return err
	}
	start := time.Now()
	bar := staff.NewProgress(stderr, "steps")
	defer bar.Finish()
	const steps = 5

	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to the scratch server: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	name := "huey_backup_check_" + randomHex()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create the scratch database: %w", err)
	}
	if *keep {
		fmt.Fprintf(stderr, "scratch database %s is kept\n", name)
	} else {
		defer func() {
			_, _ = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}()
	}
	bar.Update(1, steps)
	scratchURL, password, err := withDatabase(adminURL, name)
	if err != nil {
		return err
	}
	if err := restore(ctx, *file, custom, scratchURL, password); err != nil {
		return fmt.Errorf("restore %s: %w", *file, err)
	}
	sdb, err := sql.Open("pgx", scratchURL+"&password="+url.QueryEscape(password))
	if err != nil {
		return err
	}
	defer sdb.Close()
	views, err := refreshViews(ctx, sdb)
	if err != nil {
		return fmt.Errorf("refresh the materialized views of the restored database: %w", err)
	}
	bar.Update(2, steps)
	applied, err := schema.Migrate(ctx, sdb, schema.Dir(), schema.MigrateOptions{})
	if err != nil {
		return fmt.Errorf("migrate the restored database: %w", err)
	}
	bar.Update(3, steps)
	var problems []string
	status, err := schema.Status(ctx, sdb, schema.Dir())
	if err != nil {
		return err
	}
	for _, st := range status {
		if !st.Applied {
			problems = append(problems, "migration "+st.Version+" is not applied")
		}
	}
	rls, err := schema.CheckRowSecurity(ctx, sdb)
	if err != nil {
		return err
	}
	problems = append(problems, rls...)
	bar.Update(4, steps)
	counts, err := schema.CountRows(ctx, sdb)
	if err != nil {
		return err
	}
	bar.Update(5, steps)
	bar.Finish()

	var total int64
	for _, c := range counts {
		fmt.Fprintf(stdout, "%-40s %d\n", c.Table, c.Rows)
		total += c.Rows
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, "FAILED:", p)
	}
	took := time.Since(start).Round(time.Millisecond)
	if len(problems) > 0 {
		return fmt.Errorf("%s restored (%d tables, %d rows) but %d checks failed (listed above)", *file, len(counts), total, len(problems))
	}
	fmt.Fprintf(stdout, "backup %s is usable: restored and checked in %s; all %d migrations applied (%d of them now); "+
		"%d materialized views refreshed; row security and roles check out; %d tables, %d rows\n",
		*file, took, len(status), len(applied), views, len(counts), total)
	return nil
}

// restore loads the dump into the scratch database, stopping at the first
// error, without the materialized views' data: pg_restore and a plain dump
// refresh them with row_security off, which Postgres refuses because FORCE
// ROW LEVEL SECURITY binds their owner (huey_owner), so a bare pg_restore of
// this database fails. refreshViews fills them afterwards.
func restore(ctx context.Context, file string, custom bool, dbURL, password string) error {
	env := []string{"PGPASSWORD=" + password}
	if custom {
		toc, err := command(ctx, "pg_restore", nil, "--list", file)
		if err != nil {
			return err
		}
		var keep []string
		for _, line := range strings.Split(toc, "\n") {
			if !strings.Contains(line, " MATERIALIZED VIEW DATA ") {
				keep = append(keep, line)
			}
		}
		list, err := os.CreateTemp("", "check-backup-*.list")
		if err != nil {
			return err
		}
		defer os.Remove(list.Name())
		if _, err := list.WriteString(strings.Join(keep, "\n")); err != nil {
			list.Close()
			return err
		}
		if err := list.Close(); err != nil {
			return err
		}
		_, err = command(ctx, "pg_restore", env, "--exit-on-error", "--no-password", "--use-list", list.Name(), "--dbname", dbURL, file)
		return err
	}
	f, err := os.Open(file) // #nosec G304 -- the operator names the file
	if err != nil {
		return err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<30)
		var err error
		for sc.Scan() && err == nil {
			if strings.HasPrefix(sc.Text(), "REFRESH MATERIALIZED VIEW ") {
				continue
			}
			_, err = pw.Write(append(sc.Bytes(), '\n'))
		}
		if err == nil {
			err = sc.Err()
		}
		pw.CloseWithError(err)
	}()
	_, err = commandIn(ctx, pr, "psql", env, "--no-password", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", dbURL)
	return err
}

// refreshViews refreshes every materialized view of public (as their owner,
// under row security) and returns how many.
func refreshViews(ctx context.Context, sdb *sql.DB) (int, error) {
	rows, err := sdb.QueryContext(ctx, `SELECT matviewname FROM pg_matviews WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		return 0, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return 0, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, n := range names {
		if _, err := sdb.ExecContext(ctx, "REFRESH MATERIALIZED VIEW "+pgx.Identifier{"public", n}.Sanitize()); err != nil {
			return 0, fmt.Errorf("%s: %w", n, err)
		}
	}
	return len(names), nil
}

// isCustomFormat reports whether path is a pg_dump archive (custom format,
// "PGDMP" magic) rather than plain SQL.
func isCustomFormat(path string) (bool, error) {
	f, err := os.Open(path) // #nosec G304 -- the operator names the file
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 5)
	n, err := io.ReadFull(bufio.NewReader(f), head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	if n == 0 {
		return false, fmt.Errorf("%s is empty", path)
	}
	return bytes.Equal(head[:n], []byte("PGDMP")), nil
}

// withDatabase is u pointed at database name, without its password (passed
// to the client binaries as PGPASSWORD), and that password.
func withDatabase(u, name string) (string, string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", "", err
	}
	p.Path = "/" + name
	password := ""
	if p.User != nil {
		password, _ = p.User.Password()
		p.User = url.User(p.User.Username())
	}
	q := p.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "prefer")
	}
	p.RawQuery = q.Encode()
	return p.String(), password, nil
}

// command runs a Postgres client binary (from PATH, else beside the server
// binaries) and returns its output; a failure carries its last line.
func command(ctx context.Context, bin string, env []string, args ...string) (string, error) {
	return commandIn(ctx, nil, bin, env, args...)
}

// commandIn is command with stdin.
func commandIn(ctx context.Context, stdin io.Reader, bin string, env []string, args ...string) (string, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		dir, ferr := pglocal.FindBinaries()
		if ferr != nil {
			return "", fmt.Errorf("%s not found: install the PostgreSQL client (apt-get install -y postgresql-client)", bin)
		}
		path = filepath.Join(dir, bin)
	}
	cmd := exec.CommandContext(ctx, path, args...) // #nosec G204 -- fixed binaries, operator's file
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		for _, line := range strings.Split(msg, "\n") { // the first error line is the cause
			if strings.Contains(line, "ERROR:") || strings.Contains(line, "error:") {
				msg = line
				break
			}
		}
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		if msg == "" {
			msg = err.Error()
		}
		return out.String(), fmt.Errorf("%s: %s", bin, msg)
	}
	return out.String(), nil
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
