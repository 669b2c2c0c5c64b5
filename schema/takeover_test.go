package schema_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/schema/originaldb"
)

// original builds an original-shaped database (schema/originaldb) and
// returns it with a database/sql handle as its owner login.
func original(t *testing.T) (*dbtest.DB, originaldb.Original, *sql.DB) {
	t.Helper()
	d := dbtest.EmptyDB(t)
	o, err := originaldb.Create(context.Background(), d.SuperuserURL(), d.URL)
	if err != nil {
		t.Fatal(err)
	}
	return d, o, openSQL(t, d.URL(o.Owner, o.Password))
}

// Issue 13: -baseline checks before it changes anything. An empty database,
// an original at another Alembic revision, one missing tables, and a
// database already taken over are refused with one line, and nothing is
// recorded: no revisions table, no huey schema, no roles granted.
func TestTakeover_PreflightRefusesAnythingButTheOriginalAtHead(t *testing.T) {
	ctx := context.Background()
	files, _ := schema.Dir().Files()
	base := files[0].Version()
	untouched := func(t *testing.T, db *sql.DB) {
		t.Helper()
		var revs, huey bool
		if err := db.QueryRow(`SELECT to_regclass('atlas_schema_revisions.atlas_schema_revisions') IS NOT NULL,
			EXISTS (SELECT FROM pg_namespace WHERE nspname = 'huey')`).Scan(&revs, &huey); err != nil {
			t.Fatal(err)
		}
		if revs || huey {
			t.Fatalf("a refused takeover left revisions table %v, huey schema %v", revs, huey)
		}
	}
	t.Run("empty", func(t *testing.T) {
		d := dbtest.EmptyDB(t)
		db := openSQL(t, d.SuperuserURL())
		_, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: base})
		if err == nil || !strings.Contains(err.Error(), "empty") || !strings.Contains(err.Error(), "without -baseline") {
			t.Fatalf("empty database: %v", err)
		}
		untouched(t, db)
	})
	t.Run("older revision", func(t *testing.T) {
		_, _, db := original(t)
		if _, err := db.Exec(`UPDATE alembic_version SET version_num = 'a1b2c3d4e5f6'`); err != nil {
			t.Fatal(err)
		}
		_, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: base})
		if err == nil || !strings.Contains(err.Error(), `"a1b2c3d4e5f6"`) || !strings.Contains(err.Error(), "alembic upgrade head") {
			t.Fatalf("older revision: %v", err)
		}
		untouched(t, db)
	})
	t.Run("missing tables", func(t *testing.T) {
		_, _, db := original(t)
		if _, err := db.Exec(`DROP TABLE book_list_works`); err != nil {
			t.Fatal(err)
		}
		_, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: base})
		if err == nil || !strings.Contains(err.Error(), "book_list_works") {
			t.Fatalf("missing table: %v", err)
		}
		untouched(t, db)
	})
	t.Run("wrong baseline version", func(t *testing.T) {
		_, _, db := original(t)
		_, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: files[1].Version()})
		if err == nil || !strings.Contains(err.Error(), "-baseline "+base) {
			t.Fatalf("wrong version: %v", err)
		}
		untouched(t, db)
	})
	t.Run("status is read-only and says -baseline; plain migrate refuses", func(t *testing.T) {
		_, _, db := original(t)
		st, err := schema.Status(ctx, db, schema.Dir())
		if err != nil || len(st) != len(files) || st[0].Applied {
			t.Fatalf("status: %v %+v", err, st)
		}
		f, err := schema.Inspect(ctx, db, schema.Dir())
		if err != nil || !f.Original() {
			t.Fatalf("inspect: %+v %v", f, err)
		}
		_, err = schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{})
		if err == nil || !strings.Contains(err.Error(), "-baseline "+base) {
			t.Fatalf("plain migrate of an original: %v", err)
		}
		untouched(t, db)
	})
	t.Run("already taken over", func(t *testing.T) {
		_, _, db := original(t)
		if _, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: base}); err != nil {
			t.Fatal(err)
		}
		_, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: base})
		if err == nil || !strings.Contains(err.Error(), "already managed") {
			t.Fatalf("second takeover: %v", err)
		}
		if applied, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{}); err != nil || len(applied) != 0 {
			t.Fatalf("migrate after takeover: %v %v", applied, err)
		}
	})
}

// Issue 13: a taken-over original and a freshly migrated database have the
// same schema — tables, columns, constraints, indexes, functions, triggers,
// views, policies, grants, row security and reference rows — apart from the
// original's out-of-scope tables. The takeover runs as the original's owner
// login (not a superuser, CREATEROLE only), and that login is no member of
// our roles afterwards.
func TestTakeover_YieldsTheSameSchemaAsAFreshInstall(t *testing.T) {
	ctx := context.Background()
	files, _ := schema.Dir().Files()
	d, o, db := original(t)
	fresh := dbtest.NewDB(t)
	want := catalogDump(t, openSQL(t, fresh.SuperuserURL()))
	if len(want) < 1000 {
		t.Fatalf("the catalogue dump has only %d lines", len(want))
	}
	super := openSQL(t, d.SuperuserURL())
	// the control: before the takeover the original differs, in its functions and hues too
	before := lineDiff(want, catalogDump(t, super))
	for _, w := range []string{"update_edition_title", "hue08_charming_inspiring", "search_view_v1"} {
		if !strings.Contains(before, w) {
			t.Fatalf("the dump does not tell the original's %s from ours", w)
		}
	}
	applied, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: files[0].Version()})
	if err != nil {
		t.Fatalf("takeover as the owner login: %v", err)
	}
	if len(applied) != len(files)-1 {
		t.Fatalf("applied %d files, want %d", len(applied), len(files)-1)
	}
	var member bool
	if err := super.QueryRow(`SELECT pg_has_role($1, 'huey_owner', 'MEMBER') OR pg_has_role($1, 'huey_definer', 'MEMBER')`,
		o.Owner).Scan(&member); err != nil || member {
		t.Fatalf("the deploying login is still a member of huey_owner/huey_definer (%v)", err)
	}
	got := catalogDump(t, super)
	if diff := lineDiff(want, got); diff != "" {
		t.Fatalf("taken-over schema differs from a fresh install (- fresh, + taken over):\n%s", diff)
	}
}

// catalogDump describes everything of ours in a database, one sorted line
// per fact. The original's out-of-scope tables and alembic_version are left
// out: the takeover keeps them untouched.
func catalogDump(t *testing.T, db *sql.DB) []string {
	t.Helper()
	const skip = `('alembic_version', 'cms_content', 'conversation_sessions')`
	queries := map[string]string{
		"column": `SELECT c.table_schema || '.' || c.table_name || '.' || c.column_name || ' ' || c.data_type || ' ' ||
			coalesce(c.udt_name, '') || ' null=' || c.is_nullable || ' default=' || coalesce(c.column_default, '')
			FROM information_schema.columns c WHERE c.table_schema IN ('public', 'huey') AND c.table_name NOT IN ` + skip,
		"constraint": `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
			WHERE connamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'huey')) AND conrelid <> 0
			  AND conrelid::regclass::text NOT IN ` + skip,
		"index": `SELECT indexdef FROM pg_indexes WHERE schemaname IN ('public', 'huey') AND tablename NOT IN ` + skip,
		"function": `SELECT p.oid::regprocedure || ' owner=' || pg_get_userbyid(p.proowner) || ' secdef=' || p.prosecdef ||
			' config=' || coalesce(array_to_string(p.proconfig, ','), '') || ' acl=' || coalesce(p.proacl::text, '') || E'\n' ||
			pg_get_functiondef(p.oid)
			FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'huey')) AND p.prokind = 'f'`,
		"trigger": `SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
			AND tgrelid::regclass::text NOT IN ` + skip,
		"matview": `SELECT schemaname || '.' || matviewname || ' owner=' || matviewowner || E'\n' || definition FROM pg_matviews
			WHERE schemaname IN ('public', 'huey')`,
		"policy": `SELECT schemaname || '.' || tablename || ' ' || policyname || ' ' || permissive || ' ' || cmd || ' ' ||
			roles::text || ' using=' || coalesce(qual, '') || ' check=' || coalesce(with_check, '') FROM pg_policies`,
		"table": `SELECT c.oid::regclass || ' kind=' || c.relkind::text || ' owner=' || pg_get_userbyid(c.relowner) ||
			' rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity || ' acl=' || coalesce(c.relacl::text, '')
			FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'huey'))
			  AND c.relkind IN ('r', 'm', 'v', 'S') AND c.relname NOT IN ` + skip + ` AND c.relname NOT LIKE 'cms_content%'
			  AND c.relname NOT LIKE 'alembic_version%'`,
		"type": `SELECT t.typname || ' owner=' || pg_get_userbyid(t.typowner) || ' ' ||
			coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
			FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype = 'e'`,
		"schema": `SELECT nspname || ' owner=' || pg_get_userbyid(nspowner) || ' acl=' || coalesce(nspacl::text, '')
			FROM pg_namespace WHERE nspname IN ('public', 'huey')`,
		"hue":             `SELECT id || ' ' || key || ' ' || name || ' ' || coalesce(info::text, 'NULL') FROM public.hues`,
		"reading_ability": `SELECT id || ' ' || key || ' ' || name FROM public.reading_abilities`,
		"country":         `SELECT id || ' ' || name || ' ' || coalesce(phonecode::text, '') FROM public.countries`,
		"sequence":        `SELECT sequencename || ' ' || coalesce(last_value, 0) FROM pg_sequences WHERE sequencename = 'hues_id_seq'`,
	}
	var out []string
	for kind, q := range queries {
		out = append(out, factLines(t, db, kind, q)...)
	}
	slices.Sort(out)
	return out
}

// factLines runs q (one text column) and returns "kind: value" per row.
func factLines(t *testing.T, db *sql.DB, kind, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, kind+": "+s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// lineDiff lists the lines only in a (-) or only in b (+).
func lineDiff(a, b []string) string {
	var sb strings.Builder
	for _, l := range a {
		if _, ok := slices.BinarySearch(b, l); !ok {
			fmt.Fprintf(&sb, "- %s\n", l)
		}
	}
	for _, l := range b {
		if _, ok := slices.BinarySearch(a, l); !ok {
			fmt.Fprintf(&sb, "+ %s\n", l)
		}
	}
	return sb.String()
}

// Issue 13: after the takeover the original's quirks are gone: an edition
// added under a work gets that work's title (not some other work's, and the
// trigger works under the doors' pinned search_path), and the hue stored on a
// labelset under the original's slot 7 reads as ours.
func TestTakeover_ReconcilesTheOriginalsFunctionsAndHues(t *testing.T) {
	ctx := context.Background()
	files, _ := schema.Dir().Files()
	d, _, db := original(t)
	for _, q := range []string{
		`INSERT INTO works (id, type, title) VALUES (501, 'BOOK', 'Zebra Tales'), (502, 'BOOK', 'Apple Orchard')`,
		`INSERT INTO labelsets (id, work_id) VALUES (77, 501)`,
		`INSERT INTO labelset_hue_association (labelset_id, hue_id, ordinal) VALUES (77, 7, 'PRIMARY')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: files[0].Version()}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, d.SuperuserURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// as a definer door would: a pinned search_path
	if _, err := conn.Exec(ctx, `SET search_path = pg_catalog, pg_temp`); err != nil {
		t.Fatal(err)
	}
	var title string
	if err := conn.QueryRow(ctx, `INSERT INTO public.editions (isbn, work_id) VALUES ('9780000000002', 502) RETURNING id`).Scan(new(int)); err != nil {
		t.Fatalf("insert an edition after the takeover: %v", err)
	}
	if err := conn.QueryRow(ctx, `SELECT title FROM public.editions WHERE isbn = '9780000000002'`).Scan(&title); err != nil || title != "Apple Orchard" {
		t.Fatalf("edition title %q (%v), want its work's title", title, err)
	}
	var key string
	if err := conn.QueryRow(ctx, `SELECT h.key FROM public.labelset_hue_association a JOIN public.hues h ON h.id = a.hue_id
		WHERE a.labelset_id = 77`).Scan(&key); err != nil || key != "hue08_charming_courageous" {
		t.Fatalf("labelset hue %q (%v)", key, err)
	}
}

// originalShape describes the original's tables as the original has them:
// columns, indexes, row security, owners and policies (for comparing a
// released database with an untouched original).
func originalShape(t *testing.T, db *sql.DB, owner string) []string {
	t.Helper()
	var out []string
	for kind, q := range map[string]string{
		"column": `SELECT table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable || ' default=' || coalesce(column_default, '')
			FROM information_schema.columns WHERE table_schema = 'public'`,
		"index": `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'`,
		"table": `SELECT relname || ' rls=' || relrowsecurity || ' force=' || relforcerowsecurity || ' owner=' ||
			replace(pg_get_userbyid(relowner), $1, 'OWNER') FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'm')`,
		"policy":  `SELECT tablename || ' ' || policyname FROM pg_policies`,
		"trigger": `SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal`,
		"hue":     `SELECT id || ' ' || key || ' ' || name FROM public.hues`,
		"schema":  `SELECT nspname FROM pg_namespace WHERE nspname IN ('huey', 'atlas_schema_revisions')`,
	} {
		args := []any{}
		if kind == "table" {
			args = append(args, owner)
		}
		out = append(out, factLines(t, db, kind, q, args...)...)
	}
	slices.Sort(out)
	return out
}

// Issue 13: during the cut-over the original's login (here the deploying
// login too, as on Cloud SQL) reads and writes the original's tables as
// before, through policies named <table>_<command>_legacy TO it alone;
// drop-legacy-role ends that; release hands everything back — owner, row
// security off, no policy, trigger, column or index of ours, the original's
// hue keys, every row (the new service's included) — and the database can be
// taken over again.
func TestTakeover_LegacyRoleCoexistsAndReleaseGivesItBack(t *testing.T) {
	ctx := context.Background()
	files, _ := schema.Dir().Files()
	d, o, db := original(t)
	super := openSQL(t, d.SuperuserURL())
	pristine := originalShape(t, super, o.Owner)
	exec := func(db *sql.DB, q string, args ...any) int64 {
		t.Helper()
		res, err := db.Exec(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		n, _ := res.RowsAffected()
		return n
	}
	exec(db, `INSERT INTO schools (id, name, state) VALUES (1, 'Old School', 'ACTIVE')`)
	exec(db, `INSERT INTO collections (id, name, school_id, info, created_at, updated_at)
		SELECT 'c0000000-0000-0000-0000-000000000001', 'Library', wriveted_identifier, '{}', now(), now() FROM schools WHERE id = 1`)

	if _, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: files[0].Version(), LegacyRole: o.Owner}); err != nil {
		t.Fatalf("takeover with -legacy-role: %v", err)
	}
	// the legacy login reads and writes as before, our triggers included
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM schools`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("legacy login reads %d schools (%v)", n, err)
	}
	if got := exec(db, `UPDATE schools SET name = 'Renamed by the original' WHERE id = 1`); got != 1 {
		t.Fatalf("legacy login updated %d schools", got)
	}
	exec(db, `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info)
		VALUES ('c0000000-0000-0000-0000-000000000001', NULL, 1, 1, '{"title": "Written by the original"}')`)
	exec(db, `INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
		VALUES (gen_random_uuid(), true, 'legacy@example.org', 'Legacy', '{}', now(), now(), 'PUBLIC')`)
	if _, err := db.Exec(`TRUNCATE events`); err == nil {
		t.Fatal("the legacy login may TRUNCATE (it skips row security)")
	}
	var roles string
	if err := super.QueryRow(`SELECT string_agg(DISTINCT roles::text, ',') FROM pg_policies WHERE policyname LIKE '%\_legacy'`).Scan(&roles); err != nil ||
		roles != "{"+o.Owner+"}" {
		t.Fatalf("legacy policies are TO %q (%v), want only the legacy login", roles, err)
	}
	// a row the new service writes (as its own role, under its policies)
	exec(super, `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info)
		VALUES ('c0000000-0000-0000-0000-000000000001', NULL, 2, 2, '{"title": "Written by huey-api"}')`)

	if err := schema.DropLegacyRole(ctx, db, schema.Dir(), o.Owner); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM schools`).Scan(&n); err == nil && n != 0 {
		t.Fatalf("after drop-legacy-role the login still reads %d schools", n)
	}
	if err := super.QueryRow(`SELECT count(*) FROM pg_policies WHERE policyname LIKE '%\_legacy'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d legacy policies left (%v)", n, err)
	}

	exec(super, `INSERT INTO task_queue (kind, payload) VALUES ('send-email', '{}')`)
	if err := schema.Release(ctx, db, schema.Dir(), o.Owner, false, nil); err == nil || !strings.Contains(err.Error(), "queued") {
		t.Fatalf("release with a queued task: %v", err)
	}
	if err := schema.Release(ctx, db, schema.Dir(), o.Owner, true, nil); err != nil {
		t.Fatalf("release: %v", err)
	}
	if diff := lineDiff(pristine, originalShape(t, super, o.Owner)); diff != "" {
		t.Fatalf("released database differs from the original (- original, + released):\n%s", diff)
	}
	if err := db.QueryRow(`SELECT count(*) FROM collection_items`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("the original's login reads %d items after release (%v), want both", n, err)
	}
	var name string
	if err := db.QueryRow(`SELECT name FROM schools WHERE id = 1`).Scan(&name); err != nil || name != "Renamed by the original" {
		t.Fatalf("school %q (%v)", name, err)
	}
	// and it can be taken over again
	if _, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: files[0].Version()}); err != nil {
		t.Fatalf("take over again after a release: %v", err)
	}
}
