package schema

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CheckRowSecurity reports what breaks the row-security invariants in db (one
// line each; none when it holds): a table of public that one of our roles may
// use without RLS enabled and forced, a role of ours that is a superuser or
// bypasses RLS, a table granted to PUBLIC. scripts/check-backup runs it on a
// restored backup; schema/*_test.go prove the same on a migrated database.
func CheckRowSecurity(ctx context.Context, db *sql.DB) ([]string, error) {
	var problems []string
	collect := func(format, q string) error {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			problems = append(problems, fmt.Sprintf(format, name))
		}
		return rows.Err()
	}
	if err := collect("table %s is used by our roles without row-level security enabled and forced", `
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
  AND EXISTS (SELECT FROM pg_roles r WHERE r.rolname LIKE 'huey\_%' AND r.rolname <> 'huey_owner'
              AND has_table_privilege(r.oid, c.oid, 'SELECT, INSERT, UPDATE, DELETE'))
ORDER BY 1`); err != nil {
		return nil, fmt.Errorf("check row security: %w", err)
	}
	if err := collect("role %s is a superuser or bypasses row-level security", `
SELECT rolname FROM pg_roles WHERE rolname LIKE 'huey\_%' AND (rolsuper OR rolbypassrls) ORDER BY 1`); err != nil {
		return nil, fmt.Errorf("check roles: %w", err)
	}
	if err := collect("table %s is granted to PUBLIC", `
SELECT DISTINCT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND a.grantee = 0 ORDER BY 1`); err != nil {
		return nil, fmt.Errorf("check grants: %w", err)
	}
	return problems, nil
}

// TableCount is one table's row count.
type TableCount struct {
	Table string
	Rows  int64
}

// CountRows counts the rows of every table of public, in name order. Run it
// as a login that row security does not filter (a superuser), or the counts
// are what that login may see.
func CountRows(ctx context.Context, db *sql.DB) ([]TableCount, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]TableCount, 0, len(names))
	for _, n := range names {
		var c int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+pgx.Identifier{"public", n}.Sanitize()).Scan(&c); err != nil {
			return nil, fmt.Errorf("count %s: %w", n, err)
		}
		out = append(out, TableCount{Table: n, Rows: c})
	}
	return out, nil
}
