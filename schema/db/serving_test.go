package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
)

// Issue 14: the API refuses, with one line, a database it cannot serve
// safely: not migrated, behind the binary, or reached through a login that
// row security does not bind (unless ALLOW_BYPASSRLS=1).
func TestCheckServing(t *testing.T) {
	ctx := context.Background()
	latest, err := schema.Latest(schema.Dir())
	if err != nil {
		t.Fatal(err)
	}
	d := dbtest.NewDB(t)
	api := d.Pool(t, dbtest.RoleAPI)
	if err := db.CheckServing(ctx, api, latest, false); err != nil {
		t.Fatalf("the huey_api login on a migrated database: %v", err)
	}
	if err := db.CheckServing(ctx, api, "99991231000000", false); err == nil || !strings.Contains(err.Error(), "run `server migrate`") {
		t.Fatalf("a database behind the binary: %v", err)
	}
	if err := db.CheckServing(ctx, api, "20000101000000", false); err != nil {
		t.Fatalf("a database ahead of the binary (rolling deploy): %v", err)
	}
	super := d.SuperPool(t)
	if err := db.CheckServing(ctx, super, latest, false); err == nil || !strings.Contains(err.Error(), "BYPASSRLS") {
		t.Fatalf("a superuser login: %v", err)
	}
	if err := db.CheckServing(ctx, super, latest, true); err != nil {
		t.Fatalf("a superuser with ALLOW_BYPASSRLS=1: %v", err)
	}
	empty := dbtest.EmptyDB(t)
	emptyPool := empty.SuperPool(t)
	if err := db.CheckServing(ctx, emptyPool, latest, true); err == nil || !strings.Contains(err.Error(), "not migrated") {
		t.Fatalf("an unmigrated database: %v", err)
	}
}
