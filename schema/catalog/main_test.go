package catalog_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// claims builds request.jwt.claims as the API does (DECISIONS §3).
func claims(kind, userType string, schoolIDs []int64, principals ...string) string {
	id := uuid.New()
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

// Claims of each kind of caller the catalogue policies distinguish.
var (
	adminClaims    = claims("user", "wriveted", nil, "role:admin")
	educatorClaims = claims("user", "educator", []int64{1}, "role:educator", "educator:1")
)

// catalogueCallers are the callers of the RLS tests, with whether F8 lets
// them write the catalogue.
func catalogueCallers() []struct {
	name, claims string
	writes       bool
} {
	return []struct {
		name, claims string
		writes       bool
	}{
		{"admin", adminClaims, true},
		{"backend", claims("service_account", "backend", nil, "role:admin"), true},
		{"school admin", claims("user", "school_admin", []int64{1}, "role:educator", "educator:1", "schooladmin:1"), true},
		{"educator", educatorClaims, true},
		{"lms", claims("service_account", "lms", []int64{1}, "role:lms", "school:1"), true},
		{"school service account", claims("service_account", "school", []int64{1}, "role:school", "role:library", "school:1"), true},
		{"student", claims("user", "student", []int64{1}, "role:reader", "role:student", "student:1"), false},
		{"public reader", claims("user", "public", nil, "role:reader"), false},
		{"parent", claims("user", "parent", nil, "role:parent"), false},
		{"supporter", claims("user", "supporter", nil, "role:supporter"), false},
		{"kiosk", claims("service_account", "kiosk", nil, "role:kiosk"), false},
	}
}

// txAs opens a transaction on the API login as huey_app with claims,
// rolled back at cleanup.
func txAs(t testing.TB, d *dbtest.DB, claimsJSON string) pgx.Tx {
	t.Helper()
	tx := dbtest.Tx(t, d.Pool(t, dbtest.RoleAPI))
	dbtest.As(t, tx, claimsJSON)
	return tx
}

// scalar runs a one-value query in tx.
func scalar[T any](t testing.TB, tx pgx.Tx, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := tx.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// exec runs a statement in tx and fails the test on error.
func exec(t testing.TB, tx pgx.Tx, sql string, args ...any) {
	t.Helper()
	if _, err := tx.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func ptr[T any](v T) *T { return &v }

// isbn13 makes a valid ISBN-13 from a 979 prefix and a nine-digit number.
func isbn13(n int) string {
	body := []byte("979000000000")
	for i, v := 11, n; i >= 3; i-- {
		body[i] = byte('0' + v%10)
		v /= 10
	}
	sum := 0
	for i, c := range body {
		w := 1
		if i%2 == 1 {
			w = 3
		}
		sum += w * int(c-'0')
	}
	return string(body) + string(rune('0'+(10-sum%10)%10))
}
