package schema_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/dbtest"
)

var update = flag.Bool("update", false, "rewrite the golden RLS snapshots in schema/rls/")

// claims builds request.jwt.claims as the API does (DECISIONS §3).
func claims(kind, userType string, id uuid.UUID, schoolIDs []int64, principals ...string) string {
	ps := append([]string{"system:everyone", "system:authenticated"}, principals...)
	if kind == "user" {
		ps = append(ps, "user:"+id.String())
	}
	admin := false
	for _, p := range ps {
		admin = admin || p == "role:admin"
	}
	if schoolIDs == nil {
		schoolIDs = []int64{}
	}
	b, _ := json.Marshal(map[string]any{"kind": kind, "user_type": userType, "id": id, "principals": ps,
		"school_ids": schoolIDs, "child_ids": []string{}, "is_admin": admin})
	return string(b)
}

// For schools, each account kind sees exactly the rows access.md §8 allows
// (with F2, F4, F18 fixed) and writes only where it may.
func TestSchoolsRowSecurity(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super := d.SuperPool(t)
	var a, b int64
	if err := super.QueryRow(ctx, `INSERT INTO schools (name, state) VALUES ('A', 'ACTIVE') RETURNING id`).Scan(&a); err != nil {
		t.Fatal(err)
	}
	if err := super.QueryRow(ctx, `INSERT INTO schools (name, state) VALUES ('B', 'ACTIVE') RETURNING id`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	sA, sB := fmt.Sprint(a), fmt.Sprint(b)
	callers := map[string]string{
		"no claims":      "",
		"anonymous":      `{"kind":"anonymous","principals":["system:everyone"]}`,
		"authenticating": `{"kind":"authenticating","principals":["system:everyone","system:authenticated","role:admin"],"is_admin":true}`,
		"admin":          claims("user", "wriveted", id, nil, "role:admin"),
		"backend":        claims("service_account", "backend", id, nil, "role:admin"),
		"schooladmin A":  claims("user", "school_admin", id, []int64{a}, "role:educator", "educator:"+sA, "schooladmin:"+sA),
		"educator A":     claims("user", "educator", id, []int64{a}, "role:educator", "educator:"+sA),
		"student A":      claims("user", "student", id, []int64{a}, "role:reader", "role:student", "student:"+sA),
		"lms linked B":   claims("service_account", "lms", id, []int64{b}, "role:lms", "school:"+sB),
		"school sa B":    claims("service_account", "school", id, []int64{b}, "role:school", "role:library", "school:"+sB),
		"kiosk":          claims("service_account", "kiosk", id, nil, "role:kiosk"),
		"public reader":  claims("user", "public", id, nil, "role:reader"),
	}
	type want struct {
		visible          int
		updates          []int64 // schools an UPDATE of every row reaches
		deletes, inserts bool
	}
	wants := map[string]want{
		"no claims":      {0, nil, false, false},
		"anonymous":      {0, nil, false, false},
		"authenticating": {0, nil, false, false},
		"admin":          {2, []int64{a, b}, true, true},
		"backend":        {2, []int64{a, b}, true, true},
		"schooladmin A":  {2, []int64{a}, false, true},
		"educator A":     {2, nil, false, true},
		"student A":      {2, nil, false, true},
		"lms linked B":   {2, []int64{b}, false, false}, // F4: no school creation
		"school sa B":    {2, []int64{b}, false, true},
		"kiosk":          {2, nil, false, true},
		"public reader":  {2, nil, false, true},
	}
	api := d.Pool(t, dbtest.RoleAPI)
	for name, c := range callers {
		t.Run(name, func(t *testing.T) {
			w := wants[name]
			tx := dbtest.Tx(t, api)
			if c == "" {
				if _, err := tx.Exec(ctx, `SELECT set_config('role', 'huey_app', true)`); err != nil {
					t.Fatal(err)
				}
			} else {
				dbtest.As(t, tx, c)
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schools`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != w.visible {
				t.Errorf("sees %d schools, want %d", n, w.visible)
			}
			rows, err := tx.Query(ctx, `UPDATE schools SET lms_type = 'probe' RETURNING id`)
			if err != nil {
				t.Fatal(err)
			}
			updated, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(updated) != fmt.Sprint(sortedOrNil(w.updates, updated)) || len(updated) != len(w.updates) {
				t.Errorf("updated %v, want %v", updated, w.updates)
			}
			// Writes that must fail are tried in savepoints so the test goes on.
			try := func(sql string) bool {
				if _, err := tx.Exec(ctx, "SAVEPOINT probe"); err != nil {
					t.Fatal(err)
				}
				tag, err := tx.Exec(ctx, sql)
				ok := err == nil && tag.RowsAffected() > 0
				if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT probe"); err != nil {
					t.Fatal(err)
				}
				return ok
			}
			if got := try(`INSERT INTO schools (name, state) VALUES ('new', 'INACTIVE')`); got != w.inserts {
				t.Errorf("insert an inactive school: %v, want %v", got, w.inserts)
			}
			if try(`INSERT INTO schools (name, state) VALUES ('new', 'ACTIVE')`) != (name == "admin" || name == "backend") {
				t.Errorf("insert an active school: only admins may")
			}
			// F4 / issue 16: only admins change a school's state, even where row
			// security lets the caller update the row (huey.guard_school_state).
			if try(`UPDATE schools SET state = 'INACTIVE'`) != (name == "admin" || name == "backend") {
				t.Errorf("change a school's state: only admins may")
			}
			if got := try(`DELETE FROM schools WHERE id = ` + sA); got != w.deletes {
				t.Errorf("delete: %v, want %v (F18)", got, w.deletes)
			}
		})
	}
}

func sortedOrNil(want, got []int64) []int64 {
	if len(want) == 0 && len(got) == 0 {
		return got
	}
	set := map[int64]bool{}
	for _, w := range want {
		set[w] = true
	}
	out := []int64{}
	for _, g := range got {
		if set[g] {
			out = append(out, g)
		}
	}
	return out
}

// The golden snapshot of what Postgres enforces, one file per table under
// schema/rls/: RLS flags, policies and grants. A change to access shows as a
// diff of those files; `go test ./schema -run TestRLSSnapshot -update` rewrites them.
func TestRLSSnapshot(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	rows, err := d.SuperPool(t).Query(ctx, `
		SELECT c.relname, 'rls ' || c.relrowsecurity || ', forced ' || c.relforcerowsecurity
		FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace
		UNION ALL
		SELECT tablename, 'policy ' || policyname || ' ' || cmd || ' to ' || array_to_string(roles, ', ')
		       || coalesce(E'\n    using ' || qual, '') || coalesce(E'\n    check ' || with_check, '')
		FROM pg_policies WHERE schemaname = 'public'
		UNION ALL
		SELECT table_name, 'grant ' || grantee || ': ' || string_agg(privilege_type, ', ' ORDER BY privilege_type)
		FROM information_schema.role_table_grants
		WHERE table_schema = 'public' AND grantee LIKE 'huey\_%' AND grantee <> 'huey_owner'
		GROUP BY table_name, grantee
		UNION ALL
		SELECT c.relname, 'column grant ' || a.attname || ': ' || array_to_string(a.attacl, ', ')
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace AND a.attacl IS NOT NULL
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*strings.Builder{}
	for rows.Next() {
		var table, line string
		if err := rows.Scan(&table, &line); err != nil {
			t.Fatal(err)
		}
		if files[table] == nil {
			files[table] = &strings.Builder{}
			fmt.Fprintf(files[table], "-- What Postgres enforces on %s (generated by TestRLSSnapshot; do not edit).\n", table)
		}
		fmt.Fprintf(files[table], "%s\n", line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for table, b := range files {
		path := filepath.Join("rls", table+".sql")
		if *update {
			if err := os.MkdirAll("rls", 0o755); err != nil { // #nosec G301 -- source tree
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil { // #nosec G306 -- source tree
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path) // #nosec G304 -- our own files
		if err != nil || string(got) != b.String() {
			t.Errorf("%s is out of date with the migrations: run `go test ./schema -run TestRLSSnapshot -update` and review the diff", path)
		}
	}
	if !*update {
		entries, _ := os.ReadDir("rls")
		for _, e := range entries {
			if files[strings.TrimSuffix(e.Name(), ".sql")] == nil {
				t.Errorf("rls/%s describes a table that no longer exists", e.Name())
			}
		}
	}
}
