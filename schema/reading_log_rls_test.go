package schema_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// R1 (issue 12): process-event records a reading log under the reader's
// claims. Under them, row security lets the reader record its own reading of
// its school's book and nothing else: not another school's book, not another
// reader's reading; the huey.reading_log_item door answers only the reader's
// items.
func TestHardening_R1_ReadingLogRowSecurity(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super := d.SuperPool(t)
	must := func(sql string, args ...any) {
		t.Helper()
		if _, err := super.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	school := func(name string) (id int64, wid uuid.UUID) {
		if err := super.QueryRow(ctx, `INSERT INTO schools (name, state) VALUES ($1, 'ACTIVE') RETURNING id, wriveted_identifier`,
			name).Scan(&id, &wid); err != nil {
			t.Fatal(err)
		}
		return id, wid
	}
	aID, aWID := school("A")
	_, bWID := school("B")
	student := func() uuid.UUID {
		id := uuid.New()
		var cls uuid.UUID
		if err := super.QueryRow(ctx, `INSERT INTO class_groups (school_id, name, join_code) VALUES ($1, $2, $3) RETURNING id`,
			aWID, "Room "+id.String()[:4], id.String()[:6]).Scan(&cls); err != nil {
			t.Fatal(err)
		}
		must(`INSERT INTO users (id, is_active, name, info, created_at, updated_at, type) VALUES ($1, true, 'S', '{}', now(), now(), 'STUDENT')`, id)
		must(`INSERT INTO readers (id, huey_attributes) VALUES ($1, '{}')`, id)
		must(`INSERT INTO students (id, school_id, student_info, class_group_id, username) VALUES ($1, $2, '{}', $3, $4)`,
			id, aID, cls, "u"+id.String()[:8])
		return id
	}
	me, classmate := student(), student()
	item := func(wid uuid.UUID) (id int64) {
		var coll uuid.UUID
		if err := super.QueryRow(ctx, `INSERT INTO collections (school_id, name, info) VALUES ($1, 'Library', '{}') RETURNING id`, wid).Scan(&coll); err != nil {
			t.Fatal(err)
		}
		if err := super.QueryRow(ctx, `INSERT INTO collection_items (collection_id, edition_isbn, copies_available, copies_total, info)
			VALUES ($1, NULL, 1, 1, '{"title": "Shelf book"}') RETURNING id`, coll).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	ours, theirs := item(aWID), item(bWID)
	a := fmt.Sprint(aID)
	cl := claims("user", "student", me, []int64{aID}, "role:reader", "role:student", "student:"+a, "user:"+me.String())

	try := func(reader uuid.UUID, it int64) (titles int, insertErr error) {
		tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
		defer func() { _ = tx.Rollback(ctx) }()
		dbtest.As(t, tx, cl)
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM huey.reading_log_item($1)`, it).Scan(&titles); err != nil {
			t.Fatal(err)
		}
		_, insertErr = tx.Exec(ctx, `INSERT INTO collection_item_activity_log (collection_item_id, reader_id, status, "timestamp")
			VALUES ($1, $2, 'READ', now())`, it, reader)
		return titles, insertErr
	}
	if n, err := try(me, ours); n != 1 || err != nil {
		t.Fatalf("own school's book: %d titles, insert %v; want 1, allowed", n, err)
	}
	if n, err := try(me, theirs); n != 0 || err == nil {
		t.Fatalf("another school's book: %d titles, insert %v; want 0, refused", n, err)
	}
	if _, err := try(classmate, ours); err == nil {
		t.Fatal("a student recorded a classmate's reading")
	}
}
