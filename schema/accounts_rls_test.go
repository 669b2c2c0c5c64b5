package schema_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// accountsFixture: schools A and B, a class in each, and one account of each
// kind the account policies distinguish.
type accountsFixture struct {
	a, b                                        int64
	aUUID, bUUID, classA, classB                uuid.UUID
	admin, saA, edA, edB, stA, parent, pub, lms uuid.UUID
}

func newAccountsFixture(t *testing.T, d *dbtest.DB) accountsFixture {
	t.Helper()
	ctx := context.Background()
	super := d.SuperPool(t)
	f := accountsFixture{admin: uuid.New(), saA: uuid.New(), edA: uuid.New(), edB: uuid.New(), stA: uuid.New(),
		parent: uuid.New(), pub: uuid.New(), lms: uuid.New()}
	must := func(sql string, args ...any) {
		if _, err := super.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := super.QueryRow(ctx, `INSERT INTO schools (name, state) VALUES ('A', 'ACTIVE') RETURNING id, wriveted_identifier`).Scan(&f.a, &f.aUUID); err != nil {
		t.Fatal(err)
	}
	if err := super.QueryRow(ctx, `INSERT INTO schools (name, state) VALUES ('B', 'ACTIVE') RETURNING id, wriveted_identifier`).Scan(&f.b, &f.bUUID); err != nil {
		t.Fatal(err)
	}
	if err := super.QueryRow(ctx, `INSERT INTO class_groups (school_id, name, join_code) VALUES ($1, 'A1', 'BBBBBB') RETURNING id`, f.aUUID).Scan(&f.classA); err != nil {
		t.Fatal(err)
	}
	if err := super.QueryRow(ctx, `INSERT INTO class_groups (school_id, name, join_code) VALUES ($1, 'B1', 'CCCCCC') RETURNING id`, f.bUUID).Scan(&f.classB); err != nil {
		t.Fatal(err)
	}
	user := func(id uuid.UUID, typ string) {
		must(`INSERT INTO users (id, name, type, is_active, created_at, updated_at) VALUES ($1, $2, $3, true, now(), now())`, id, typ, typ)
	}
	user(f.admin, "WRIVETED")
	must(`INSERT INTO wriveted_admins (id) VALUES ($1)`, f.admin)
	for _, e := range []struct {
		id     uuid.UUID
		school int64
		admin  bool
	}{{f.saA, f.a, true}, {f.edA, f.a, false}, {f.edB, f.b, false}} {
		typ := "EDUCATOR"
		if e.admin {
			typ = "SCHOOL_ADMIN"
		}
		user(e.id, typ)
		must(`INSERT INTO educators (id, school_id) VALUES ($1, $2)`, e.id, e.school)
		if e.admin {
			must(`INSERT INTO school_admins (id) VALUES ($1)`, e.id)
		}
	}
	user(f.parent, "PARENT")
	must(`INSERT INTO parents (id) VALUES ($1)`, f.parent)
	user(f.stA, "STUDENT")
	must(`INSERT INTO readers (id, parent_id) VALUES ($1, $2)`, f.stA, f.parent)
	must(`INSERT INTO students (id, school_id, class_group_id, username) VALUES ($1, $2, $3, 'st')`, f.stA, f.a, f.classA)
	user(f.pub, "PUBLIC")
	must(`INSERT INTO readers (id) VALUES ($1)`, f.pub)
	must(`INSERT INTO public_readers (id) VALUES ($1)`, f.pub)
	must(`INSERT INTO service_accounts (id, name, type, is_active, created_at, updated_at) VALUES ($1, 'lms', 'LMS', true, now(), now())`, f.lms)
	must(`INSERT INTO service_account_school_association (service_account_id, school_id) VALUES ($1, $2)`, f.lms, f.a)
	return f
}

// callers are the claims the API would set for each account of the fixture.
func (f accountsFixture) callers() map[string]string {
	sA, sB := fmt.Sprint(f.a), fmt.Sprint(f.b)
	parentClaims := claims("user", "parent", f.parent, nil, "parent:"+f.stA.String())
	parentClaims = parentClaims[:len(parentClaims)-1] + `,"child_ids":["` + f.stA.String() + `"]}`
	return map[string]string{
		"anonymous":     `{"kind":"anonymous","principals":["system:everyone"]}`,
		"admin":         claims("user", "wriveted", f.admin, nil, "role:admin"),
		"schooladmin A": claims("user", "school_admin", f.saA, []int64{f.a}, "role:educator", "educator:"+sA, "schooladmin:"+sA),
		"educator A":    claims("user", "educator", f.edA, []int64{f.a}, "role:educator", "educator:"+sA),
		"educator B":    claims("user", "educator", f.edB, []int64{f.b}, "role:educator", "educator:"+sB),
		"student A":     claims("user", "student", f.stA, []int64{f.a}, "role:reader", "role:student", "student:"+sA, "child:"+f.parent.String()),
		"parent":        parentClaims,
		"public reader": claims("user", "public", f.pub, nil, "role:reader"),
		"lms A":         claims("service_account", "lms", f.lms, []int64{f.a}, "role:lms", "school:"+sA),
	}
}

// asCaller runs fn in a rolled-back transaction as huey_app with claims.
func asCaller(t *testing.T, d *dbtest.DB, c string, fn func(tx pgx.Tx)) {
	t.Helper()
	tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
	dbtest.As(t, tx, c)
	fn(tx)
}

func count(t *testing.T, tx pgx.Tx, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := tx.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// affects runs a write in a savepoint and reports the rows it changed (0 when refused).
func affects(t *testing.T, tx pgx.Tx, sql string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := tx.Exec(ctx, "SAVEPOINT probe"); err != nil {
		t.Fatal(err)
	}
	tag, err := tx.Exec(ctx, sql, args...)
	if _, rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT probe"); rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		return 0
	}
	return tag.RowsAffected()
}

// Which accounts each kind of caller sees, table by table (access.md §6.1
// with F5/F6/F7 fixed).
func TestAccountsRowSecurity(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	f := newAccountsFixture(t, d)
	type seen struct{ users, readers, students, educators, schoolAdmins, publicReaders, serviceAccounts, links, classes int }
	want := map[string]seen{
		"anonymous":     {},
		"admin":         {7, 2, 1, 3, 1, 1, 2, 1, 2}, // + the background-work account (migration 009)
		"schooladmin A": {3, 1, 1, 2, 1, 0, 0, 0, 1}, // itself, its educator, its student (F7)
		"educator A":    {3, 1, 1, 2, 1, 0, 0, 0, 1}, // its colleagues and students (F7)
		"educator B":    {1, 0, 0, 1, 0, 0, 0, 0, 1},
		"student A":     {2, 1, 1, 0, 0, 0, 0, 0, 1}, // itself and its parent; its school's class (F5)
		"parent":        {2, 1, 1, 0, 0, 0, 0, 0, 0}, // itself and its child
		"public reader": {1, 1, 0, 0, 0, 1, 0, 0, 0},
		"lms A":         {2, 0, 0, 2, 1, 0, 1, 1, 0}, // its linked school's staff; itself
	}
	for who, c := range f.callers() {
		t.Run(who, func(t *testing.T) {
			asCaller(t, d, c, func(tx pgx.Tx) {
				got := seen{
					users: count(t, tx, `SELECT count(*) FROM users`), readers: count(t, tx, `SELECT count(*) FROM readers`),
					students: count(t, tx, `SELECT count(*) FROM students`), educators: count(t, tx, `SELECT count(*) FROM educators`),
					schoolAdmins: count(t, tx, `SELECT count(*) FROM school_admins`), publicReaders: count(t, tx, `SELECT count(*) FROM public_readers`),
					serviceAccounts: count(t, tx, `SELECT count(*) FROM service_accounts`),
					links:           count(t, tx, `SELECT count(*) FROM service_account_school_association`),
					classes:         count(t, tx, `SELECT count(*) FROM class_groups`),
				}
				if got != want[who] {
					t.Errorf("sees %+v, want %+v", got, want[who])
				}
			})
		})
	}
}

// Which account writes each caller may make, with the F1 guard.
func TestAccountWritesAndF1Guard(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	f := newAccountsFixture(t, d)
	c := f.callers()
	cases := []struct {
		who, name, sql string
		args           []any
		rows           int64
	}{
		{"student A", "renames itself", `UPDATE users SET name = 'Sam' WHERE id = $1`, []any{f.stA}, 1},
		{"student A", "F1: changes its own type", `UPDATE users SET type = 'SCHOOL_ADMIN' WHERE id = $1`, []any{f.stA}, 0},
		{"student A", "F1: reactivates itself", `UPDATE users SET is_active = false WHERE id = $1`, []any{f.stA}, 0},
		{"student A", "F1: moves to another class", `UPDATE students SET class_group_id = $2 WHERE id = $1`, []any{f.stA, f.classB}, 0},
		{"student A", "F1: makes itself a school admin", `INSERT INTO school_admins (id) VALUES ($1)`, []any{f.stA}, 0},
		{"student A", "renames another", `UPDATE users SET name = 'x' WHERE id = $1`, []any{f.pub}, 0},
		{"parent", "renames its child", `UPDATE users SET name = 'Kid' WHERE id = $1`, []any{f.stA}, 1},
		{"parent", "F1: moves its child", `UPDATE students SET school_id = $2, class_group_id = $3 WHERE id = $1`, []any{f.stA, f.b, f.classB}, 0},
		{"educator A", "F1: promotes itself", `INSERT INTO school_admins (id) VALUES ($1)`, []any{f.edA}, 0},
		{"educator A", "F1: moves itself", `UPDATE educators SET school_id = $2 WHERE id = $1`, []any{f.edA, f.b}, 0},
		{"schooladmin A", "deactivates its educator", `UPDATE users SET is_active = false WHERE id = $1`, []any{f.edA}, 1},
		{"schooladmin A", "moves its student between its classes", `UPDATE students SET class_group_id = $2 WHERE id = $1`, []any{f.stA, f.classA}, 1},
		{"schooladmin A", "moves its student to school B", `UPDATE students SET school_id = $2, class_group_id = $3 WHERE id = $1`, []any{f.stA, f.b, f.classB}, 0},
		{"schooladmin A", "deactivates B's educator", `UPDATE users SET is_active = false WHERE id = $1`, []any{f.edB}, 0},
		{"schooladmin A", "promotes its educator", `INSERT INTO school_admins (id) VALUES ($1)`, []any{f.edA}, 1},
		{"schooladmin A", "creates an admin user", `INSERT INTO wriveted_admins (id) VALUES ($1)`, []any{f.edA}, 0},
		{"lms A", "updates a user", `UPDATE users SET name = 'x' WHERE id = $1`, []any{f.edA}, 0},
		{"admin", "changes a type", `UPDATE users SET type = 'EDUCATOR' WHERE id = $1`, []any{f.saA}, 1},
		{"anonymous", "renames anyone", `UPDATE users SET name = 'x'`, nil, 0},
		// class groups: staff rename, school admins create and delete (F5: integer ids)
		{"educator A", "renames its class", `UPDATE class_groups SET name = 'A1b' WHERE id = $1`, []any{f.classA}, 1},
		{"educator A", "renames B's class", `UPDATE class_groups SET name = 'x' WHERE id = $1`, []any{f.classB}, 0},
		{"educator A", "creates a class", `INSERT INTO class_groups (school_id, name) VALUES ($1, 'new')`, []any{f.aUUID}, 0},
		{"schooladmin A", "creates a class", `INSERT INTO class_groups (school_id, name) VALUES ($1, 'new')`, []any{f.aUUID}, 1},
		{"schooladmin A", "creates a class in B", `INSERT INTO class_groups (school_id, name) VALUES ($1, 'new')`, []any{f.bUUID}, 0},
		{"schooladmin A", "deletes B's class", `DELETE FROM class_groups WHERE id = $1`, []any{f.classB}, 0},
		{"student A", "renames its class", `UPDATE class_groups SET name = 'x' WHERE id = $1`, []any{f.classA}, 0},
		// service accounts: admins only
		{"lms A", "links itself to school B", `INSERT INTO service_account_school_association VALUES ($1, $2)`, []any{f.lms, f.b}, 0},
		{"lms A", "renames itself", `UPDATE service_accounts SET name = 'x' WHERE id = $1`, []any{f.lms}, 0},
		{"admin", "links it to school B", `INSERT INTO service_account_school_association VALUES ($1, $2)`, []any{f.lms, f.b}, 1},
		// the task queue: enqueue only through huey.enqueue_task; reading it is the admins'
		{"parent", "enqueues", `SELECT huey.enqueue_task('x', '{}', NULL)`, nil, 1},
		{"parent", "writes the queue directly", `INSERT INTO task_queue (kind, enqueued_by_user_id) VALUES ('x', $1)`, []any{f.parent}, 0},
		{"anonymous", "enqueues", `SELECT huey.enqueue_task('x', '{}', NULL)`, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.who+" "+tc.name, func(t *testing.T) {
			asCaller(t, d, c[tc.who], func(tx pgx.Tx) {
				if got := affects(t, tx, tc.sql, tc.args...); got != tc.rows {
					t.Errorf("changed %d rows, want %d", got, tc.rows)
				}
			})
		})
	}
	asCaller(t, d, c["parent"], func(tx pgx.Tx) {
		if n := count(t, tx, `SELECT count(*) FROM task_queue`); n != 0 {
			t.Errorf("a parent reads %d queued tasks", n)
		}
	})
}
