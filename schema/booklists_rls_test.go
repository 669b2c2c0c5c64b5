package schema_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// R8 (issue 12) in the database too: a school's educators and linked
// accounts cannot change or delete an admin's Huey, Regional or Other list
// that carries their school's id, nor its items; their School lists stay
// theirs.
func TestHardening_R8_BooklistRowSecurity(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	ctx := context.Background()
	super := d.SuperPool(t)
	var school, work int64
	if err := super.QueryRow(ctx, `INSERT INTO schools (name, state) VALUES ('A', 'ACTIVE') RETURNING id`).Scan(&school); err != nil {
		t.Fatal(err)
	}
	if err := super.QueryRow(ctx, `INSERT INTO works (type, title) VALUES ('BOOK', 'W') RETURNING id`).Scan(&work); err != nil {
		t.Fatal(err)
	}
	lists := map[string]uuid.UUID{}
	for _, typ := range []string{"HUEY", "REGION", "OTHER_LIST", "SCHOOL"} {
		id := uuid.New()
		lists[typ] = id
		if _, err := super.Exec(ctx, `INSERT INTO book_lists (id, name, type, sharing, school_id)
			VALUES ($1, $2::text, $2::text::enum_book_list_type, 'RESTRICTED', $3)`, id, typ, school); err != nil {
			t.Fatal(err)
		}
		if _, err := super.Exec(ctx, `INSERT INTO book_list_works (booklist_id, work_id, order_id) VALUES ($1, $2, 0)`, id, work); err != nil {
			t.Fatal(err)
		}
	}
	s := fmt.Sprint(school)
	for name, cl := range map[string]string{
		"educator":     claims("user", "educator", uuid.New(), []int64{school}, "role:educator", "educator:"+s),
		"school admin": claims("user", "school_admin", uuid.New(), []int64{school}, "role:educator", "educator:"+s, "schooladmin:"+s),
		"lms":          claims("service_account", "lms", uuid.New(), []int64{school}, "role:lms", "school:"+s),
	} {
		for typ, id := range lists {
			want := int64(0)
			if typ == "SCHOOL" {
				want = 1
			}
			for _, q := range []string{
				`UPDATE book_list_works SET order_id = 0 WHERE booklist_id = $1`,
				`UPDATE book_lists SET name = 'Announcement' WHERE id = $1`,
				`DELETE FROM book_list_works WHERE booklist_id = $1`,
				`DELETE FROM book_lists WHERE id = $1`,
			} {
				tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
				dbtest.As(t, tx, cl)
				tag, err := tx.Exec(ctx, q, id)
				if err != nil {
					t.Fatalf("%s on %s: %s: %v", name, typ, q, err)
				}
				if tag.RowsAffected() != want {
					t.Errorf("%s on a %s list: %s affected %d rows, want %d", name, typ, q, tag.RowsAffected(), want)
				}
				_ = tx.Rollback(ctx)
			}
		}
	}
}
