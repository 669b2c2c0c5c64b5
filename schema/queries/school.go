package queries

import (
	"time"

	"github.com/google/uuid"
)

// SchoolListRow is a row of ListSchools. It is written by hand: sqlc types
// the columns of outer-joined subqueries as NOT NULL and array_agg inside
// them as interface{} (sqlc v1.31.1), while a school without a
// subscription, a collection or admins has NULL there. Fields are in the
// order of the query's columns.
type SchoolListRow struct {
	ID                 int32
	WrivetedIdentifier uuid.UUID
	Name               string
	OfficialIdentifier *string
	CountryCode        *string
	State              string
	Info               []byte
	SubID              *string
	SubType            *string
	SubProvider        *string
	SubIsActive        *bool
	SubExpiration      *time.Time
	ProductID          *string
	ProductName        *string
	ColID              *uuid.UUID
	ColName            *string
	ColBookCount       *int64
	ColSchoolID        *uuid.UUID
	ColUserID          *uuid.UUID
	ColUpdatedAt       *time.Time
	AdminIDs           []uuid.UUID
	AdminNames         []string
	AdminEmails        []*string
	AdminTypes         []string
	AdminActives       []bool
	AdminLogins        []*time.Time
}
