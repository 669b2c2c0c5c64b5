package api

// "Why was this refused?" (issue 16 item 3). Every 403 refusing access
// carries a decision_id, in its body and in the one log line the refusal
// writes (with the request id, the account, the action, the resource and
// the ACL entry that matched; never a token or claims). Admins read the
// recorded decision with GET /v1/decisions/{decision_id} for
// decisionRetention (in memory, at most maxDecisions of them), and ask
// POST /v1/explain what the policy and row security would answer an
// account, without reading code. The caller of a refused request sees only
// the terse detail it always saw, and the id.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/account"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Recorded decisions are kept this long, at most this many (the oldest go
// first); each is well under 1 KB.
const (
	decisionRetention = 24 * time.Hour
	maxDecisions      = 20_000
)

// Where a refusal was decided.
const (
	layerPolicy  = "policy"  // an entry of a Rego ACL
	layerHandler = "handler" // after the policy allowed: row security refused the write, or a field rule of the handler
)

// decisionRecord is one refusal as support reads it.
type decisionRecord struct {
	ID          string          `json:"decision_id"`
	Time        time.Time       `json:"time"`
	RequestID   string          `json:"request_id"`
	Route       string          `json:"route"`
	AccountID   string          `json:"account_id,omitempty"`
	AccountKind string          `json:"account_kind"`
	Principals  []string        `json:"principals"`
	Action      string          `json:"action,omitempty"`
	Resource    *resourceView   `json:"resource,omitempty"`
	Allowed     bool            `json:"allowed"`
	DecidedBy   string          `json:"decided_by"`
	Entry       *policies.Entry `json:"entry,omitempty"`
	Status      int             `json:"status"`
	Detail      any             `json:"detail"`
}

// resourceView is a policies.Resource as JSON.
type resourceView struct {
	Type  string            `json:"type"`
	ID    string            `json:"id"`
	Attrs map[string]string `json:"attrs"`
}

func viewOf(r policies.Resource) *resourceView {
	attrs := r.Attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	return &resourceView{Type: r.Type, ID: r.ID, Attrs: attrs}
}

// policyRefusal is a policy refusal on its way to the error handler, which adds
// the request's id and route, records it and logs it.
type policyRefusal struct {
	action   string
	resource policies.Resource
	entry    *policies.Entry // nil: the engine could not name it
}

// decisionStore keeps recent refusals, bounded in number and age.
type decisionStore struct {
	mu    sync.Mutex
	byID  map[string]*decisionRecord
	order []string // oldest first
	max   int
	ttl   time.Duration
	now   func() time.Time
}

func newDecisionStore(maxN int, ttl time.Duration, now func() time.Time) *decisionStore {
	return &decisionStore{byID: map[string]*decisionRecord{}, max: maxN, ttl: ttl, now: now}
}

func (st *decisionStore) put(r *decisionRecord) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire()
	for len(st.order) >= st.max {
		delete(st.byID, st.order[0])
		st.order = st.order[1:]
	}
	st.byID[r.ID] = r
	st.order = append(st.order, r.ID)
}

func (st *decisionStore) get(id string) (*decisionRecord, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire()
	r, ok := st.byID[id]
	return r, ok
}

// expire drops the records older than ttl; st.mu is held.
func (st *decisionStore) expire() {
	cut := st.now().Add(-st.ttl)
	n := 0
	for n < len(st.order) && st.byID[st.order[n]].Time.Before(cut) {
		delete(st.byID, st.order[n])
		n++
	}
	if n > 0 {
		st.order = append(st.order[:0:0], st.order[n:]...)
	}
}

// newDecisionID is a random, unguessable id ("dec_" + 24 hex digits).
func newDecisionID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "dec_" + hex.EncodeToString(b)
}

// explainer is the part of the policy engine that names entries
// (policies.Engine); a decider without it refuses without naming one.
type explainer interface {
	Explain(ctx context.Context, in policies.Input) (policies.Decision, error)
}

// refuse is the 403 of a policy refusal of action on res, with the entry
// that decided when the engine can name it.
func (s *Server) refuse(ctx context.Context, res policies.Resource, action string, detail refusal) *apiError {
	rf := &policyRefusal{action: action, resource: res}
	if x, ok := s.opts.Policies.(explainer); ok {
		d, err := x.Explain(ctx, policies.Input{Principals: identityOf(ctx).Principals, Action: action, Resource: res})
		if err == nil {
			rf.entry = &d.Entry
		} else {
			s.logger.LogAttrs(ctx, slog.LevelWarn, "explain_failed", slog.String("error", err.Error()))
		}
	}
	ae := httpError(http.StatusForbidden, detail)
	if detail == msgInsufficientPerms {
		ae = ae.withBearerChallenge()
	}
	ae.denied = rf
	return ae
}

// recordRefusals wraps the error handler: a 403 refusing access (not a bad
// token) is given a decision id, recorded and logged once.
func (s *Server) recordRefusals(next echo.HTTPErrorHandler) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || ae.DecisionID != "" ||
			ae.Code == msgCredentials.code || c.Response().Committed {
			next(err, c)
			return
		}
		cp := *ae
		cp.DecisionID = newDecisionID()
		s.record(c, &cp)
		next(&cp, c)
	}
}

// record stores and logs the refusal ae answers to c's request.
func (s *Server) record(c echo.Context, ae *apiError) {
	ctx := c.Request().Context()
	id := identityOf(ctx)
	r := &decisionRecord{
		ID: ae.DecisionID, Time: s.now().UTC(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Route: c.Request().Method + " " + c.Path(), AccountKind: accountKind(id.Account),
		Principals: id.Principals.List(), DecidedBy: layerHandler, Status: ae.Status, Detail: ae.Detail,
	}
	if !id.Anonymous() {
		r.AccountID = id.Account.ID.String()
	}
	attrs := []slog.Attr{
		slog.String("decision_id", r.ID), slog.String("request_id", r.RequestID), slog.String("route", r.Route),
		slog.String("account_id", r.AccountID), slog.String("account_kind", r.AccountKind),
	}
	if rf := ae.denied; rf != nil {
		r.DecidedBy, r.Action, r.Resource, r.Entry = layerPolicy, rf.action, viewOf(rf.resource), rf.entry
		attrs = append(attrs, slog.String("action", rf.resource.Type+"."+rf.action), slog.String("resource_id", rf.resource.ID))
		if rf.entry != nil {
			attrs = append(attrs, slog.String("entry", rf.entry.String()), slog.String("entry_comment", rf.entry.Comment))
		}
	} else if p, _ := c.Get(declaredKey).(*pending); p != nil {
		// the route's declared decision, which the policy allowed or which was not reached
		r.Action, r.Resource = p.check.action, viewOf(policies.Resource{Type: p.check.typ})
		attrs = append(attrs, slog.String("action", p.check.typ+"."+p.check.action))
	}
	attrs = append(attrs, slog.String("decided_by", r.DecidedBy))
	s.refusals.put(r)
	s.logger.LogAttrs(ctx, slog.LevelInfo, "denied", attrs...)
}

// accountKind names an account's kind as the access matrix does.
func accountKind(a Account) string {
	switch {
	case a.Kind == "":
		return "anonymous"
	case a.Kind == account.KindServiceAccount:
		return "service account " + a.ServiceType
	}
	return "user " + a.UserType
}

// getDecision answers GET /v1/decisions/{decision_id}: a recorded refusal.
func (s *Server) getDecision(c echo.Context) error {
	r, ok := s.refusals.get(c.Param("decision_id"))
	if !ok {
		return httpError(http.StatusNotFound, msgDecisionNotFound.format(decisionRetention.String()))
	}
	return c.JSON(http.StatusOK, r)
}

// explainRequest is POST /v1/explain's body.
type explainRequest struct {
	AccountID string `json:"account_id"`
	Action    string `json:"action"`
	Resource  struct {
		Type  string            `json:"type"`
		ID    string            `json:"id"`
		Attrs map[string]string `json:"attrs"`
	} `json:"resource"`
}

// explanation is POST /v1/explain's answer.
type explanation struct {
	AccountID   string          `json:"account_id"`
	AccountKind string          `json:"account_kind"`
	Active      bool            `json:"active"`
	Principals  []string        `json:"principals"`
	Action      string          `json:"action"`
	Resource    *resourceView   `json:"resource"`
	Exists      *bool           `json:"exists,omitempty"`
	Allowed     bool            `json:"allowed"`
	Entry       *policies.Entry `json:"entry,omitempty"`
	RowVisible  *bool           `json:"row_visible,omitempty"`
	Note        string          `json:"note,omitempty"`
}

// lookupFn queues, under the explained account's claims, what a route's
// door reads for the instance raw names (a URL's id); finish gives the
// resource as the policy sees it, or false when it does not exist.
type lookupFn func(b batchQueuer, raw string) (finish func() (policies.Resource, bool), err error)

// doorLookup is the lookup of a route's door.
func doorLookup[K, A any](d door[K, A], parse func(string) (K, error)) lookupFn {
	return func(b batchQueuer, raw string) (func() (policies.Resource, bool), error) {
		key, err := parse(raw)
		if err != nil {
			return nil, err
		}
		var a A
		d.attrs(b, key, &a)
		return func() (policies.Resource, bool) {
			if !d.found(a) {
				return policies.Resource{}, false
			}
			return d.resource(key, a), true
		}, nil
	}
}

func parseInt64(raw string) (int64, error) { return strconv.ParseInt(raw, 10, 64) }

// instanceLookups are the instance types explain looks up: the doors the
// routes use, and the table whose row security decides visibility.
var instanceLookups = map[string]struct {
	lookup  lookupFn
	visible string // schema/queries/support.sql: SELECT EXISTS … WHERE key = $1 (text)
}{
	resSchool:         {doorLookup(schoolDoor, uuid.Parse), queries.SchoolRowVisible},
	resUser:           {doorLookup(userDoor, uuid.Parse), queries.UserRowVisible},
	resBooklist:       {doorLookup(booklistDoor, uuid.Parse), queries.BooklistRowVisible},
	resCollection:     {doorLookup(collectionDoor, uuid.Parse), queries.CollectionRowVisible},
	resCollectionItem: {doorLookup(collectionItemDoor, parseInt64), queries.CollectionItemRowVisible},
	resClass: {func(b batchQueuer, raw string) (func() (policies.Resource, bool), error) {
		id, err := uuid.Parse(raw)
		if err != nil {
			return nil, err
		}
		var a classAttrs
		queueClassAttrs(b, id, &a)
		return func() (policies.Resource, bool) {
			if !a.found {
				return policies.Resource{}, false
			}
			r := policies.Resource{Type: resClass, ID: id.String(), Attrs: map[string]string{"school_id": ""}}
			if a.schoolID != nil {
				r = classResource(id, *a.schoolID)
			}
			return r, true
		}, nil
	}, queries.ClassRowVisible},
	resEvent: {func(b batchQueuer, raw string) (func() (policies.Resource, bool), error) {
		id, err := uuid.Parse(raw)
		if err != nil {
			return nil, err
		}
		t := &feedbackTarget{id: id}
		b.Queue(queries.ExplainEventAttrs, id).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&t.title, &t.schoolID, &t.readerID, &t.supported); err != nil {
					return err
				}
				t.found = true
			}
			return rows.Err()
		})
		return func() (policies.Resource, bool) { return t.resource(), t.found }, nil
	}, queries.EventRowVisible},
}

// explainAccount loads the account id names (a user, else a service
// account) as authentication would, with its principals and claims.
func (s *Server) explainAccount(ctx context.Context, id uuid.UUID) (*Identity, error) {
	for _, kind := range []auth.Kind{auth.KindUser, auth.KindServiceAccount} {
		sub := auth.Subject{Kind: kind, ID: id}
		a, err := loadAccount(ctx, s.pool, sub)
		if errors.Is(err, errNoAccount) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return identityFor(a, auth.Token{Subject: sub}), nil
	}
	return nil, httpError(http.StatusNotFound, msgExplainNoSuchAccount)
}

// postExplain answers POST /v1/explain: for an account, an action and a
// resource, the policy's decision with the entry that matched and, for one
// instance, whether the row exists and whether row security shows it to
// that account — everything support needs to answer "why was this
// refused?" without reading code.
func (s *Server) postExplain(c echo.Context) error {
	var req explainRequest
	if err := c.Bind(&req); err != nil {
		return invalid([]any{"body"}, "Expected {account_id, action, resource: {type, id, attrs}}", nil)
	}
	aid, err := uuid.Parse(req.AccountID)
	if err != nil {
		return invalid([]any{"body", "account_id"}, "Input should be a valid UUID", req.AccountID)
	}
	if req.Action == "" || req.Resource.Type == "" {
		return invalid([]any{"body"}, "action and resource.type are required", nil)
	}
	ctx := c.Request().Context()
	who, err := s.explainAccount(ctx, aid)
	if err != nil {
		return err
	}
	res := policies.Resource{Type: req.Resource.Type, ID: req.Resource.ID, Attrs: req.Resource.Attrs}
	out := explanation{AccountID: aid.String(), AccountKind: accountKind(who.Account), Active: who.Account.IsActive,
		Principals: who.Principals.List(), Action: req.Action}
	if lk, ok := instanceLookups[res.Type]; ok && req.Resource.ID != "" && req.Resource.Attrs == nil {
		var finish func() (policies.Resource, bool)
		var visible bool
		var perr error
		err = db.Read(ctx, s.pool, who.Claims, func(b *pgx.Batch) {
			if finish, perr = lk.lookup(b, req.Resource.ID); perr != nil {
				return
			}
			b.Queue(lk.visible, req.Resource.ID).QueryRow(func(row pgx.Row) error { return row.Scan(&visible) })
		})
		if perr != nil {
			return invalid([]any{"body", "resource", "id"}, "Not an id of a "+res.Type, req.Resource.ID)
		}
		if err != nil {
			return err
		}
		r, found := finish()
		if found {
			res = r
		}
		out.Exists, out.RowVisible = &found, &visible
		switch {
		case !found:
			out.Note = "no such " + res.Type + ": the route answers 404 before any policy decides"
		case !visible:
			out.Note = "the row exists but row security hides it from this account: reads answer 404 or an empty list even when the policy allows"
		}
	} else if req.Resource.Attrs == nil && req.Resource.ID != "" {
		out.Note = "attributes are not looked up for this type; pass resource.attrs as the route's door would"
	}
	if !who.Account.IsActive {
		out.Note = "the account is inactive: authentication refuses it (400) before any policy decides"
	}
	out.Resource = viewOf(res)
	x, ok := s.opts.Policies.(explainer)
	if !ok {
		allowed, err := s.policies.Allow(ctx, policies.Input{Principals: who.Principals, Action: req.Action, Resource: res})
		if err != nil {
			return err
		}
		out.Allowed = allowed
		return c.JSON(http.StatusOK, out)
	}
	d, err := x.Explain(ctx, policies.Input{Principals: who.Principals, Action: req.Action, Resource: res})
	if err != nil {
		return &policyError{err}
	}
	out.Allowed, out.Entry = d.Allowed, &d.Entry
	return c.JSON(http.StatusOK, out)
}
