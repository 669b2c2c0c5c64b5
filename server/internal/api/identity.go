package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/account"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/db"
)

// Account is what authentication loads for a token's subject: the account
// and what its principals derive from (access.md §4; schema/account, which
// the task server shares).
type Account = account.Account

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
func (id *Identity) IsUser() bool { return id.Account.Kind == account.KindUser }

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
// DECISIONS §3; schema/account).
func principalsOf(a Account) []string { return a.Principals() }

// identityFor builds the caller's identity: principals once, and the claims
// every transaction of the request carries.
func identityFor(a Account, tok auth.Token) *Identity {
	ps := policies.NewPrincipals(principalsOf(a))
	c := a.Claims(tok.Subject.String(), ps.List())
	return &Identity{Account: a, Token: tok, Principals: ps, Claims: c}
}

// errNoAccount: the token's subject names no (complete) account.
var errNoAccount = errors.New("no such account")

// loadAccount reads the account a verified subject names, through the
// huey.authenticate() door, in a claims transaction of its own.
func loadAccount(ctx context.Context, pool *pgxpool.Pool, sub auth.Subject) (Account, error) {
	var shared account.Account
	err := db.Read(ctx, pool, account.LoadClaims(string(sub.Kind), sub.ID), func(b *pgx.Batch) {
		b.Queue(account.LoadSQL).Query(func(rows pgx.Rows) (err error) {
			shared, err = account.Scan(rows, string(sub.Kind))
			return err
		})
	})
	if errors.Is(err, account.ErrNoAccount) {
		return Account{}, errNoAccount
	}
	if err != nil {
		return Account{}, fmt.Errorf("load account %s: %w", sub, err)
	}
	return shared, nil
}

// authenticate is the standard authentication step (api.md §0.2). With
// required false (PUBLIC routes) a request without credentials proceeds as
// anonymous; presented credentials are still verified. Once the caller is
// known, the request body is coerced as the original's validation did
// (coerceBody, lax.go).
func (s *Server) authenticate(required bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			raw, present := bearer(c.Request().Header.Get(echo.HeaderAuthorization))
			if !present {
				if required {
					return errNotAuthenticated()
				}
				coerceBody(c)
				return next(c)
			}
			id, err := s.identify(c.Request().Context(), raw)
			if err != nil {
				return err
			}
			c.SetRequest(c.Request().WithContext(withIdentity(c.Request().Context(), id)))
			coerceBody(c)
			return next(c)
		}
	}
}

// authenticateUser is the USER guard (api.md §0.2): the standard
// authentication, then a user account that is active. A service account is
// refused with 403 "API requires a user", an inactive user with 400
// "Inactive user" (access.md §3), as the original's get_current_active_user.
// The body is then coerced (coerceBody).
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
				return httpError(http.StatusBadRequest, msgInactiveUser)
			}
			c.SetRequest(c.Request().WithContext(withIdentity(c.Request().Context(), id)))
			coerceBody(c)
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
		return nil, httpError(http.StatusBadRequest, msgInactiveAccount)
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
	if !ok || cached.Account.Kind != string(tok.Subject.Kind) {
		gen := s.accounts.generation()
		a, err := loadAccount(ctx, s.pool, tok.Subject)
		if errors.Is(err, errNoAccount) {
			if tok.Subject.Kind == auth.KindServiceAccount {
				return nil, httpError(http.StatusNotFound, msgServiceAccountNotFound.format(tok.Subject.ID))
			}
			return nil, httpError(http.StatusNotFound, msgCurrentUserNotFound)
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
