package schema_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
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
