package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
	"github.com/wriveted/huey-api/server/internal/api/apitypes"
)

// Service accounts (api.md §2.4). Who may call these routes is decided by
// policies/service_accounts.rego (ADMIN; DELETE is SUPERUSER); which rows
// exist is decided by the <table>_<command>_admin row policies.
//
// The school links written here are what scope LMS and school service
// accounts (F2): huey.authenticate() loads them, principalsOf turns them into
// school:<id>, and s.accounts.forget makes a change count at once in this
// process (elsewhere at once too, through NOTIFY huey_account_changed).

// serviceAccountsResource is the route-level resource of every route here.
var serviceAccountsResource = policies.Resource{Type: resServiceAccounts}

// serviceAccountTypes is ServiceAccountType (domain.md §2): label, API value.
var serviceAccountTypes = []enumValue{{"BACKEND", "backend"}, {"LMS", "lms"}, {"SCHOOL", "school"}, {"KIOSK", "kiosk"}}

// saEventBrief is EventBrief (api.md §1.8).
type saEventBrief struct {
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Level       string          `json:"level"`
	Timestamp   isoTime         `json:"timestamp"`
	Info        json.RawMessage `json:"info"`
}

// saSchoolIdentity is SchoolIdentity (api.md §1.3).
type saSchoolIdentity struct {
	WrivetedIdentifier uuid.UUID `json:"wriveted_identifier"`
	Name               string    `json:"name"`
	OfficialIdentifier *string   `json:"official_identifier"`
	CountryCode        *string   `json:"country_code"`
}

// serviceAccountDetail is ServiceAccountDetail (api.md §1.8).
type serviceAccountDetail struct {
	serviceAccountBrief
	Info      json.RawMessage    `json:"info"`
	CreatedAt isoTime            `json:"created_at"`
	UpdatedAt isoTime            `json:"updated_at"`
	Events    []saEventBrief     `json:"events"`
	Schools   []saSchoolIdentity `json:"schools"`
}

// serviceAccountCreated is ServiceAccountCreatedResponse (api.md §1.8).
type serviceAccountCreated struct {
	serviceAccountBrief
	AccessToken string `json:"access_token"`
}

func errServiceAccountNotFound(id uuid.UUID) error {
	return httpError(http.StatusNotFound, msgServiceAccountNotFound.format(id))
}

// serviceAccountGuard is the route guard of the service-account routes: the
// policy decides action on the route-level resource, and a refusal carries
// the original's guard messages (api.md §0.2) — "Insufficient privileges"
// for callers failing ADMIN, and on DELETE (SUPERUSER) "API requires a user"
// for callers that pass the router-level ADMIN guard (the policy's `read`)
// but not `delete`, i.e. backend service accounts. Anonymous callers never
// get here (401 first).
func (s *Server) serviceAccountGuard(action string) decision {
	return decision{kind: decideType, route: &check{resServiceAccounts, action}, guard: s.serviceAccountMiddleware(action)}
}

func (s *Server) serviceAccountMiddleware(action string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			ok, err := s.may(ctx, serviceAccountsResource, action)
			if err != nil {
				return err
			}
			if ok {
				return next(c)
			}
			msg := msgInsufficientPrivs
			if action == "delete" {
				admin, err := s.may(ctx, serviceAccountsResource, "read")
				if err != nil {
					return err
				}
				if admin {
					msg = msgRequiresUser
				}
			}
			return s.refuse(ctx, serviceAccountsResource, action, msg) // recorded and logged by recordRefusals
		}
	}
}

// ---------------------------------------------------------------------------
// Reading

// GET /service-accounts
func (s *Server) getServiceAccounts(c echo.Context) error {
	ctx := c.Request().Context()
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	inactive, err := queryBool(c, "include_inactive")
	if err != nil {
		return err
	}
	out := []serviceAccountBrief{}
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		b.Queue(queries.ListServiceAccounts, inactive != nil && *inactive, skip, limit).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var sa serviceAccountBrief
				var typ string
				if err := rows.Scan(&sa.ID, &sa.Name, &typ, &sa.IsActive); err != nil {
					return err
				}
				sa.Type = lower(typ)
				out = append(out, sa)
			}
			return rows.Err()
		})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// queueServiceAccountDetail queues every query of a ServiceAccountDetail
// (queries.GetServiceAccountDetail, ListServiceAccountSchools,
// ListServiceAccountEvents); *out stays nil when the account does not exist.
func queueServiceAccountDetail(b batchQueuer, id uuid.UUID, out **serviceAccountDetail) {
	d := &serviceAccountDetail{Events: []saEventBrief{}, Schools: []saSchoolIdentity{}}
	b.Queue(queries.GetServiceAccountDetail, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				typ              string
				info             []byte
				created, updated time.Time
			)
			if err := rows.Scan(&d.ID, &d.Name, &typ, &d.IsActive, &info, &created, &updated); err != nil {
				return err
			}
			d.Type, d.Info, d.CreatedAt, d.UpdatedAt = lower(typ), rawOrNull(info), isoTime(created), isoTime(updated)
			*out = d
		}
		return rows.Err()
	})
	b.Queue(queries.ListServiceAccountSchools, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var sc saSchoolIdentity
			if err := rows.Scan(&sc.WrivetedIdentifier, &sc.Name, &sc.OfficialIdentifier, &sc.CountryCode); err != nil {
				return err
			}
			d.Schools = append(d.Schools, sc)
		}
		return rows.Err()
	})
	b.Queue(queries.ListServiceAccountEvents, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				ev    saEventBrief
				level string
				ts    time.Time
				info  []byte
			)
			if err := rows.Scan(&ev.Title, &ev.Description, &level, &ts, &info); err != nil {
				return err
			}
			ev.Level, ev.Timestamp, ev.Info = lower(level), isoTime(ts), rawOrNull(info)
			d.Events = append(d.Events, ev)
		}
		return rows.Err()
	})
}

// GET /service-account/{service_account_id}: one round trip.
func (s *Server) getServiceAccount(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "service_account_id")
	if err != nil {
		return err
	}
	var d *serviceAccountDetail
	if err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queueServiceAccountDetail(b, id, &d) }); err != nil {
		return err
	}
	if d == nil {
		return errServiceAccountNotFound(id)
	}
	return c.JSON(http.StatusOK, d)
}

// ---------------------------------------------------------------------------
// Input

// serviceAccountWrite is validated input ready to write.
type serviceAccountWrite struct {
	name       *string
	typ        string
	info       []byte // JSON; nil with infoSet: store NULL
	infoSet    bool
	schools    []uuid.UUID // distinct, in input order
	schoolsSet bool
}

// saWrite checks what the document cannot (NUL in a name, the type's
// case-insensitive names, info as jsonb can store it) and gathers the body
// for the write; the document has already required name and type on create
// and checked the schools' identifiers.
func saWrite(name, typ *string, info nullable.Nullable[json.RawMessage],
	schools nullable.Nullable[[]apitypes.ServiceAccountSchoolIn], create bool) (serviceAccountWrite, error) {
	var (
		w    serviceAccountWrite
		errs []validationError
	)
	// NUL is refused as the original's value error, never stored.
	if name != nil && strings.ContainsRune(*name, 0) {
		errs = append(errs, validationError{Type: "value_error", Loc: []any{"body", "name"},
			Msg: "Value error, text must not contain NUL characters", Input: *name})
	} else {
		w.name = name
	}
	if create {
		// The document cannot list the names accepted in any case.
		expected := enumText([]any{"backend", "lms", "school", "kiosk"})
		if label, ok := parseEnum(serviceAccountTypes, *typ); ok {
			w.typ = label
		} else {
			errs = append(errs, validationError{Type: "enum", Loc: []any{"body", "type"},
				Msg: "Input should be " + expected, Input: *typ, Ctx: map[string]any{"expected": expected}})
		}
	}
	switch raw := valueOf(info); {
	case raw == nil:
		w.infoSet = info.IsSpecified()
		if create {
			w.info, w.infoSet = []byte("{}"), true
		}
	default:
		// jsonb's limits (NUL, number range, nesting), re-encoded.
		out, e := saNormalizeInfo(*raw, []any{"body", "info"})
		if e != nil {
			errs = append(errs, *e)
		}
		w.info, w.infoSet = out, true
	}
	if list := valueOf(schools); list != nil {
		w.schoolsSet = true
		w.schools = []uuid.UUID{}
		seen := map[uuid.UUID]bool{}
		for _, sc := range *list {
			if !seen[sc.WrivetedIdentifier] {
				seen[sc.WrivetedIdentifier] = true
				w.schools = append(w.schools, sc.WrivetedIdentifier)
			}
		}
	}
	if len(errs) > 0 {
		return w, errValidation(errs...)
	}
	return w, nil
}

// saMaxInfoDepth bounds the nesting of info, so that neither this check nor
// Postgres's jsonb parser recurses without limit.
const saMaxInfoDepth = 512

// saNormalizeInfo checks that info is a JSON object Postgres can store as
// jsonb (no NUL characters, numbers within range, bounded nesting) and
// re-encodes it.
func saNormalizeInfo(raw json.RawMessage, loc []any) ([]byte, *validationError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &validationError{Type: "json_invalid", Loc: loc, Msg: "JSON decode error", Input: nil}
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, &validationError{Type: "dict_type", Loc: loc, Msg: "Input should be a valid dictionary", Input: v}
	}
	var bad string
	var walk func(x any, depth int)
	walk = func(x any, depth int) {
		switch x.(type) {
		case map[string]any, []any:
			if depth > saMaxInfoDepth {
				bad = fmt.Sprintf("nesting deeper than %d levels", saMaxInfoDepth)
				return
			}
		}
		switch t := x.(type) {
		case map[string]any:
			for k, e := range t {
				if strings.ContainsRune(k, 0) {
					bad = "text must not contain NUL characters"
				}
				walk(e, depth+1)
			}
		case []any:
			for _, e := range t {
				walk(e, depth+1)
			}
		case string:
			if strings.ContainsRune(t, 0) {
				bad = "text must not contain NUL characters"
			}
		case json.Number:
			if _, err := strconv.ParseFloat(t.String(), 64); err != nil {
				bad = "number out of range"
			}
		}
	}
	walk(v, 1)
	if bad != "" {
		return nil, &validationError{Type: "value_error", Loc: loc, Msg: "Value error, " + bad, Input: nil}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &validationError{Type: "value_error", Loc: loc, Msg: "Value error, " + err.Error(), Input: nil}
	}
	return b, nil
}

// saQueueSchoolsFound queues the look-up of the given schools; found gets the
// wriveted identifiers that exist.
func saQueueSchoolsFound(b *pgx.Batch, wids []uuid.UUID, found map[uuid.UUID]bool) {
	b.Queue(queries.ServiceAccountSchoolsFound, wids).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var w uuid.UUID
				if err := rows.Scan(&w); err != nil {
					return err
				}
				found[w] = true
			}
			return rows.Err()
		})
}

// saFirstMissingSchool is the first school of the input that does not exist.
func saFirstMissingSchool(wids []uuid.UUID, found map[uuid.UUID]bool) error {
	for _, w := range wids {
		if !found[w] {
			return errSchoolNotFound(w)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// POST /service-account

func (s *Server) postServiceAccount(c echo.Context) error {
	ctx := c.Request().Context()
	var in serviceAccountCreateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	w, err := saWrite(&in.Name, &in.Type, in.Info, in.Schools, true)
	if err != nil {
		return err
	}
	ident := identityOf(ctx)
	id := uuid.New()
	var out serviceAccountBrief
	found := map[uuid.UUID]bool{}
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		// One round trip: the schools' existence, the account, its links and
		// the event; an unknown school rolls everything back.
		b := &pgx.Batch{}
		saQueueSchoolsFound(b, w.schools, found)
		b.Queue(queries.InsertServiceAccount, id, *w.name, w.typ, w.info).
			QueryRow(func(r pgx.Row) error {
				var typ string
				if err := r.Scan(&out.ID, &out.Name, &typ, &out.IsActive); err != nil {
					return err
				}
				out.Type = lower(typ)
				return nil
			})
		b.Queue(queries.LinkServiceAccountSchools, id, w.schools)
		userID, saID := actor(ident)
		b.Queue(queries.RecordServiceAccountEvent, "Service account created",
			fmt.Sprintf("Service account '%s' created by '%s'", *w.name, ident.Account.Name), userID, saID)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		return saFirstMissingSchool(w.schools, found)
	})
	if err != nil {
		return dataExceptionError(err)
	}
	s.accounts.forget(id)
	t, err := s.issue(auth.KindServiceAccount, id, auth.ServiceAccountTokenTTL)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, serviceAccountCreated{serviceAccountBrief: out, AccessToken: t})
}

// ---------------------------------------------------------------------------
// PUT /service-account/{service_account_id}

func (s *Server) putServiceAccount(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "service_account_id")
	if err != nil {
		return err
	}
	var in serviceAccountUpdateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	w, err := saWrite(valueOf(in.Name), nil, in.Info, in.Schools, false)
	if err != nil {
		return err
	}
	var (
		d       *serviceAccountDetail
		updated bool
		found   = map[uuid.UUID]bool{}
	)
	err = db.InTx(ctx, s.pool, identityOf(ctx).Claims, func(tx *db.Tx) error {
		// One round trip: the update (which locks the account, so concurrent
		// replacements of its school set serialise), the new school set and
		// the detail read back. A missing account or school rolls it back.
		b := &pgx.Batch{}
		if w.schoolsSet {
			saQueueSchoolsFound(b, w.schools, found)
		}
		b.Queue(queries.UpdateServiceAccount, id, w.name, w.infoSet, w.info).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				updated = true
			}
			return rows.Err()
		})
		if w.schoolsSet {
			b.Queue(queries.UnlinkServiceAccountSchools, id)
			b.Queue(queries.LinkServiceAccountSchools, id, w.schools)
		}
		queueServiceAccountDetail(b, id, &d)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if !updated || d == nil {
			return errServiceAccountNotFound(id)
		}
		return saFirstMissingSchool(w.schools, found)
	})
	if err != nil {
		return dataExceptionError(err)
	}
	s.accounts.forget(id)
	return c.JSON(http.StatusOK, d)
}

// ---------------------------------------------------------------------------
// DELETE /service-account/{service_account_id} — Wriveted admin users only
// (SUPERUSER); the account is deactivated, its row kept.

func (s *Server) deleteServiceAccount(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "service_account_id")
	if err != nil {
		return err
	}
	ident := identityOf(ctx)
	var (
		out   serviceAccountBrief
		found bool
	)
	userID, _ := actor(ident)
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		b := &pgx.Batch{}
		b.Queue(queries.DeactivateServiceAccount, id).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var typ string
				if err := rows.Scan(&out.ID, &out.Name, &typ, &out.IsActive); err != nil {
					return err
				}
				out.Type, found = lower(typ), true
			}
			return rows.Err()
		})
		// The one event that names both accounts (domain.md §10.1): the
		// deleting admin and the deleted account.
		b.Queue(queries.RecordServiceAccountDeleted, id, ident.Account.Name, userID)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if !found {
			return errServiceAccountNotFound(id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.accounts.forget(id)
	return c.JSON(http.StatusOK, out)
}
