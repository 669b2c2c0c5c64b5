// Package account derives what an account may do from what it is: its
// principals (access.md §4, DECISIONS §3) and the claims a transaction acting
// for it carries. The API derives a caller's claims with it, and the task
// server the claims of the account an event was posted by, so background
// work done on someone's behalf runs under that account's row security
// (issue 12 R1), not the worker's.
package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/db"
)

// Kinds of account (the token subject's kind).
const (
	KindUser           = "user"
	KindServiceAccount = "service_account"
)

// Account is an account and what its principals derive from.
type Account struct {
	Kind            string // KindUser or KindServiceAccount
	ID              uuid.UUID
	Name            string
	IsActive        bool
	UserType        string // users: the enum label (EDUCATOR, STUDENT, …)
	SchoolID        *int64 // students, educators, school admins: their school's integer id
	ParentID        *uuid.UUID
	ChildIDs        []uuid.UUID
	ServiceType     string  // service accounts: BACKEND, LMS, SCHOOL, KIOSK
	LinkedSchoolIDs []int64 // service accounts: associated schools
}

// ErrNoAccount: no (complete) account of that kind and id.
var ErrNoAccount = errors.New("no such account")

// LoadSQL reads the account named by the "authenticating" claims through
// the huey.authenticate() door; Scan reads its row.
const LoadSQL = `SELECT kind, id, is_active, coalesce(user_type, ''), name, school_id, parent_id, child_ids,
	coalesce(service_account_type, ''), linked_school_ids FROM huey.authenticate()`

// LoadClaims are the claims under which LoadSQL reads account (kind, id).
func LoadClaims(kind string, id uuid.UUID) db.Claims {
	return db.Claims{Kind: "authenticating", SubjectKind: kind, SubjectID: id.String()}
}

// Scan reads LoadSQL's rows: the account, or ErrNoAccount when there is
// none of the kind asked for.
func Scan(rows pgx.Rows, kind string) (Account, error) {
	var a Account
	found := false
	for rows.Next() {
		if err := rows.Scan(&a.Kind, &a.ID, &a.IsActive, &a.UserType, &a.Name, &a.SchoolID, &a.ParentID,
			&a.ChildIDs, &a.ServiceType, &a.LinkedSchoolIDs); err != nil {
			return Account{}, err
		}
		found = true
	}
	if err := rows.Err(); err != nil {
		return Account{}, err
	}
	if !found || a.Kind != kind {
		return Account{}, ErrNoAccount
	}
	return a, nil
}

// LoadIn reads account (kind, id) inside tx, under the authenticating claims
// for that one statement; tx's own claims are back in force afterwards.
func LoadIn(ctx context.Context, tx *db.Tx, kind string, id uuid.UUID) (Account, error) {
	var a Account
	err := tx.As(ctx, LoadClaims(kind, id), func() error {
		rows, err := tx.Query(ctx, LoadSQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		a, err = Scan(rows, kind)
		return err
	})
	if err != nil && !errors.Is(err, ErrNoAccount) {
		return Account{}, fmt.Errorf("load account %s:%s: %w", kind, id, err)
	}
	return a, err
}

// UserSubject is the token subject of user id, as our tokens spell it.
func UserSubject(id uuid.UUID) string { return "Wriveted:User-Account:" + id.String() }

// Principals is the principal set of the account (access.md §4, DECISIONS
// §3), unsorted: school ids are always the integer id (F5); LMS and school
// service accounts hold school:<id> for each linked school only (F2); an
// inactive account holds only system:everyone.
func (a Account) Principals() []string {
	ps := []string{"system:everyone"}
	if !a.IsActive {
		return ps
	}
	ps = append(ps, "system:authenticated")
	school := func(prefix string) {
		if a.SchoolID != nil {
			ps = append(ps, prefix+strconv.FormatInt(*a.SchoolID, 10))
		}
	}
	if a.Kind == KindServiceAccount {
		switch a.ServiceType {
		case "BACKEND":
			ps = append(ps, "role:admin")
		case "LMS":
			ps = append(ps, "role:lms")
		case "SCHOOL":
			ps = append(ps, "role:school", "role:library")
		case "KIOSK":
			ps = append(ps, "role:kiosk")
		}
		if a.ServiceType == "LMS" || a.ServiceType == "SCHOOL" {
			for _, s := range a.LinkedSchoolIDs {
				ps = append(ps, "school:"+strconv.FormatInt(s, 10))
			}
		}
		if a.ServiceType == "KIOSK" { // a kiosk acts for its linked schools only (R10/F17); it reads nothing of them
			for _, s := range a.LinkedSchoolIDs {
				ps = append(ps, "kiosk:"+strconv.FormatInt(s, 10))
			}
		}
		return ps
	}
	ps = append(ps, "user:"+a.ID.String())
	switch a.UserType {
	case "PUBLIC", "STUDENT":
		ps = append(ps, "role:reader")
		if a.ParentID != nil {
			ps = append(ps, "child:"+a.ParentID.String())
		}
		if a.UserType == "STUDENT" {
			ps = append(ps, "role:student")
			school("student:")
		}
	case "EDUCATOR":
		ps = append(ps, "role:educator")
		school("educator:")
	case "SCHOOL_ADMIN":
		ps = append(ps, "role:educator")
		school("educator:")
		school("schooladmin:")
	case "WRIVETED":
		ps = append(ps, "role:admin")
	case "PARENT":
		for _, c := range a.ChildIDs {
			ps = append(ps, "parent:"+c.String())
		}
	}
	return ps
}

// Claims are the claims every transaction acting for the account carries.
// sub is the token subject ("wriveted:user-account:<id>", say); principals
// is the account's principal set, sorted and without repeats (the caller's
// Principals, normalised — policies.NewPrincipals(a.Principals()).List()).
func (a Account) Claims(sub string, principals []string) db.Claims {
	c := db.Claims{
		Sub:        sub,
		Kind:       a.Kind,
		ID:         a.ID.String(),
		Principals: principals,
		IsAdmin:    slices.Contains(principals, "role:admin"),
	}
	if a.Kind == KindUser {
		c.UserType = strings.ToLower(a.UserType)
		if a.SchoolID != nil {
			c.SchoolIDs = []int64{*a.SchoolID}
		}
		for _, ch := range a.ChildIDs {
			c.ChildIDs = append(c.ChildIDs, ch.String())
		}
	} else {
		c.UserType = strings.ToLower(a.ServiceType)
		c.SchoolIDs = slices.Clone(a.LinkedSchoolIDs)
	}
	return c
}

// NormalPrincipals sorts ps and removes repeats (always with
// system:everyone), as the policy engine's principal set does.
func NormalPrincipals(ps []string) []string {
	out := append(slices.Clone(ps), "system:everyone")
	slices.Sort(out)
	return slices.Compact(out)
}
