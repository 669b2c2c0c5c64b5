// Package benchdata builds the benchmark fixture: a database of a real
// school system's size (fixture.sql says what it holds and how its ids are
// derived). `make bench` and the plan-guard test load it into a freshly
// migrated database.
package benchdata

import (
	"context"
	"crypto/md5" //nolint:gosec // ids of the fixture, as Postgres md5() derives them
	_ "embed"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/db"
)

//go:embed fixture.sql
var fixtureSQL string

// Size is how much the fixture holds.
type Size struct {
	Schools  int // schools with a collection of Items items each
	Members  int // accounts per school: 1 school admin, 4 educators, the rest students (≥ 6)
	Editions int // editions in the catalogue (two per work)
	Items    int // items in each ordinary school's collection
	BigItems int // items in the "big" school's collection (school Schools+1)
	LMSItems int // items in the LMS batch target's collection (school Schools+2)
}

// Full is the size the performance issue was measured at: 1,000 schools of
// 20 accounts, 200,000 editions, 500 items per school (500,000 items), plus a
// 20,000-item and a 50,000-item collection.
var Full = Size{Schools: 1000, Members: 20, Editions: 200_000, Items: 500, BigItems: 20_000, LMSItems: 50_000}

// SQL is the fixture script for size z.
func (z Size) SQL() (string, error) {
	if z.Schools < 1 || z.Members < 6 || z.Editions < 2 || z.Items < 1 || z.BigItems < 1 || z.LMSItems < 1 {
		return "", fmt.Errorf("benchdata: size %+v is too small", z)
	}
	if z.Items > z.Editions || z.BigItems > z.Editions || z.LMSItems > z.Editions {
		return "", fmt.Errorf("benchdata: a collection cannot hold more items than there are editions (%d)", z.Editions)
	}
	r := strings.NewReplacer("{{SCHOOLS}}", strconv.Itoa(z.Schools), "{{MEMBERS}}", strconv.Itoa(z.Members),
		"{{EDITIONS}}", strconv.Itoa(z.Editions), "{{ITEMS}}", strconv.Itoa(z.Items),
		"{{BIG_ITEMS}}", strconv.Itoa(z.BigItems), "{{LMS_ITEMS}}", strconv.Itoa(z.LMSItems))
	return r.Replace(fixtureSQL), nil
}

// Load runs the fixture on conn (a superuser's connection to a freshly
// migrated database) and analyzes the database.
func Load(ctx context.Context, conn *pgx.Conn, z Size) error {
	script, err := z.SQL()
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, script); err != nil {
		return fmt.Errorf("benchdata: load fixture: %w", err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("benchdata: analyze: %w", err)
	}
	return nil
}

// The fixture's derived identifiers (fixture.sql).

// SchoolWID is school n's wriveted_identifier.
func SchoolWID(n int) string { return md5UUID(fmt.Sprintf("school-%d", n)) }

// CollectionID is school n's collection.
func CollectionID(n int) string { return md5UUID(fmt.Sprintf("collection-%d", n)) }

// UserID is account k (1-based) of school n: 1 the school admin, 2–5 educators, then students.
func UserID(n, k int) string { return md5UUID(fmt.Sprintf("user-%d-%d", n, k)) }

// LMSAccountID is the LMS service account linked to school n.
func LMSAccountID(n int) string { return md5UUID(fmt.Sprintf("lms-%d", n)) }

// ISBN is edition i's ISBN-13 (1-based).
func ISBN(i int) string {
	p := fmt.Sprintf("978%09d", i)
	sum := 0
	for k, c := range p {
		d := int(c - '0')
		if k%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return p + strconv.Itoa((10-sum%10)%10)
}

func md5UUID(s string) string {
	h := md5.Sum([]byte(s))
	x := hex.EncodeToString(h[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// SchoolAdminClaims are the claims the API sets for school n's school admin
// (account 1; DECISIONS §3): server/internal/api's principalsOf and
// identityFor, principals sorted as policies.Principals.List() sorts them.
// make bench checks they are byte-identical to what the API sends.
func SchoolAdminClaims(n int) db.Claims {
	uid := UserID(n, 1)
	s := strconv.Itoa(n)
	ps := []string{"system:everyone", "system:authenticated", "user:" + uid, "role:educator", "educator:" + s, "schooladmin:" + s}
	slices.Sort(ps)
	return db.Claims{Sub: "Wriveted:User-Account:" + uid, Kind: "user", UserType: "school_admin", ID: uid,
		Principals: ps, SchoolIDs: []int64{int64(n)}, ChildIDs: []string{}}
}
