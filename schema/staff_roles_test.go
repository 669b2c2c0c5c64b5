package schema_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// staffReads is every table each staff role may SELECT (migration 018;
// schema/README.md "Staff roles"). A grant added without updating this list
// and the README fails TestHardening_StaffRolesReachOnlyWhatTheirJobsNeed.
var staffReads = []string{
	"author_work_association", "authors", "book_list_works", "book_lists", "class_groups",
	"collection_items", "collections", "countries", "editions", "hues", "illustrator_edition_association",
	"illustrators", "labelset_hue_association", "labelset_reading_ability_association", "labelsets",
	"products", "reading_abilities", "schools", "series", "series_works_association", "works",
}

// Issue 12 (staff roles read every user's e-mail, every event and every task
// payload): neither staff role reads accounts, events, task payloads, reading
// activity or subscriptions any more; get-auth-token finds its one account
// through the two doors, which answer that account and nothing else.
func TestHardening_StaffRolesReachOnlyWhatTheirJobsNeed(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super := d.SuperPool(t)
	for _, q := range []string{
		`INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
		 VALUES ('11111111-1111-1111-1111-111111111111', true, 'ana@example.org', 'Ana', '{}', now(), now(), 'WRIVETED')`,
		`INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
		 VALUES ('22222222-2222-2222-2222-222222222222', false, 'bo@example.org', 'Bo', '{}', now(), now(), 'WRIVETED')`,
		`INSERT INTO events (id, title, level, info, "timestamp") VALUES (gen_random_uuid(), 'secret', 'NORMAL', '{"email": "x@example.org"}', now())`,
	} {
		if _, err := super.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, role := range []string{dbtest.RoleStaffRO, dbtest.RoleStaffRW} {
		pool := d.Pool(t, role)
		// every table the role may read, from the catalog
		var got []string
		rows, err := pool.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
			  AND has_table_privilege(current_user, c.oid, 'SELECT') ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != "alembic_version" && n != "huey_schema_revisions" && !strings.HasPrefix(n, "search_view") &&
				n != "work_collection_frequency" && n != "atlas_schema_revisions" {
				got = append(got, n)
			}
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		for _, n := range got {
			if !slices.Contains(staffReads, n) {
				t.Errorf("%s may read %s, which no staff job needs (update migration, README and staffReads together)", role, n)
			}
		}
		for _, table := range []string{"users", "events", "task_queue", "service_accounts", "students",
			"wriveted_admins", "collection_item_activity_log", "subscriptions", "supporter_reader_association"} {
			tx := dbtest.Tx(t, pool)
			_, err := tx.Exec(ctx, `SELECT count(*) FROM public.`+table)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" {
				t.Errorf("%s reading %s: %v, want permission denied", role, table, err)
			}
			_ = tx.Rollback(ctx)
		}
		// the doors: one account by e-mail or id, and nothing for a pattern
		var id uuid.UUID
		var active bool
		if err := pool.QueryRow(ctx, `SELECT id, is_active FROM huey.staff_find_user('bo@example.org')`).Scan(&id, &active); err != nil ||
			id.String() != "22222222-2222-2222-2222-222222222222" || active {
			t.Errorf("%s: staff_find_user = %s %v %v", role, id, active, err)
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM huey.staff_find_user('%')`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: staff_find_user('%%') found %d (%v)", role, n, err)
		}
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM huey.staff_find_service_account('2c092595-76e8-4ba9-9340-37b7237d6b59')`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: staff_find_service_account found %d (%v)", role, n, err)
		}
	}
	// the API's own role cannot call the staff doors
	tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
	dbtest.As(t, tx, claims("user", "student", uuid.New(), nil))
	if _, err := tx.Exec(ctx, `SELECT * FROM huey.staff_find_user('ana@example.org')`); err == nil {
		t.Error("huey_app called huey.staff_find_user")
	}
}

// jobReach is everything each staff job role (migration 019) may touch:
// table privileges ("table:PRIV", "table(column):PRIV" for column grants),
// sequences ("seq:USAGE") and functions ("fn:signature"). schema/README.md
// "Staff roles" lists the same; a grant added to a job role without updating
// both fails TestStaffJobRolesReachOnlyTheirJob.
var jobReach = map[string][]string{
	"huey_job_onboard_school": {
		"fn:huey.staff_onboard_school(text,text,text,jsonb,text,text,boolean)",
		"fn:huey.staff_record_event(text,text,text,integer,jsonb)",
	},
	"huey_job_deactivate_account": {
		"fn:huey.staff_deactivate_account(text,uuid)",
		"fn:huey.staff_record_event(text,text,text,integer,jsonb)",
	},
	"huey_job_export_collection": {
		"fn:huey.staff_collection_export(uuid)",
	},
	"huey_job_import_collection": {
		"collection_items:INSERT", "collection_items:SELECT",
		"collection_items(copies_available):UPDATE", "collection_items(copies_total):UPDATE",
		"collection_items(info):UPDATE", "collection_items(updated_at):UPDATE",
		"collections(created_at):INSERT", "collections(id):INSERT", "collections(info):INSERT",
		"collections(name):INSERT", "collections(school_id):INSERT", "collections:SELECT",
		"collections(updated_at):INSERT", "collections(updated_at):UPDATE",
		"editions:SELECT",
		"seq:collection_items_id_seq:USAGE",
		"fn:huey.claims()", "fn:huey.ensure_bare_editions(text[])", "fn:huey.jsonb_merge_deep(jsonb,jsonb)",
		"fn:huey.kind()", "fn:huey.school_attrs(uuid)", "fn:huey.staff_queue_hydration(text[])",
		"fn:huey.staff_record_event(text,text,text,integer,jsonb)", "fn:huey.staff_school()", "fn:huey.utcnow()",
	},
}

// reach lists what role may touch, from the catalog, in jobReach's terms.
func reach(t *testing.T, ctx context.Context, pool interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, role string) []string {
	t.Helper()
	rows, err := pool.Query(ctx, `
SELECT c.relname || ':' || p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
  unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND has_table_privilege($1, c.oid, p)
UNION ALL
SELECT c.relname || '(' || a.attname || '):' || p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped,
  unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT has_table_privilege($1, c.oid, p)
  AND has_column_privilege($1, c.oid, a.attnum, p)
UNION ALL
SELECT 'seq:' || c.relname || ':USAGE' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege($1, c.oid, 'USAGE') ELSE false END
UNION ALL
SELECT 'fn:' || regexp_replace(p.oid::regprocedure::text, ', ', ',', 'g') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname IN ('huey', 'public') AND has_function_privilege($1, p.oid, 'EXECUTE')
ORDER BY 1`, role)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Issue 17: each staff job role reaches exactly what schema/README.md lists
// for it, and nothing else; the doors refuse callers whose claims are not a
// staff script's; the staff logins get none of it without taking the role.
func TestStaffJobRolesReachOnlyTheirJob(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super := d.SuperPool(t)
	for role, want := range jobReach {
		got := reach(t, ctx, super, role)
		want = slices.Sorted(slices.Values(want))
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Errorf("%s reaches %s, which its job does not need (update migration, README and jobReach together)", role, g)
			}
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s lacks %s", role, w)
			}
		}
	}
	// What the logins themselves write: huey_staff_ro nothing; huey_staff_rw
	// the catalogue (import-books) and new Wriveted admins (get-auth-token
	// -create-admin), no school, collection, booklist or event (migration 020).
	catalogue := []string{"author_work_association", "authors", "editions", "illustrator_edition_association",
		"illustrators", "labelset_hue_association", "labelset_reading_ability_association", "labelsets",
		"series", "series_works_association", "works"}
	for _, login := range []string{dbtest.RoleStaffRO, dbtest.RoleStaffRW} {
		for _, g := range reach(t, ctx, super, login) {
			table, priv, ok := strings.Cut(g, ":")
			if !ok || priv == "SELECT" || strings.HasPrefix(g, "fn:") || strings.HasPrefix(g, "seq:") {
				continue
			}
			allowed := login == dbtest.RoleStaffRW && (slices.Contains(catalogue, table) ||
				(priv == "INSERT" && (table == "users" || table == "wriveted_admins")))
			if !allowed {
				t.Errorf("%s may %s %s, which no script of its own needs", login, priv, table)
			}
		}
	}
	// The logins are NOINHERIT: logging in gives no job role's reach.
	for _, login := range []string{dbtest.RoleStaffRO, dbtest.RoleStaffRW} {
		for _, g := range reach(t, ctx, super, login) {
			if strings.Contains(g, "staff_onboard_school") || strings.Contains(g, "staff_deactivate_account") ||
				strings.Contains(g, "staff_collection_export") || strings.Contains(g, "staff_queue_hydration") {
				t.Errorf("the login %s reaches %s without taking a job role", login, g)
			}
		}
	}
	// The doors refuse non-staff claims, even to a role that may call them.
	pool := d.Pool(t, dbtest.RoleStaffRW)
	for role, q := range map[string]string{
		"huey_job_onboard_school":     `SELECT * FROM huey.staff_onboard_school('AUS', '1', 'X', NULL, NULL, NULL, false)`,
		"huey_job_deactivate_account": `SELECT * FROM huey.staff_deactivate_account('a@b.c', NULL)`,
		"huey_job_export_collection":  `SELECT * FROM huey.staff_collection_export(gen_random_uuid())`,
		"huey_job_import_collection":  `SELECT huey.staff_record_event('x', 'y', 'z', NULL, '{}')`,
	} {
		tx := dbtest.Tx(t, pool)
		if _, err := tx.Exec(ctx, `SELECT set_config('role', $1, true),
			set_config('request.jwt.claims', '{"kind":"user","id":"00000000-0000-4000-8000-000000000001","principals":["role:admin"]}', true)`, role); err != nil {
			t.Fatal(err)
		}
		var pe *pgconn.PgError
		if _, err := tx.Exec(ctx, q); !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("%s with a user's claims: %v, want 42501", role, err)
		}
		_ = tx.Rollback(ctx)
	}
	// The API's role cannot call them at all.
	tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
	dbtest.As(t, tx, `{"kind":"staff","principals":["staff:x"]}`)
	if _, err := tx.Exec(ctx, `SELECT huey.staff_record_event('x', 'y', 'z', NULL, '{}')`); err == nil {
		t.Error("huey_app called huey.staff_record_event")
	}
}
