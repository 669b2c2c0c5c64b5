package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	atlasschema "ariga.io/atlas/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" (MigrateURL)
)

// lockName is the advisory lock the Atlas CLI takes while applying, so this
// binary and the CLI never migrate one database at the same time.
const lockName = "atlas_migrate_execute"

// operator is recorded in every revision row.
const operator = "huey-api (ariga.io/atlas library)"

// MigrateOptions tune Migrate.
type MigrateOptions struct {
	// Baseline marks a database created by the original service as already
	// at this version (the first run only); later files are applied.
	Baseline string
	// LegacyRole, with Baseline, keeps the original service's login able to
	// read and write the original's tables during the cut-over (legacy.go).
	LegacyRole string
	// Log receives one line per applied file; nil discards.
	Log func(format string, args ...any)
}

// Migrate applies every pending migration of dir to db, each file in its own
// transaction (the CLI's default --tx-mode file), and returns the versions it
// applied. An up-to-date database returns (nil, nil).
func Migrate(ctx context.Context, db *sql.DB, dir migrate.Dir, opts MigrateOptions) (_ []string, err error) {
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := migrate.Validate(dir); err != nil {
		return nil, fmt.Errorf("migration directory does not match atlas.sum: %w", err)
	}
	if opts.Baseline != "" { // a takeover: preflight, then one transaction
		if err := preflight(ctx, db, dir, opts.Baseline); err != nil {
			return nil, err
		}
		return takeover(ctx, db, dir, opts.Baseline, opts.LegacyRole, logf)
	}
	if f, err := Inspect(ctx, db, dir); err != nil {
		return nil, err
	} else if f.Revisions == 0 && f.HasAlembic {
		return nil, fmt.Errorf("this is a database of the original service (Alembic %s), not clean: take it over with `server migrate -baseline %s` (README: takeover); nothing was changed",
			f.AlembicVersion, firstVersion(dir))
	}
	lacking, err := lackingMemberships(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := grantMemberships(ctx, db, lacking); err != nil {
		return nil, err
	}
	defer func() {
		if rerr := revokeMemberships(context.WithoutCancel(ctx), db, lacking); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := ensureRevisionsTable(ctx, db); err != nil {
		return nil, err
	}
	drv, err := postgres.Open(db)
	if err != nil {
		return nil, fmt.Errorf("open atlas driver: %w", err)
	}
	unlock, err := drv.(atlasschema.Locker).Lock(ctx, lockName, 2*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	defer func() { _ = unlock() }()

	var exOpts []migrate.ExecutorOption
	if opts.Baseline != "" {
		exOpts = append(exOpts, migrate.WithBaselineVersion(opts.Baseline))
	}
	exOpts = append(exOpts, migrate.WithOperatorVersion(operator))
	ex, err := migrate.NewExecutor(drv, dir, &revisions{q: db}, exOpts...)
	if err != nil {
		return nil, err
	}
	pending, err := ex.Pending(ctx)
	if errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find pending migrations: %w", err)
	}
	var applied []string
	for _, f := range pending {
		start := time.Now()
		if err := applyFile(ctx, db, dir, f); err != nil {
			return applied, err
		}
		applied = append(applied, f.Version())
		logf("applied migration %s (%s) in %s", f.Name(), f.Desc(), time.Since(start).Round(time.Millisecond))
	}
	return applied, nil
}

// applyFile runs one file inside one transaction, revision row included, so
// a failing statement leaves neither a half-applied file nor its revision.
// A file headed `-- atlas:txmode none` runs without a transaction (needed
// for CREATE INDEX CONCURRENTLY).
func applyFile(ctx context.Context, db *sql.DB, dir migrate.Dir, f migrate.File) error {
	if lf, ok := f.(*migrate.LocalFile); ok {
		if modes := lf.Directive("txmode"); len(modes) > 0 && modes[0] == "none" {
			return executeOn(ctx, db, dir, f)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration %s: %w", f.Name(), err)
	}
	if err := executeOn(ctx, tx, dir, f); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration %s: %w", f.Name(), err)
	}
	return nil
}

func executeOn(ctx context.Context, q atlasschema.ExecQuerier, dir migrate.Dir, f migrate.File) error {
	drv, err := postgres.Open(q)
	if err != nil {
		return fmt.Errorf("open atlas driver: %w", err)
	}
	ex, err := migrate.NewExecutor(drv, dir, &revisions{q: q}, migrate.WithOperatorVersion(operator))
	if err != nil {
		return err
	}
	if err := ex.Execute(ctx, f); err != nil {
		return fmt.Errorf("apply migration %s: %w", f.Name(), err)
	}
	return nil
}

// FileStatus is one migration file and whether it has been applied.
type FileStatus struct {
	Version     string
	Description string
	Applied     bool
	Baseline    bool
	ExecutedAt  time.Time
}

// Status lists every file of dir with its state in db. It writes nothing.
func Status(ctx context.Context, db *sql.DB, dir migrate.Dir) ([]FileStatus, error) {
	var hasRevs bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('atlas_schema_revisions.atlas_schema_revisions') IS NOT NULL`).Scan(&hasRevs); err != nil {
		return nil, err
	}
	var revs []*migrate.Revision
	if hasRevs {
		var err error
		if revs, err = (&revisions{q: db}).ReadRevisions(ctx); err != nil {
			return nil, err
		}
	}
	byVersion := make(map[string]*migrate.Revision, len(revs))
	var baseline string
	for _, r := range revs {
		byVersion[r.Version] = r
		if r.Type.Has(migrate.RevisionTypeBaseline) {
			baseline = r.Version
		}
	}
	files, err := dir.Files()
	if err != nil {
		return nil, err
	}
	out := make([]FileStatus, 0, len(files))
	for _, f := range files {
		st := FileStatus{Version: f.Version(), Description: f.Desc()}
		if r, ok := byVersion[f.Version()]; ok {
			st.Applied = r.Type.Has(migrate.RevisionTypeBaseline) || r.Applied == r.Total
			st.Baseline = r.Type.Has(migrate.RevisionTypeBaseline)
			st.ExecutedAt = r.ExecutedAt
		} else if baseline != "" && f.Version() < baseline {
			st.Applied, st.Baseline = true, true
		}
		out = append(out, st)
	}
	return out, nil
}

// Latest returns the newest file version of dir.
func Latest(dir migrate.Dir) (string, error) {
	files, err := dir.Files()
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", errors.New("no migration files")
	}
	return files[len(files)-1].Version(), nil
}

func firstVersion(dir migrate.Dir) string {
	files, err := dir.Files()
	if err != nil || len(files) == 0 {
		return "?"
	}
	return files[0].Version()
}

// MigrateURL is Migrate of this module's migrations (Dir) on the database at
// url, through a connection of its own.
func MigrateURL(ctx context.Context, url string, opts MigrateOptions) ([]string, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return Migrate(ctx, db, Dir(), opts)
}
