package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
)

// Taking over a database the original service created (issue 13). The
// original's schema is our baseline file (migration 001) with a few
// differences of its own; `server migrate -baseline 001` checks first that the
// database really is the original at its last Alembic revision, then, in one
// transaction, replaces the original's functions, triggers and views with
// ours, reconciles the reference rows, records the baseline and applies every
// later migration. Either all of it commits or nothing does.

// AlembicHead is the original's Alembic revision this project takes over.
const AlembicHead = "3252097e86db"

// Found is what a read-only look at a database finds.
type Found struct {
	Revisions      int      // our migration revisions recorded
	Tables         int      // tables in schema public
	HasAlembic     bool     // the original's alembic_version table
	AlembicVersion string   // its version_num ("" when none)
	MissingTables  []string // tables of the original (our baseline) that are absent
	HasHueySchema  bool     // our helper schema exists
}

// Original reports whether the database looks like an untaken-over original
// at AlembicHead.
func (f Found) Original() bool {
	return f.Revisions == 0 && f.HasAlembic && f.AlembicVersion == AlembicHead && len(f.MissingTables) == 0 && !f.HasHueySchema
}

// Inspect looks at db without changing anything.
func Inspect(ctx context.Context, db *sql.DB, dir migrate.Dir) (Found, error) {
	var f Found
	var hasRevs bool
	err := db.QueryRowContext(ctx, `SELECT
  (SELECT count(*) FROM pg_tables WHERE schemaname = 'public'),
  to_regclass('public.alembic_version') IS NOT NULL,
  EXISTS (SELECT FROM pg_namespace WHERE nspname = 'huey'),
  to_regclass('atlas_schema_revisions.atlas_schema_revisions') IS NOT NULL`).
		Scan(&f.Tables, &f.HasAlembic, &f.HasHueySchema, &hasRevs)
	if err != nil {
		return f, fmt.Errorf("inspect database: %w", err)
	}
	if hasRevs {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM atlas_schema_revisions.atlas_schema_revisions WHERE version <> $1`,
			cloudIdentifier).Scan(&f.Revisions); err != nil {
			return f, fmt.Errorf("read revisions: %w", err)
		}
	}
	if f.HasAlembic {
		var versions []string
		rows, err := db.QueryContext(ctx, `SELECT version_num FROM public.alembic_version ORDER BY 1`)
		if err != nil {
			return f, fmt.Errorf("read alembic_version: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return f, err
			}
			versions = append(versions, v)
		}
		if err := rows.Err(); err != nil {
			return f, err
		}
		f.AlembicVersion = strings.Join(versions, ",")
	}
	tables, err := baselineTables(dir)
	if err != nil {
		return f, err
	}
	for _, t := range tables {
		var ok bool
		if err := db.QueryRowContext(ctx, `SELECT to_regclass('public.' || quote_ident($1)) IS NOT NULL`, t).Scan(&ok); err != nil {
			return f, err
		}
		if !ok {
			f.MissingTables = append(f.MissingTables, t)
		}
	}
	return f, nil
}

var createTable = regexp.MustCompile(`(?m)^CREATE TABLE public\.([a-z_0-9]+) \(`)

// baselineTables are the tables the baseline file creates: the original's
// tables this service uses.
func baselineTables(dir migrate.Dir) ([]string, error) {
	files, err := dir.Files()
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("read migrations: %v", err)
	}
	var out []string
	for _, m := range createTable.FindAllStringSubmatch(string(files[0].Bytes()), -1) {
		out = append(out, m[1])
	}
	return out, nil
}

// preflight refuses a takeover of anything but an untaken-over original at
// AlembicHead, with one line saying what was found and what to do.
func preflight(ctx context.Context, db *sql.DB, dir migrate.Dir, baseline string) error {
	files, err := dir.Files()
	if err != nil {
		return err
	}
	if baseline != files[0].Version() {
		return fmt.Errorf("-baseline %s: the original's schema is migration %s (%s); take over with -baseline %s",
			baseline, files[0].Version(), files[0].Desc(), files[0].Version())
	}
	f, err := Inspect(ctx, db, dir)
	if err != nil {
		return err
	}
	switch {
	case f.Revisions > 0:
		return fmt.Errorf("refusing -baseline: this database is already managed by huey-api (%d migrations recorded); run `server migrate` without -baseline", f.Revisions)
	case f.HasHueySchema:
		return errors.New("refusing -baseline: the database has a `huey` schema but no migrations recorded (a takeover or release left half-done?); restore the backup taken before the takeover and start again")
	case !f.HasAlembic && f.Tables == 0:
		return errors.New("refusing -baseline: the database is empty, not one the original service created; for a new install run `server migrate` without -baseline")
	case !f.HasAlembic:
		return fmt.Errorf("refusing -baseline: the database has %d tables but no alembic_version table, so it is not the original service's; nothing was changed", f.Tables)
	case f.AlembicVersion != AlembicHead:
		return fmt.Errorf("refusing -baseline: the original is at Alembic revision %q, not %s; upgrade it first with the original service's own migrations (`alembic upgrade head`), then take it over; nothing was changed",
			f.AlembicVersion, AlembicHead)
	case len(f.MissingTables) > 0:
		return fmt.Errorf("refusing -baseline: the original at %s should have these tables, which are missing: %s; nothing was changed",
			AlembicHead, strings.Join(f.MissingTables, ", "))
	}
	// Hue rows: ours keep the original's ids (migration 001); a database whose
	// hues sit on other ids needs a person to look at it.
	rows, err := db.QueryContext(ctx, `SELECT id, key FROM public.hues ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read hues: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return err
		}
		if want, ok := hueSlots[key]; !ok || want != id {
			return fmt.Errorf("refusing -baseline: hue %d has key %q, which is not the original's key for that id; reconcile the hues by hand (README: takeover); nothing was changed", id, key)
		}
	}
	return rows.Err()
}

// hueSlots is the id of every hue key, ours and the original's (whose slot 7
// and 12 keys are accepted aliases of ours: DECISIONS §6).
var hueSlots = map[string]int{
	"hue01_dark_suspense": 1, "hue02_beautiful_whimsical": 2, "hue03_dark_beautiful": 3, "hue05_funny_comic": 4,
	"hue06_dark_gritty": 5, "hue07_silly_charming": 6, "hue08_charming_courageous": 7, "hue08_charming_inspiring": 7,
	"hue09_charming_playful": 8, "hue10_inspiring": 9, "hue11_realistic_hope": 10, "hue12_funny_quirky": 11,
	"hue13_informative": 12, "hue13_straightforward": 12, "hue04_joyful_charming": 13,
}

// reconcileSQL turns the original's functions, triggers, materialized views
// and reference rows into the baseline's. It is cut from the baseline file
// itself (one source of truth): every function is created or replaced, every
// trigger and view dropped and created again, and the hue rows set to the
// baseline's.
func reconcileSQL(dir migrate.Dir) (string, error) {
	files, err := dir.Files()
	if err != nil {
		return "", err
	}
	base := string(files[0].Bytes())
	const from = "CREATE FUNCTION public.update_edition_title() RETURNS trigger"
	const to = "-- ---------------------------------------------------------------------------\n-- Seed data"
	i, j := strings.Index(base, from), strings.Index(base, to)
	if i < 0 || j < i {
		return "", errors.New("the baseline migration lost its functions section")
	}
	body := base[i:j]
	body = strings.ReplaceAll(body, "CREATE FUNCTION ", "CREATE OR REPLACE FUNCTION ")
	body = triggerDef.ReplaceAllString(body, "DROP TRIGGER IF EXISTS $1 ON $3;\nCREATE TRIGGER $1\n$2 ON $3")
	body = viewDef.ReplaceAllString(body, "DROP MATERIALIZED VIEW IF EXISTS $1;\nCREATE MATERIALIZED VIEW $1 AS")
	h := strings.Index(base, "INSERT INTO public.hues (id, key, name, info) VALUES")
	he := strings.Index(base[max(h, 0):], ";")
	if h < 0 || he < 0 {
		return "", errors.New("the baseline migration lost its hue rows")
	}
	hues := base[h:h+he] + `
ON CONFLICT (id) DO UPDATE SET key = excluded.key, name = excluded.name, info = excluded.info;
SELECT setval('public.hues_id_seq', 13, true);
`
	return "-- huey-api takeover: the baseline's functions, triggers and views\n" + body + hues, nil
}

var (
	triggerDef = regexp.MustCompile(`CREATE TRIGGER ([a-z_0-9]+)\n(\s+(?:AFTER|BEFORE)[^\n]*?) ON (public\.[a-z_0-9]+)`)
	viewDef    = regexp.MustCompile(`CREATE MATERIALIZED VIEW (public\.[a-z_0-9]+) AS`)
)

// takeover runs the whole takeover in one transaction: reconcile, record the
// baseline, apply every later file. The deploying login's memberships are
// handled by the caller (withMemberships).
func takeover(ctx context.Context, db *sql.DB, dir migrate.Dir, baseline, legacyRole string, logf func(string, ...any)) ([]string, error) {
	if legacyRole != "" {
		if err := checkLegacyRole(ctx, db, legacyRole); err != nil {
			return nil, fmt.Errorf("-legacy-role: %w; nothing was changed", err)
		}
	}
	reconcile, err := reconcileSQL(dir)
	if err != nil {
		return nil, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	// One takeover or migration at a time (the Atlas CLI's lock name).
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, lockName); err != nil {
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	lacking, err := lackingMemberships(ctx, tx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if _, err := tx.ExecContext(ctx, reconcile); err != nil {
		return nil, fmt.Errorf("takeover: replace the original's functions, triggers and views: %w (nothing was changed)", err)
	}
	logf("replaced the original's functions, triggers, views and hue rows with the baseline's in %s", time.Since(start).Round(time.Millisecond))
	if err := ensureRevisionsTable(ctx, tx); err != nil {
		return nil, err
	}
	drv, err := postgres.Open(tx)
	if err != nil {
		return nil, fmt.Errorf("open atlas driver: %w", err)
	}
	ex, err := migrate.NewExecutor(drv, dir, &revisions{q: tx},
		migrate.WithBaselineVersion(baseline), migrate.WithOperatorVersion(operator))
	if err != nil {
		return nil, err
	}
	pending, err := ex.Pending(ctx) // records the baseline revision, in tx
	if err != nil && !errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil, fmt.Errorf("find pending migrations: %w", err)
	}
	var applied []string
	for _, f := range pending {
		if lf, ok := f.(*migrate.LocalFile); ok && slices.Contains(lf.Directive("txmode"), "none") {
			return nil, fmt.Errorf("takeover: migration %s cannot run inside the takeover's transaction (txmode none); nothing was changed", f.Name())
		}
		start := time.Now()
		if err := ex.Execute(ctx, f); err != nil {
			return nil, fmt.Errorf("takeover: apply migration %s: %w (nothing was changed)", f.Name(), err)
		}
		applied = append(applied, f.Version())
		logf("applied migration %s (%s) in %s", f.Name(), f.Desc(), time.Since(start).Round(time.Millisecond))
	}
	if legacyRole != "" {
		if err := grantLegacy(ctx, tx, dir, legacyRole); err != nil {
			return nil, fmt.Errorf("takeover: %w (nothing was changed)", err)
		}
		logf("the original's login %s keeps reading and writing the original's tables (policies <table>_<command>_legacy); end it with `server migrate drop-legacy-role %s`", legacyRole, legacyRole)
	}
	if err := revokeMemberships(ctx, tx, lacking); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("takeover: commit: %w", err)
	}
	return applied, nil
}

// The roles migration makes the login that runs it a member of huey_owner
// (to hand objects over) and huey_definer (to create the doors), and later
// migrations need the same. Those memberships are for the migration only: a
// login that was not a member before a run is not one after it, so the login
// an original service keeps using (Cloud SQL's owner login, say) gains no
// owner rights or definer policies (issue 13).
var migrationRoles = []string{"huey_owner", "huey_definer"}

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// lackingMemberships lists the migration roles the current login (not a
// superuser, not the role itself) is not a member of, existing or not yet.
func lackingMemberships(ctx context.Context, q execQuerier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT r FROM unnest($1::text[]) r
WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
  AND r <> current_user
  AND NOT (EXISTS (SELECT FROM pg_roles WHERE rolname = r) AND pg_has_role(current_user, r, 'MEMBER'))`, migrationRoles)
	if err != nil {
		return nil, fmt.Errorf("check the migrating login's roles: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// grantMemberships makes the login a member of those of roles that exist.
func grantMemberships(ctx context.Context, q execQuerier, roles []string) error {
	for _, r := range roles {
		if _, err := q.ExecContext(ctx, fmt.Sprintf(`DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = %[1]s) THEN EXECUTE format('GRANT %%I TO %%I', %[1]s, current_user); END IF;
END $$`, quoteLiteral(r))); err != nil {
			return fmt.Errorf("grant %s to the migrating login for this run (it needs CREATEROLE): %w", r, err)
		}
	}
	return nil
}

// revokeMemberships ends the login's membership of roles (granted for this
// run only).
func revokeMemberships(ctx context.Context, q execQuerier, roles []string) error {
	for _, r := range roles {
		if _, err := q.ExecContext(ctx, fmt.Sprintf(`DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
             WHERE g.rolname = %[1]s AND u.rolname = current_user) THEN
    EXECUTE format('REVOKE %%I FROM %%I', %[1]s, current_user);
  END IF;
END $$`, quoteLiteral(r))); err != nil {
			return fmt.Errorf("revoke %s from the migrating login: %w", r, err)
		}
	}
	return nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
