package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/db"
)

// Every route declares its decision in the route table (api.go), through
// the table's methods, which take exactly one decision per route:
//
//   - s.allow / s.guard: the route-level ACL of a resource type decides, as
//     middleware, before the handler runs.
//   - onInstance: the ACL of one instance decides, in the handler, because
//     the instance's attributes travel in the same database round trip as
//     its data (DECISIONS §4). The handler takes the declared action through
//     a door (door.open / door.decide) or declaredAction; it never names the
//     action itself. A handler that answers 2xx without taking its declared
//     decision is logged as decision_not_taken (the tests fail on it).
//   - whenNamed: as onInstance, for routes whose request may name an
//     instance (a filter, a body field); without one no instance decides.
//   - public / selfOnly: no policy decides, with the reason why.
//
// A type-level decision may be followed by an instance decision (.and).

// Resource types: each is the Rego package huey.resource.<type> under
// policies/ (TestRouteDecisions checks both ways).
const (
	resSchool          = "school"
	resSchools         = "schools"
	resUser            = "user"
	resUsers           = "users"
	resServiceAccounts = "service_accounts"
	resClass           = "class"
	resClasses         = "classes"
	resBooklist        = "book_list"
	resBooklists       = "book_lists"
	resCollection      = "collection"
	resCollectionItem  = "collection_item"
	resEvent           = "event"
	resEvents          = "events"
	resWorks           = "works"
	resEditions        = "editions"
	resLabelsets       = "labelsets"
	resDecisions       = "decisions"
)

// resourceTypes lists the constants above.
var resourceTypes = []string{resSchool, resSchools, resUser, resUsers, resServiceAccounts, resClass, resClasses,
	resBooklist, resBooklists, resCollection, resCollectionItem, resEvent, resEvents, resWorks, resEditions, resLabelsets, resDecisions}

type decisionKind int

const (
	decideNone     decisionKind = iota // public or selfOnly
	decideType                         // route-level ACL, as middleware
	decideInstance                     // one instance's ACL, in the handler
	decideNamed                        // one instance's ACL, when the request names one
)

// check is one policy question: an action on a resource type.
type check struct {
	typ, action string
}

// decision is a route's declared decision.
type decision struct {
	kind     decisionKind
	route    *check              // the route-level question (decideType, or before an instance)
	instance *check              // the instance-level question the handler takes
	message  *refusal            // route-level 403 message; nil is Insufficient permissions
	guard    echo.MiddlewareFunc // a route-level guard of its own (service accounts)
	reason   string              // why no policy decides (public, selfOnly) or when (whenNamed)
	self     bool                // selfOnly
}

// allow: the caller's principals must be allowed action on the resource type
// (access.md §7). A denial is 403; an evaluation error is a 500.
func (s *Server) allow(resourceType, action string) decision {
	return decision{kind: decideType, route: &check{resourceType, action}}
}

// guard is allow for the original's coarse guards (ADMIN, SUPERUSER): a
// denial answers 403 with the guard's own message (api.md §0.2).
func (s *Server) guard(resourceType, action string, message refusal) decision {
	return decision{kind: decideType, route: &check{resourceType, action}, message: &message}
}

// onInstance: the handler decides action on the one instance of
// resourceType the path names.
func onInstance(resourceType, action string) decision {
	return decision{kind: decideInstance, instance: &check{resourceType, action}}
}

// whenNamed: the handler decides action on the instance of resourceType the
// request names, if it names one (reason says where).
func whenNamed(resourceType, action, reason string) decision {
	return decision{kind: decideNamed, instance: &check{resourceType, action}, reason: reason}
}

// public: no policy decides; anyone the route's authentication admits may call it.
func public(reason string) decision { return decision{kind: decideNone, reason: reason} }

// selfOnly: no policy decides; the route acts only on the caller's own account.
func selfOnly(reason string) decision { return decision{kind: decideNone, reason: reason, self: true} }

// and follows a route-level decision by the handler's decision on one instance.
func (d decision) and(resourceType, action string) decision {
	d.kind, d.instance = decideInstance, &check{resourceType, action}
	return d
}

// checks lists the policy questions d declares.
func (d decision) checks() []check {
	var out []check
	if d.route != nil {
		out = append(out, *d.route)
	}
	if d.instance != nil {
		out = append(out, *d.instance)
	}
	return out
}

// String describes d, for the route listing of the tests.
func (d decision) String() string {
	switch {
	case d.kind == decideNone && d.self:
		return "self-only: " + d.reason
	case d.kind == decideNone:
		return "public: " + d.reason
	}
	s := ""
	if d.route != nil {
		s = d.route.typ + "." + d.route.action
	}
	if d.instance != nil {
		if s != "" {
			s += " then "
		}
		s += "instance " + d.instance.typ + "." + d.instance.action
		if d.kind == decideNamed {
			s += " when named (" + d.reason + ")"
		}
	}
	return s
}

// ---------------------------------------------------------------------------
// The route table.

// router is what both echo.Echo and echo.Group offer.
type router interface {
	Add(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// table registers routes with their decisions: authentication first, then
// the decision, then the route's other middleware (validation).
type table struct {
	s *Server
	r router
}

func (s *Server) table(r router) table { return table{s: s, r: r} }

// add registers one route; authn may be nil (a route that reads no token).
func (t table) add(method, path string, h echo.HandlerFunc, authn echo.MiddlewareFunc, d decision, after ...echo.MiddlewareFunc) {
	mw := make([]echo.MiddlewareFunc, 0, len(after)+2)
	if authn != nil {
		mw = append(mw, authn)
	}
	mw = append(mw, t.s.decide(d))
	mw = append(mw, after...)
	rt := t.r.Add(method, path, h, mw...)
	t.s.decisions[rt.Method+" "+rt.Path] = d
}

func (t table) GET(path string, h echo.HandlerFunc, authn echo.MiddlewareFunc, d decision, after ...echo.MiddlewareFunc) {
	t.add(http.MethodGet, path, h, authn, d, after...)
}

func (t table) POST(path string, h echo.HandlerFunc, authn echo.MiddlewareFunc, d decision, after ...echo.MiddlewareFunc) {
	t.add(http.MethodPost, path, h, authn, d, after...)
}

func (t table) PUT(path string, h echo.HandlerFunc, authn echo.MiddlewareFunc, d decision, after ...echo.MiddlewareFunc) {
	t.add(http.MethodPut, path, h, authn, d, after...)
}

func (t table) PATCH(path string, h echo.HandlerFunc, authn echo.MiddlewareFunc, d decision, after ...echo.MiddlewareFunc) {
	t.add(http.MethodPatch, path, h, authn, d, after...)
}

func (t table) DELETE(path string, h echo.HandlerFunc, authn echo.MiddlewareFunc, d decision, after ...echo.MiddlewareFunc) {
	t.add(http.MethodDelete, path, h, authn, d, after...)
}

// ---------------------------------------------------------------------------
// Taking the decisions.

// declaredKey is the echo.Context key of the request's pending instance decision.
const declaredKey = "huey.declared"

// pending is a route's instance decision, until its handler takes it.
type pending struct {
	check check
	taken bool
}

// decide is the middleware of a declaration: a route-level decision is
// taken here; an instance decision is left pending for the handler.
func (s *Server) decide(d decision) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := s.decideRoute(c, d); err != nil {
				return err
			}
			if d.instance == nil {
				return next(c)
			}
			p := &pending{check: *d.instance}
			c.Set(declaredKey, p)
			err := next(c)
			if d.kind == decideInstance && !p.taken && err == nil && c.Response().Status < http.StatusBadRequest {
				s.logger.LogAttrs(c.Request().Context(), slog.LevelError, "decision_not_taken",
					slog.String("route", c.Request().Method+" "+c.Path()), slog.String("decision", d.String()))
			}
			return err
		}
	}
}

// decideRoute takes d's route-level decision, if it has one.
func (s *Server) decideRoute(c echo.Context, d decision) error {
	switch {
	case d.guard != nil:
		return d.guard(func(echo.Context) error { return nil })(c)
	case d.route == nil:
		return nil
	case d.message == nil:
		return s.check(c.Request().Context(), policies.Resource{Type: d.route.typ}, d.route.action)
	}
	ok, err := s.may(c.Request().Context(), policies.Resource{Type: d.route.typ}, d.route.action)
	if err != nil {
		return err
	}
	if !ok {
		return s.refuse(c.Request().Context(), policies.Resource{Type: d.route.typ}, d.route.action, *d.message)
	}
	return nil
}

// errUndeclared is a handler deciding on a resource type its route does not
// declare: a defect of the route table, answered 500.
var errUndeclared = errors.New("route declares no decision on this resource type")

// declaredAction returns the action the route declares on resourceType and
// marks the decision taken; the caller decides it.
func declaredAction(c echo.Context, resourceType string) (string, error) {
	p, _ := c.Get(declaredKey).(*pending)
	if p == nil || p.check.typ != resourceType {
		return "", fmt.Errorf("%s %s on %q: %w", c.Request().Method, c.Path(), resourceType, errUndeclared)
	}
	p.taken = true
	return p.check.action, nil
}

// ---------------------------------------------------------------------------
// Doors: the generic way to one resource.

// door is how a route reaches one instance of a resource type: the path
// parameter naming it, its attribute look-up (a narrow SECURITY DEFINER
// function, queued in the batch of the data), the resource the policy sees
// and the 404 of a missing one. K is the instance's key, A its attributes.
type door[K, A any] struct {
	typ      string
	param    string
	parse    func(c echo.Context, name string) (K, error)
	attrs    func(b batchQueuer, key K, out *A)
	found    func(A) bool
	resource func(key K, a A) policies.Resource
	notFound func(key K) error
}

// open decides the route's declared action on the instance the path names:
// its attributes and queue's reads (nil: none) travel in one batch, one
// round trip, and the policy decides before anything is returned. 422 for
// a bad key, 404 when missing, 403 when refused.
func (d door[K, A]) open(s *Server, c echo.Context, queue func(b *pgx.Batch, key K)) (K, A, error) {
	var a A
	key, err := d.parse(c, d.param)
	if err != nil {
		return key, a, err
	}
	ctx := c.Request().Context()
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		d.attrs(b, key, &a)
		if queue != nil {
			queue(b, key)
		}
	})
	if err != nil {
		return key, a, err
	}
	return key, a, d.decide(s, c, key, a)
}

// decide takes the route's declared decision on an instance whose
// attributes the handler read itself (with the door's attrs).
func (d door[K, A]) decide(s *Server, c echo.Context, key K, a A) error {
	action, err := declaredAction(c, d.typ)
	if err != nil {
		return err
	}
	return d.decideAs(s, c.Request().Context(), key, a, action)
}

// decideAs decides action on an instance: 404 when missing, 403 when
// refused. Handlers call it only for a decision beyond their route's
// declared one (a second resource the request names, a field-level check).
func (d door[K, A]) decideAs(s *Server, ctx context.Context, key K, a A, action string) error {
	if !d.found(a) {
		return d.notFound(key)
	}
	return s.check(ctx, d.resource(key, a), action)
}
