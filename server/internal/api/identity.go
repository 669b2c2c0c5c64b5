package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/server/auth"
)

// Account is what authentication loads for a token's subject: the account
// and what its principals derive from (access.md §4).
type Account struct {
	Kind            auth.Kind
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

// Identity is the caller of one request.
type Identity struct {
	Account    Account
	Token      auth.Token
	Principals policies.Principals
	Claims     db.Claims
}

// Anonymous reports whether the request carries no credentials.
func (id *Identity) Anonymous() bool { return id.Account.Kind == "" }

// IsUser reports whether the caller is a user account (not a service account).
func (id *Identity) IsUser() bool { return id.Account.Kind == auth.KindUser }

type identityKey struct{}

func withIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// identityOf returns the caller set by authenticate; an anonymous identity
// when the route is public.
func identityOf(ctx context.Context) *Identity {
	if id, ok := ctx.Value(identityKey{}).(*Identity); ok {
		return id
	}
	return anonymousIdentity()
}

func anonymousIdentity() *Identity {
	return &Identity{Principals: policies.NewPrincipals([]string{"system:everyone"}), Claims: db.Anonymous()}
}

// principalsOf derives the principal set of an active account (access.md §4,
// DECISIONS §3): school ids are always the integer id (F5); LMS and school
// service accounts hold school:<id> for each linked school only (F2).
func principalsOf(a Account) []string {
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
	if a.Kind == auth.KindServiceAccount {
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

// identityFor builds the caller's identity: principals once, and the claims
// every transaction of the request carries.
func identityFor(a Account, tok auth.Token) *Identity {
	ps := policies.NewPrincipals(principalsOf(a))
	c := db.Claims{
		Sub:        tok.Subject.String(),
		Kind:       string(a.Kind),
		ID:         a.ID.String(),
		Principals: ps.List(),
		IsAdmin:    ps.Has("role:admin"),
	}
	if a.Kind == auth.KindUser {
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
	return &Identity{Account: a, Token: tok, Principals: ps, Claims: c}
}

// errNoAccount: the token's subject names no (complete) account.
var errNoAccount = errors.New("no such account")

// loadAccount reads the account a verified subject names, through the
// huey.authenticate() door, in a claims transaction of its own.
func loadAccount(ctx context.Context, pool *pgxpool.Pool, sub auth.Subject) (Account, error) {
	claims := db.Claims{Kind: "authenticating", SubjectKind: string(sub.Kind), SubjectID: sub.ID.String()}
	var a Account
	found := false
	err := db.Read(ctx, pool, claims, func(b *pgx.Batch) {
		b.Queue(`SELECT kind, id, is_active, coalesce(user_type, ''), name, school_id, parent_id, child_ids,
			coalesce(service_account_type, ''), linked_school_ids FROM huey.authenticate()`).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var kind string
				if err := rows.Scan(&kind, &a.ID, &a.IsActive, &a.UserType, &a.Name, &a.SchoolID, &a.ParentID,
					&a.ChildIDs, &a.ServiceType, &a.LinkedSchoolIDs); err != nil {
					return err
				}
				a.Kind, found = auth.Kind(kind), true
			}
			return rows.Err()
		})
	})
	if err != nil {
		return Account{}, fmt.Errorf("load account %s: %w", sub, err)
	}
	if !found || a.Kind != sub.Kind {
		return Account{}, errNoAccount
	}
	return a, nil
}

// authenticate is the standard authentication step (api.md §0.2). With
// required false (PUBLIC routes) a request without credentials proceeds as
// anonymous; presented credentials are still verified.
func (s *Server) authenticate(required bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			raw, present := bearer(c.Request().Header.Get(echo.HeaderAuthorization))
			if !present {
				if required {
					return errNotAuthenticated()
				}
				return next(c)
			}
			id, err := s.identify(c.Request().Context(), raw)
			if err != nil {
				return err
			}
			c.SetRequest(c.Request().WithContext(withIdentity(c.Request().Context(), id)))
			return next(c)
		}
	}
}

// authenticateUser is the USER guard (api.md §0.2): the standard
// authentication, then a user account that is active. A service account is
// refused with 403 "API requires a user", an inactive user with 400
// "Inactive user" (access.md §3), as the original's get_current_active_user.
func (s *Server) authenticateUser() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			raw, present := bearer(c.Request().Header.Get(echo.HeaderAuthorization))
			if !present {
				return errNotAuthenticated()
			}
			id, err := s.resolve(c.Request().Context(), raw)
			if err != nil {
				return err
			}
			if !id.IsUser() {
				return httpError(http.StatusForbidden, msgRequiresUser)
			}
			if !id.Account.IsActive {
				return httpError(http.StatusBadRequest, "Inactive user")
			}
			c.SetRequest(c.Request().WithContext(withIdentity(c.Request().Context(), id)))
			return next(c)
		}
	}
}

// identify verifies a token and loads its account (cached); an inactive
// account is refused.
func (s *Server) identify(ctx context.Context, raw string) (*Identity, error) {
	id, err := s.resolve(ctx, raw)
	if err != nil {
		return nil, err
	}
	if !id.Account.IsActive {
		return nil, httpError(http.StatusBadRequest, "Inactive account")
	}
	return id, nil
}

// resolve verifies a token and loads its account (cached), active or not;
// an inactive account's identity holds only system:everyone.
func (s *Server) resolve(ctx context.Context, raw string) (*Identity, error) {
	now := s.now()
	tok, err := s.verifier.Verify(raw, now)
	if err != nil {
		return nil, errBadCredentials()
	}
	cached, ok := s.accounts.get(tok.Subject.ID, now)
	if !ok || cached.Account.Kind != tok.Subject.Kind {
		gen := s.accounts.generation()
		a, err := loadAccount(ctx, s.pool, tok.Subject)
		if errors.Is(err, errNoAccount) {
			if tok.Subject.Kind == auth.KindServiceAccount {
				return nil, httpError(http.StatusNotFound, fmt.Sprintf("ServiceAccount with id %s not found.", tok.Subject.ID))
			}
			return nil, httpError(http.StatusNotFound, "User not found")
		}
		if err != nil {
			return nil, err
		}
		// The cached identity depends on the account and the subject (same
		// kind and id) only, never on the token's times.
		cached = identityFor(a, auth.Token{Subject: tok.Subject})
		s.accounts.put(cached, gen, now)
	}
	id := *cached // principals and claims are shared read-only
	id.Token = tok
	return &id, nil
}

// bearer extracts the credentials of an `Authorization: Bearer` header
// (scheme case-insensitive); present is false when there are none.
func bearer(h string) (token string, present bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	return cred, cred != ""
}
