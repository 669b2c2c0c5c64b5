package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"github.com/jackc/pgx/v5"
)

// Coexistence and the way back (issue 13).
//
// During a cut-over the original service keeps running on its own login
// while this one takes traffic. After the takeover that login owns nothing
// and row security (forced) gives it no rows, so `-legacy-role ROLE` gives
// it back exactly what it had on the original's tables — every row, to read
// and write — through four policies per table named `<table>_<command>_legacy`,
// TO that role only, and the matching grants. `migrate drop-legacy-role
// ROLE` removes them once the original is retired.
//
// `migrate release -owner ROLE` goes back: the original's tables (and their
// sequences, views, functions and types) are handed to ROLE with row
// security off, every policy and every trigger of ours on them removed, the
// columns and indexes our migrations added to them dropped, the hue keys
// the original knows restored, and our own schema (huey, the task queue, the
// revisions) dropped. Every row stays, including those this service wrote.

// legacyCommands are the commands a legacy role keeps; TRUNCATE is not one
// of them (it skips row security) and never was needed by the service.
var legacyCommands = []string{"select", "insert", "update", "delete"}

// addedColumns are the columns our migrations add to the original's tables
// (a test checks the list against a fresh install).
var addedColumns = map[string][]string{
	"collection_items": {"sort_title"},
	"collections":      {"item_count"},
}

// addedIndexes are the indexes our migrations add to the original's tables
// (a test checks the list against a fresh install).
var addedIndexes = []string{
	"ix_collection_item_activity_log_reader_item", "ix_collection_item_activity_log_item_reader_ts",
	"ix_events_user_timestamp", "ix_events_school_timestamp", "ix_collection_items_collection_sort",
	"uq_students_school_lower_username",
}

// ownTables are tables only this service has (not the original's).
var ownTables = []string{"task_queue"}

// originalViews are the original's materialized views.
var originalViews = []string{"search_view_v1", "work_collection_frequency"}

func checkLegacyRole(ctx context.Context, q execQuerier, role string) error {
	if role == "" {
		return errors.New("name the original service's login")
	}
	if strings.HasPrefix(role, "huey_") {
		return fmt.Errorf("%s is one of this service's roles, not the original's login", role)
	}
	rows, err := q.QueryContext(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = $1`, role)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		return fmt.Errorf("there is no role %q in this database cluster", role)
	}
	return rows.Err()
}

// legacyTarget checks role (for command what) and returns the original's
// tables and the role as a quoted identifier.
func legacyTarget(ctx context.Context, q execQuerier, dir migrate.Dir, role, what string) ([]string, string, error) {
	if err := checkLegacyRole(ctx, q, role); err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	tables, err := baselineTables(dir)
	if err != nil {
		return nil, "", err
	}
	return tables, pgx.Identifier{role}.Sanitize(), nil
}

// grantLegacy gives role every row of the original's tables, to read and
// write, as it had before the takeover. Idempotent.
func grantLegacy(ctx context.Context, q execQuerier, dir migrate.Dir, role string) error {
	tables, r, err := legacyTarget(ctx, q, dir, role, "-legacy-role")
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, t := range tables {
		tq := "public." + pgx.Identifier{t}.Sanitize()
		fmt.Fprintf(&b, "GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s;\n", tq, r)
		for _, cmd := range legacyCommands {
			name := pgx.Identifier{t + "_" + cmd + "_legacy"}.Sanitize()
			fmt.Fprintf(&b, "DROP POLICY IF EXISTS %s ON %s;\n", name, tq)
			switch cmd {
			case "select", "delete":
				fmt.Fprintf(&b, "CREATE POLICY %s ON %s FOR %s TO %s USING (true);\n", name, tq, strings.ToUpper(cmd), r)
			case "insert":
				fmt.Fprintf(&b, "CREATE POLICY %s ON %s FOR INSERT TO %s WITH CHECK (true);\n", name, tq, r)
			case "update":
				fmt.Fprintf(&b, "CREATE POLICY %s ON %s FOR UPDATE TO %s USING (true) WITH CHECK (true);\n", name, tq, r)
			}
		}
	}
	for _, v := range originalViews {
		fmt.Fprintf(&b, "GRANT SELECT ON public.%s TO %s;\n", v, r)
	}
	fmt.Fprintf(&b, "GRANT USAGE ON SCHEMA public TO %s;\n", r)
	fmt.Fprintf(&b, "GRANT EXECUTE ON FUNCTION %s TO %s;\n", strings.Join(originalFunctions, ", "), r)
	return execWithSequences(ctx, q, tables, b.String(), "GRANT USAGE, SELECT, UPDATE ON SEQUENCE %s TO "+r, "-legacy-role "+role)
}

// execWithSequences runs script, then seqFormat (a statement with a %s for
// the list) on the sequences of the original's tables.
func execWithSequences(ctx context.Context, q execQuerier, tables []string, script, seqFormat, what string) error {
	if _, err := q.ExecContext(ctx, script); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	seqs, err := originalSequences(ctx, q, tables)
	if err != nil {
		return err
	}
	if len(seqs) == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, fmt.Sprintf(seqFormat, strings.Join(seqs, ", "))); err != nil {
		return fmt.Errorf("%s: sequences: %w", what, err)
	}
	return nil
}

// originalFunctions are the original's functions in public (migration 001).
var originalFunctions = []string{
	"public.update_edition_title()", "public.update_edition_title_from_work()", "public.update_collections_function()",
	"public.encode_uri_component(text)", "public.refresh_search_view_v1_function()",
	"public.refresh_work_collection_frequency_view_function()",
}

// originalSequences are the sequences owned by the original's tables' columns.
func originalSequences(ctx context.Context, q execQuerier, tables []string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.oid::regclass::text FROM pg_class s
JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
JOIN pg_class t ON t.oid = d.refobjid
WHERE s.relkind = 'S' AND t.relnamespace = 'public'::regnamespace AND t.relname = ANY ($1) ORDER BY 1`, tables)
	if err != nil {
		return nil, fmt.Errorf("list sequences: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// dropLegacy removes what grantLegacy gave role.
func dropLegacy(ctx context.Context, q execQuerier, dir migrate.Dir, role string) error {
	tables, r, err := legacyTarget(ctx, q, dir, role, "drop-legacy-role")
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, t := range tables {
		tq := "public." + pgx.Identifier{t}.Sanitize()
		for _, cmd := range legacyCommands {
			fmt.Fprintf(&b, "DROP POLICY IF EXISTS %s ON %s;\n", pgx.Identifier{t + "_" + cmd + "_legacy"}.Sanitize(), tq)
		}
		fmt.Fprintf(&b, "REVOKE ALL ON %s FROM %s;\n", tq, r)
	}
	for _, v := range originalViews {
		fmt.Fprintf(&b, "REVOKE ALL ON public.%s FROM %s;\n", v, r)
	}
	fmt.Fprintf(&b, "REVOKE EXECUTE ON FUNCTION %s FROM %s;\n", strings.Join(originalFunctions, ", "), r)
	return execWithSequences(ctx, q, tables, b.String(), "REVOKE ALL ON SEQUENCE %s FROM "+r, "drop-legacy-role "+role)
}

// GrantLegacyRole gives the original service's login its access back on a
// database this service manages (the same as `-baseline … -legacy-role`).
func GrantLegacyRole(ctx context.Context, db *sql.DB, dir migrate.Dir, role string) error {
	return inManagedTx(ctx, db, dir, func(tx *sql.Tx) error { return grantLegacy(ctx, tx, dir, role) })
}

// DropLegacyRole ends the original service's login's access.
func DropLegacyRole(ctx context.Context, db *sql.DB, dir migrate.Dir, role string) error {
	return inManagedTx(ctx, db, dir, func(tx *sql.Tx) error { return dropLegacy(ctx, tx, dir, role) })
}

// inManagedTx runs fn in one transaction on a database this service
// manages, with the migration roles held for that transaction only.
func inManagedTx(ctx context.Context, db *sql.DB, dir migrate.Dir, fn func(tx *sql.Tx) error) error {
	f, err := Inspect(ctx, db, dir)
	if err != nil {
		return err
	}
	if f.Revisions == 0 {
		return errors.New("this database is not managed by huey-api (no migrations recorded); nothing was changed")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, lockName); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	lacking, err := lackingMemberships(ctx, tx)
	if err != nil {
		return err
	}
	if err := grantMemberships(ctx, tx, lacking); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := revokeMemberships(ctx, tx, lacking); err != nil {
		return err
	}
	return tx.Commit()
}

// Release hands the original's tables back to owner (see above), in one
// transaction. It refuses when tasks are still queued, unless force.
func Release(ctx context.Context, db *sql.DB, dir migrate.Dir, owner string, force bool, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return inManagedTx(ctx, db, dir, func(tx *sql.Tx) error {
		if err := checkLegacyRole(ctx, tx, owner); err != nil {
			return fmt.Errorf("release -owner: %w", err)
		}
		var queued int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM public.task_queue WHERE status IN ('pending', 'running', 'failed', 'dispatched')`).Scan(&queued); err != nil {
			return fmt.Errorf("count queued tasks: %w", err)
		}
		if queued > 0 && !force {
			return fmt.Errorf("refusing to release: %d background tasks are still queued (task_queue); let the task server finish them, or pass -force to drop them; nothing was changed", queued)
		}
		tables, err := baselineTables(dir)
		if err != nil {
			return err
		}
		o := pgx.Identifier{owner}.Sanitize()
		var b strings.Builder
		// policies and our triggers on the original's tables
		rows, err := tx.QueryContext(ctx, `SELECT 'DROP POLICY ' || quote_ident(policyname) || ' ON public.' || quote_ident(tablename) || ';'
FROM pg_policies WHERE schemaname = 'public' AND tablename = ANY ($1)
UNION ALL
SELECT 'DROP TRIGGER ' || quote_ident(t.tgname) || ' ON ' || t.tgrelid::regclass::text || ';'
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND p.pronamespace = 'huey'::regnamespace
  AND c.relnamespace = 'public'::regnamespace AND c.relname = ANY ($1)`, tables)
		if err != nil {
			return fmt.Errorf("list policies and triggers: %w", err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			b.WriteString(s + "\n")
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// the original's triggers our migrations replaced (006: a statement trigger)
		b.WriteString(`DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'update_collections_trigger' AND tgrelid = 'public.collection_items'::regclass) THEN
    CREATE TRIGGER update_collections_trigger AFTER INSERT OR UPDATE ON public.collection_items
      FOR EACH ROW EXECUTE FUNCTION public.update_collections_function();
  END IF;
END $$;
`)
		for _, ix := range addedIndexes {
			fmt.Fprintf(&b, "DROP INDEX IF EXISTS public.%s;\n", pgx.Identifier{ix}.Sanitize())
		}
		for t, cols := range addedColumns {
			for _, c := range cols {
				fmt.Fprintf(&b, "ALTER TABLE public.%s DROP COLUMN IF EXISTS %s;\n", pgx.Identifier{t}.Sanitize(), pgx.Identifier{c}.Sanitize())
			}
		}
		for _, t := range tables {
			tq := "public." + pgx.Identifier{t}.Sanitize()
			fmt.Fprintf(&b, "ALTER TABLE %s NO FORCE ROW LEVEL SECURITY;\nALTER TABLE %s DISABLE ROW LEVEL SECURITY;\n", tq, tq)
			fmt.Fprintf(&b, "REVOKE ALL ON %s FROM huey_app, huey_api, huey_staff_ro, huey_staff_rw, huey_definer;\n", tq)
			fmt.Fprintf(&b, "ALTER TABLE %s OWNER TO %s;\n", tq, o)
		}
		for _, v := range originalViews {
			fmt.Fprintf(&b, "REVOKE ALL ON public.%s FROM huey_app, huey_api, huey_staff_ro, huey_staff_rw, huey_definer;\n", v)
			fmt.Fprintf(&b, "ALTER MATERIALIZED VIEW public.%s OWNER TO %s;\n", v, o)
		}
		for _, f := range originalFunctions {
			fmt.Fprintf(&b, "ALTER FUNCTION %s OWNER TO %s;\n", f, o)
		}
		fmt.Fprintf(&b, `DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT t.oid::regtype AS ty FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype = 'e' LOOP
    EXECUTE format('ALTER TYPE %%s OWNER TO %%I', r.ty, %s);
  END LOOP;
END $$;
`, quoteLiteral(owner))
		// the hue keys the original knows (slots 7 and 12); slot 13 goes when unused
		b.WriteString(`UPDATE public.hues SET key = 'hue08_charming_inspiring', name = 'Charming/Inspiring' WHERE id = 7 AND key = 'hue08_charming_courageous';
UPDATE public.hues SET key = 'hue13_straightforward', name = 'Straightforward' WHERE id = 12 AND key = 'hue13_informative';
DELETE FROM public.hues h WHERE h.id = 13 AND NOT EXISTS (SELECT FROM public.labelset_hue_association a WHERE a.hue_id = 13);
`)
		seqs, err := originalSequences(ctx, tx, tables)
		if err != nil {
			return err
		}
		if len(seqs) > 0 {
			fmt.Fprintf(&b, "REVOKE ALL ON SEQUENCE %s FROM huey_app, huey_api, huey_staff_ro, huey_staff_rw, huey_definer;\n", strings.Join(seqs, ", "))
		}
		for _, t := range ownTables {
			fmt.Fprintf(&b, "DROP TABLE IF EXISTS public.%s;\n", pgx.Identifier{t}.Sanitize())
		}
		if _, err := tx.ExecContext(ctx, b.String()); err != nil {
			return fmt.Errorf("release: %w (nothing was changed)", err)
		}
		// Nothing of the original may still depend on our schema.
		var deps []string
		rows, err = tx.QueryContext(ctx, `SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_depend d JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
WHERE p.pronamespace = 'huey'::regnamespace AND d.deptype = 'n'
  AND NOT (d.classid = 'pg_proc'::regclass AND d.objid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'huey'::regnamespace))
ORDER BY 1`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			deps = append(deps, s)
		}
		rows.Close()
		if len(deps) > 0 {
			return fmt.Errorf("release: these still depend on the huey schema: %s (nothing was changed)", strings.Join(deps, "; "))
		}
		if _, err := tx.ExecContext(ctx, `DROP SCHEMA huey CASCADE; DROP SCHEMA atlas_schema_revisions CASCADE;`); err != nil {
			return fmt.Errorf("release: drop our schemas: %w (nothing was changed)", err)
		}
		logf("released %d tables to %s: row security off, our policies, triggers, columns and indexes removed; dropped %d queued tasks", len(tables), owner, queued)
		return nil
	})
}
