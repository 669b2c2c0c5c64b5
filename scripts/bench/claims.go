package main

import (
	"encoding/json"

	"github.com/wriveted/huey-api/schema/benchdata"
	"github.com/wriveted/huey-api/schema/db"
)

// schoolAdminClaims: the claims the API sets for school n's school admin.
var schoolAdminClaims = benchdata.SchoolAdminClaims

// claimsJSON encodes claims as db.Read sends them.
func claimsJSON(c db.Claims) string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain strings and ints
	}
	return string(b)
}
