package schema_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/dbtest"
)

// Every change to a row huey.authenticate() derives principals from notifies
// huey_account_changed with the account's id, at commit (migration 013).
func TestAccountChangesAreNotified(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	f := newAccountsFixture(t, d)
	ctx := context.Background()
	// The API login listens: LISTEN needs no privilege.
	listener, err := pgx.Connect(ctx, d.RoleURL(dbtest.RoleAPI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close(context.Background()) })
	if _, err := listener.Exec(ctx, `LISTEN huey_account_changed`); err != nil {
		t.Fatal(err)
	}
	super := d.SuperPool(t)
	// received collects the payloads of the notifications sent so far.
	received := func(t *testing.T) []string {
		t.Helper()
		var got []string
		for {
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			n, err := listener.WaitForNotification(wctx)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				slices.Sort(got)
				return got
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Channel != "huey_account_changed" {
				t.Fatalf("channel %q", n.Channel)
			}
			got = append(got, n.Payload)
		}
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	newParent := uuid.New()
	cases := []struct {
		name, sql string
		want      []string
	}{
		{"users update", `UPDATE users SET is_active = false WHERE id = '` + f.edA.String() + `'`, []string{f.edA.String()}},
		{"users insert", `INSERT INTO users (id, name, type, is_active, created_at, updated_at) VALUES ('` + newParent.String() + `', 'P2', 'PARENT', true, now(), now())`, []string{newParent.String()}},
		{"parents insert", `INSERT INTO parents (id) VALUES ('` + newParent.String() + `')`, []string{newParent.String()}},
		{"readers parent moves", `UPDATE readers SET parent_id = '` + newParent.String() + `' WHERE id = '` + f.stA.String() + `'`,
			sorted(f.stA.String(), f.parent.String(), newParent.String())},
		{"public_readers delete", `DELETE FROM public_readers WHERE id = '` + f.pub.String() + `'`, []string{f.pub.String()}},
		{"students move", `UPDATE students SET school_id = ` + strconv.FormatInt(f.b, 10) + `, class_group_id = '` + f.classB.String() + `' WHERE id = '` + f.stA.String() + `'`, []string{f.stA.String()}},
		{"educators move", `UPDATE educators SET school_id = ` + strconv.FormatInt(f.b, 10) + ` WHERE id = '` + f.edA.String() + `'`, []string{f.edA.String()}},
		{"school_admins delete", `DELETE FROM school_admins WHERE id = '` + f.saA.String() + `'`, []string{f.saA.String()}},
		{"wriveted_admins delete", `DELETE FROM wriveted_admins WHERE id = '` + f.admin.String() + `'`, []string{f.admin.String()}},
		{"supporters insert", `INSERT INTO supporters (id) VALUES ('` + f.pub.String() + `')`, []string{f.pub.String()}},
		{"service_accounts update", `UPDATE service_accounts SET is_active = false WHERE id = '` + f.lms.String() + `'`, []string{f.lms.String()}},
		{"service account link", `INSERT INTO service_account_school_association (service_account_id, school_id) VALUES ('` + f.lms.String() + `', ` + strconv.FormatInt(f.b, 10) + `)`, []string{f.lms.String()}},
		{"service account unlink", `DELETE FROM service_account_school_association WHERE service_account_id = '` + f.lms.String() + `'`, []string{f.lms.String()}},
		{"several rows, one transaction", `UPDATE users SET name = name || '.' WHERE id IN ('` + f.edB.String() + `', '` + f.parent.String() + `')`,
			sorted(f.edB.String(), f.parent.String())},
		{"truncate", `TRUNCATE service_account_school_association`, []string{"*"}},
	}
	for _, tc := range cases { // in order: each case starts from the previous one's state
		if _, err := super.Exec(ctx, tc.sql); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := received(t); !slices.Equal(got, tc.want) {
			t.Errorf("%s: notified %v, want %v", tc.name, got, tc.want)
		}
	}
	// A rolled-back change notifies nothing.
	tx, err := super.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE users SET is_active = true WHERE id = $1`, f.edA); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := received(t); len(got) != 0 {
		t.Errorf("rolled back: notified %v", got)
	}
	// Writes through the API role notify too (the trigger needs no privilege).
	if tx, err = d.Pool(t, dbtest.RoleAPI).Begin(ctx); err != nil {
		t.Fatal(err)
	}
	dbtest.As(t, tx, f.callers()["admin"])
	if _, err := tx.Exec(ctx, `UPDATE users SET name = 'Renamed' WHERE id = $1`, f.pub); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := received(t); !slices.Equal(got, []string{f.pub.String()}) {
		t.Errorf("write as huey_app: notified %v", got)
	}
}
