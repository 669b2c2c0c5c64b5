package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	fbauth "firebase.google.com/go/v4/auth"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Authentication routes (api.md §2.2).

// FirebaseVerifier verifies Firebase ID tokens; *auth.Client of the Firebase
// Admin SDK is one.
type FirebaseVerifier interface {
	VerifyIDToken(ctx context.Context, idToken string) (*fbauth.Token, error)
}

// issue signs one of the API's own tokens.
func (s *Server) issue(kind auth.Kind, id uuid.UUID, ttl time.Duration) (string, error) {
	return s.tokens.Sign(auth.Subject{Kind: kind, ID: id}, ttl, s.now())
}

// GET /auth/firebase — exchange a Firebase ID token for an API token.
func (s *Server) getAuthFirebase(c echo.Context) error {
	ctx := c.Request().Context()
	raw, ok := bearer(c.Request().Header.Get(echo.HeaderAuthorization))
	if !ok {
		return httpError(http.StatusUnauthorized, msgNotAuthenticated).withBearerChallenge()
	}
	create := true
	if v, err := queryBool(c, "create"); err != nil {
		return err
	} else if v != nil {
		create = *v
	}
	checkout, err := queryString(c, "checkout_session_id", 200)
	if err != nil {
		return err
	}
	if s.firebase == nil {
		return unavailable("firebase_unconfigured", "Firebase authentication is not configured")
	}
	tok, err := s.firebase.VerifyIDToken(ctx, raw)
	if err != nil {
		if strings.Contains(err.Error(), "'kid'") { // the token names no key
			return httpError(http.StatusUnauthorized, msgFirebaseKeyNotFound)
		}
		return httpError(http.StatusUnauthorized, msgNotVerified)
	}
	if _, ok := tok.Claims["user_id"]; !ok {
		return httpError(http.StatusUnauthorized, msgClaimsInvalid)
	}
	// The SDK checks iat and exp only; auth_time must not be in the future either.
	if time.Unix(tok.AuthTime, 0).After(s.now().Add(5 * time.Minute)) {
		return httpError(http.StatusUnauthorized, msgNotVerified)
	}
	email, _ := tok.Claims["email"].(string)
	verified, _ := tok.Claims["email_verified"].(bool)
	if email == "" || !verified {
		return httpError(http.StatusUnauthorized, msgNotVerified) // the original fails with 500 here [defect]
	}
	name, _ := tok.Claims["name"].(string)
	if strings.TrimSpace(name) == "" {
		name = email
	}
	picture, _ := tok.Claims["picture"].(string)
	var pic *string
	if picture != "" {
		pic = &picture
	}
	var provider *string
	if p := tok.Firebase.SignInProvider; p != "" {
		provider = &p
	}
	var (
		outcome string
		userID  *uuid.UUID
	)
	err = db.InTx(ctx, s.pool, db.Anonymous(), func(tx *db.Tx) error {
		return tx.QueryRow(ctx, queries.FirebaseLogin,
			email, name, pic, provider, create, checkout).Scan(&outcome, &userID)
	})
	if err != nil {
		return err
	}
	switch outcome {
	case "no_account":
		return httpError(http.StatusUnauthorized, msgNoAccount)
	case "inactive":
		return httpError(http.StatusUnauthorized, msgInactiveUser)
	}
	s.accounts.forget(*userID)
	t, err := s.issue(auth.KindUser, *userID, auth.UserTokenTTL)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, bearerToken(t))
}

// GET /auth/me
func (s *Server) getAuthMe(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	out := map[string]any{
		"account_type": string(ident.Account.Kind), "token_expiry": ident.Token.Expiry.UTC().Format(time.RFC3339),
		"user": nil, "service_account": nil,
	}
	if !ident.IsUser() {
		var sa serviceAccountBrief
		found := false
		err := db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) {
			b.Queue(queries.GetAuthServiceAccount, ident.Account.ID).
				Query(func(rows pgx.Rows) error {
					for rows.Next() {
						var typ string
						if err := rows.Scan(&sa.ID, &sa.Name, &typ, &sa.IsActive); err != nil {
							return err
						}
						sa.Type, found = lower(typ), true
					}
					return rows.Err()
				})
		})
		if err != nil {
			return err
		}
		if !found {
			return httpError(http.StatusNotFound, msgServiceAccountNotFound.format(ident.Account.ID))
		}
		out["service_account"] = sa
		return c.JSON(http.StatusOK, out)
	}
	var d userDetailOut
	if err := db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) { queueUserDetail(b, ident.Account.ID, &d) }); err != nil {
		return err
	}
	if !d.found {
		return httpError(http.StatusNotFound, msgCurrentUserNotFound)
	}
	out["user"] = d.render()
	return c.JSON(http.StatusOK, out)
}

// serviceAccountBrief is ServiceAccountBrief (api.md §1.8).
type serviceAccountBrief struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	IsActive bool      `json:"is_active"`
}

// POST /auth/class-code — student sign-in (PUBLIC, rate-limited).
func (s *Server) postClassCode(c echo.Context) error {
	ctx := c.Request().Context()
	var in classCodeIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	guard := []string{addressKey(c.RealIP()), usernameKey(in.Username)}
	if s.login.blocked(guard...) {
		return httpError(http.StatusTooManyRequests, msgTooManyRequests)
	}
	var (
		outcome string
		userID  *uuid.UUID
	)
	err := db.Read(ctx, s.pool, db.Anonymous(), func(b *pgx.Batch) {
		b.Queue(queries.ClassCodeLogin, in.ClassJoiningCode, in.Username).
			QueryRow(func(r pgx.Row) error { return r.Scan(&outcome, &userID) })
	})
	if err != nil {
		return err
	}
	switch outcome {
	case "ok":
	case "invalid_class":
		s.login.fail(guard...)
		return httpError(http.StatusUnauthorized, msgClassCodeInvalid)
	default:
		s.login.fail(guard...)
		return httpError(http.StatusUnauthorized, msgUnauthorized)
	}
	sub := auth.Subject{Kind: auth.KindUser, ID: *userID}
	acc, err := loadAccount(ctx, s.pool, sub)
	if err != nil {
		return httpError(http.StatusUnauthorized, msgUnauthorized)
	}
	now := s.now()
	t, err := s.tokens.Sign(sub, auth.UserTokenTTL, now)
	if err != nil {
		return err
	}
	student := identityFor(acc, auth.Token{Subject: sub, IssuedAt: now, Expiry: now.Add(auth.UserTokenTTL)})
	err = db.InTx(ctx, s.pool, student.Claims, func(tx *db.Tx) error {
		if err := queries.New(tx).TouchUserLastLogin(ctx, acc.ID); err != nil {
			return err
		}
		return recordEvent(ctx, tx, student, "User logged in", "Student logged in", "DEBUG", acc.SchoolID, nil)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, bearerToken(t))
}

// POST /auth/register-student — self-registration with a class code (PUBLIC,
// rate-limited; F12: unknown code and inactive school refused).
func (s *Server) postRegisterStudent(c echo.Context) error {
	ctx := c.Request().Context()
	var in registerStudentIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	school := in.SchoolId
	// Blank names: the original's value error on the body, which the
	// document (lengths only) cannot express.
	first, last := strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastNameInitial)
	if first == "" || last == "" {
		return errValidation(validationError{Type: "value_error", Loc: []any{"body"},
			Msg: "first_name and last_name_initial must not be empty", Input: nil})
	}
	guard := addressKey(c.RealIP())
	if s.login.blocked(guard) {
		return httpError(http.StatusTooManyRequests, msgTooManyRequests)
	}
	var (
		outcome                   string
		userID                    *uuid.UUID
		username, name, off, ctry *string
		schoolID                  *int64
	)
	err := db.InTx(ctx, s.pool, db.Anonymous(), func(tx *db.Tx) error {
		return tx.QueryRow(ctx, queries.RegisterStudent, school, in.ClassJoiningCode, first, last).
			Scan(&outcome, &userID, &username, &schoolID, &name, &off, &ctry)
	})
	if err != nil {
		return err
	}
	switch outcome {
	case "ok":
	case "school_not_found":
		s.login.fail(guard)
		return errSchoolNotFound(school)
	case "username_exhausted":
		return httpError(http.StatusUnprocessableEntity, msgUsernameGeneration)
	default:
		s.login.fail(guard)
		return httpError(http.StatusUnauthorized, msgAccessUnauthorized)
	}
	return c.JSON(http.StatusOK, map[string]any{
		"id": userID, "type": "student", "name": first + " " + last, "first_name": first, "last_name_initial": last,
		"username": username,
		"school":   map[string]any{"wriveted_identifier": school, "name": name, "official_identifier": off, "country_code": ctry},
	})
}

// POST /user/{user_id}/auth-token — a 90-day "magic link" token, only for
// admins and for oneself (F10).
func (s *Server) postUserAuthToken(c echo.Context) error {
	id, _, err := userDoor.open(s, c, nil)
	if err != nil {
		return err
	}
	t, err := s.issue(auth.KindUser, id, auth.MagicLinkTTL)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, bearerToken(t))
}

// userResource reads a user's policy attributes through huey.user_attrs.
func (s *Server) userResource(ctx context.Context, id uuid.UUID) (policies.Resource, bool, error) {
	var (
		resource policies.Resource
		found    bool
	)
	err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queueUserAttrs(b, id, &resource, &found) })
	return resource, found && err == nil, err
}

// userAttrs is a user as the policy sees it, and whether it exists.
type userAttrs struct {
	res   policies.Resource
	found bool
}

// userDoor is the way to the user a route's path names (huey.user_attrs).
var userDoor = door[uuid.UUID, userAttrs]{
	typ:      resUser,
	param:    "user_id",
	parse:    pathUUID,
	attrs:    func(b batchQueuer, id uuid.UUID, a *userAttrs) { queueUserAttrs(b, id, &a.res, &a.found) },
	found:    func(a userAttrs) bool { return a.found },
	resource: func(_ uuid.UUID, a userAttrs) policies.Resource { return a.res },
	notFound: errUserNotFound,
}

// queueUserAttrs queues the policy attributes of a user account (the
// huey.user_attrs door) into *res; *found reports whether it exists.
func queueUserAttrs(b batchQueuer, id uuid.UUID, res *policies.Resource, found *bool) {
	*res = policies.Resource{Type: resUser, ID: id.String()}
	b.Queue(queries.UserAttrs, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				typ    string
				school *int64
				parent *uuid.UUID
			)
			if err := rows.Scan(&typ, &school, &parent); err != nil {
				return err
			}
			res.Attrs = map[string]string{"type": lower(typ), "school_id": "", "parent_id": ""}
			if school != nil {
				res.Attrs["school_id"] = fmt.Sprint(*school)
			}
			if parent != nil {
				res.Attrs["parent_id"] = parent.String()
			}
			*found = true
		}
		return rows.Err()
	})
}
