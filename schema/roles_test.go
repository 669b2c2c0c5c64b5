package schema_test

import (
	"context"
	"testing"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// Every table in public has row-level security enabled AND forced. The test
// reads the catalog, so a new table without RLS fails it.
func TestEveryTableEnablesAndForcesRLS(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	rows, err := d.SuperPool(t).Query(context.Background(), `
		SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
		FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		var enabled, forced bool
		if err := rows.Scan(&name, &enabled, &forced); err != nil {
			t.Fatal(err)
		}
		n++
		if !enabled || !forced {
			t.Errorf("table %s: row level security enabled=%v forced=%v, want both", name, enabled, forced)
		}
	}
	if n < 38 {
		t.Fatalf("found %d tables in public, want the 38 of the baseline at least", n)
	}
}

// The login roles can never bypass RLS, the API login owns nothing and can
// only become huey_app, and huey_owner owns every object of ours.
func TestRolesAreScoped(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	pool := d.SuperPool(t)
	type role struct {
		name                          string
		super, bypass, inherit, login bool
	}
	want := map[string]role{
		"huey_owner": {"huey_owner", false, false, true, true},
		"huey_api":   {"huey_api", false, false, false, true},
		"huey_app":   {"huey_app", false, false, true, false},
		// the staff logins reach a job role's rows only in a transaction that
		// takes it (migration 019)
		"huey_staff_ro":               {"huey_staff_ro", false, false, false, true},
		"huey_staff_rw":               {"huey_staff_rw", false, false, false, true},
		"huey_job_onboard_school":     {"huey_job_onboard_school", false, false, true, false},
		"huey_job_import_collection":  {"huey_job_import_collection", false, false, true, false},
		"huey_job_export_collection":  {"huey_job_export_collection", false, false, true, false},
		"huey_job_deactivate_account": {"huey_job_deactivate_account", false, false, true, false},
	}
	for name, w := range want {
		var got role
		got.name = name
		err := pool.QueryRow(ctx, `SELECT rolsuper, rolbypassrls, rolinherit, rolcanlogin FROM pg_roles WHERE rolname = $1`, name).
			Scan(&got.super, &got.bypass, &got.inherit, &got.login)
		if err != nil {
			t.Fatalf("role %s: %v", name, err)
		}
		if got != w {
			t.Errorf("role %s = %+v, want %+v", name, got, w)
		}
	}
	var memberships []string
	if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(r.rolname ORDER BY r.rolname), '{}') FROM pg_auth_members m
		JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'huey_api'`).
		Scan(&memberships); err != nil {
		t.Fatal(err)
	}
	if len(memberships) != 1 || memberships[0] != "huey_app" {
		t.Errorf("huey_api is a member of %v, want only huey_app", memberships)
	}
	var notOwned []string
	if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(c.relname::text ORDER BY 1), '{}') FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','p','m','S','v')
		AND pg_get_userbyid(c.relowner) <> 'huey_owner'`).Scan(&notOwned); err != nil {
		t.Fatal(err)
	}
	if len(notOwned) > 0 {
		t.Errorf("objects not owned by huey_owner: %v", notOwned)
	}
	var apiOwns int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relowner = 'huey_api'::regrole`).Scan(&apiOwns); err != nil || apiOwns != 0 {
		t.Errorf("huey_api owns %d relations (%v), want none", apiOwns, err)
	}
	var publicGrants int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.role_table_grants
		WHERE table_schema = 'public' AND grantee = 'PUBLIC'`).Scan(&publicGrants); err != nil || publicGrants != 0 {
		t.Errorf("%d table privileges granted to PUBLIC (%v), want none", publicGrants, err)
	}
}

// With no claims, the API role sees the public reference rows and nothing else;
// its writes to tables without policies fail.
func TestAPIRoleFailsClosed(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	if _, err := d.SuperPool(t).Exec(ctx, `
		INSERT INTO schools (name, state) VALUES ('Hidden School', 'ACTIVE');
		INSERT INTO users (id, name, type, is_active, created_at, updated_at)
		VALUES (gen_random_uuid(), 'Hidden User', 'PUBLIC', true, now(), now())`); err != nil {
		t.Fatal(err)
	}
	tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
	if _, err := tx.Exec(ctx, `SELECT set_config('role', 'huey_app', true)`); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, table := range []string{"schools", "users", "countries", "hues", "reading_abilities"} {
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	want := map[string]int{"schools": 0, "users": 0, "countries": 249, "hues": 13, "reading_abilities": 5}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("huey_app without claims sees %d rows of %s, want %d", counts[k], k, v)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schools (name, state) VALUES ('Sneaky', 'ACTIVE')`); err == nil {
		t.Error("huey_app inserted a school with no policy allowing it")
	}
}

// Without set_config('role'), the API login itself (NOINHERIT) can read nothing.
func TestAPILoginHasNoPrivilegesOfItsOwn(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	var n int
	err := d.Pool(t, dbtest.RoleAPI).QueryRow(context.Background(), `SELECT count(*) FROM countries`).Scan(&n)
	if err == nil {
		t.Fatalf("huey_api read countries without becoming huey_app (%d rows)", n)
	}
}

func TestReferenceDataIsSeeded(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	pool := d.SuperPool(t)
	var hues []string
	if err := pool.QueryRow(ctx, `SELECT array_agg(key ORDER BY key) FROM hues`).Scan(&hues); err != nil {
		t.Fatal(err)
	}
	want := []string{"hue01_dark_suspense", "hue02_beautiful_whimsical", "hue03_dark_beautiful",
		"hue04_joyful_charming", "hue05_funny_comic", "hue06_dark_gritty", "hue07_silly_charming",
		"hue08_charming_courageous", "hue09_charming_playful", "hue10_inspiring", "hue11_realistic_hope",
		"hue12_funny_quirky", "hue13_informative"}
	if len(hues) != len(want) {
		t.Fatalf("hues = %v, want the 13 HueKeys", hues)
	}
	for i := range want {
		if hues[i] != want[i] {
			t.Errorf("hue %d = %s, want %s", i, hues[i], want[i])
		}
	}
	var abilities []string
	if err := pool.QueryRow(ctx, `SELECT array_agg(key ORDER BY id) FROM reading_abilities`).Scan(&abilities); err != nil {
		t.Fatal(err)
	}
	if len(abilities) != 5 || abilities[0] != "SPOT" || abilities[4] != "HARRY_POTTER" {
		t.Errorf("reading abilities = %v", abilities)
	}
	var nzl string
	if err := pool.QueryRow(ctx, `SELECT name FROM countries WHERE id = 'NZL'`).Scan(&nzl); err != nil || nzl != "New Zealand" {
		t.Errorf("NZL = %q, %v", nzl, err)
	}
}

// The title triggers carry behaviour (domain.md §11.1), with the original's
// missing-join defect fixed: an edition takes its own work's title.
func TestEditionTitleTriggers(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	pool := d.SuperPool(t)
	_, err := pool.Exec(ctx, `
		INSERT INTO works (id, type, title) VALUES (1, 'BOOK', 'First'), (2, 'BOOK', 'Second');
		INSERT INTO editions (work_id, isbn) VALUES (1, '9780000000001'), (2, '9780000000002');
		INSERT INTO editions (work_id, isbn, edition_title) VALUES (1, '9780000000003', 'Own Title');
		UPDATE works SET title = 'First Renamed' WHERE id = 1`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	rows, _ := pool.Query(ctx, `SELECT isbn, title FROM editions`)
	for rows.Next() {
		var isbn, title string
		_ = rows.Scan(&isbn, &title)
		got[isbn] = title
	}
	want := map[string]string{"9780000000001": "First Renamed", "9780000000002": "Second", "9780000000003": "Own Title"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("edition %s title = %q, want %q", k, got[k], v)
		}
	}
}
