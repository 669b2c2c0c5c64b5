package main

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/wriveted/huey-api/schema/benchdata"
	"github.com/wriveted/huey-api/schema/db"
)

// schoolAdminClaims is what the API puts in request.jwt.claims for school
// n's school admin (benchdata.UserID(n, 1)): server/internal/api/identity.go
// (principalsOf for SCHOOL_ADMIN, identityFor) and db.Claims' encoding, with
// the school's integer id n (the fixture's school n has id n).
func schoolAdminClaims(n int) db.Claims {
	uid := benchdata.UserID(n, 1)
	s := strconv.Itoa(n)
	ps := []string{"system:everyone", "system:authenticated", "user:" + uid, "role:educator", "educator:" + s, "schooladmin:" + s}
	slices.Sort(ps) // policies.NewPrincipals(...).List() is sorted
	return db.Claims{
		Sub:        "Wriveted:User-Account:" + uid, // auth.Subject.String() of a user
		Kind:       "user",
		UserType:   "school_admin",
		ID:         uid,
		Principals: ps,
		SchoolIDs:  []int64{int64(n)},
		ChildIDs:   []string{},
		IsAdmin:    false,
	}
}

// claimsJSON encodes claims as db.Read sends them.
func claimsJSON(c db.Claims) string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain strings and ints
	}
	return string(b)
}
