// Package api is the HTTP layer of the public API: the route table, the
// middleware chain and the handlers. It is the only package that knows Echo.
//
// Request path, one direction only: route → authenticate → policy decision
// (policies) → request validation → claims transaction (schema/db) → JSON.
// No handler queries the pool outside db.Read / db.InTx.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/auth"
)

// decider is the policy engine as the API sees it.
type decider interface {
	Allow(ctx context.Context, in policies.Input) (bool, error)
}

// tokenService issues and verifies the API's own tokens and publishes the
// public keys others verify them with.
type tokenService interface {
	auth.Signer
	auth.Verifier
	JWKS() ([]byte, error)
}

// Options are everything the API server depends on.
type Options struct {
	Pool              *pgxpool.Pool
	Logger            *slog.Logger
	Policies          decider
	Tokens            tokenService
	Firebase          FirebaseVerifier // nil: the Firebase exchange answers 503
	Hydrator          Hydrator         // nil: GET /v1/hydrate/{isbn} answers 503 (NIELSEN_API_URL unset)
	PrincipalCacheTTL time.Duration
	Version           string
	Commit            string
	CloudRunRevision  string
	CORSOrigins       []string
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// ClassCodeRate is how many failed class-code attempts (wrong code,
	// unknown username or school) one address may make in 10 minutes before
	// it is answered 429 until the window ends; zero means 30. A username
	// may fail 10 times per window whatever the address. Successes never
	// count (R2).
	ClassCodeRate float64
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// (TRUSTED_PROXIES); none: the connecting address is the client's.
	TrustedProxies []*net.IPNet
	// RequestTimeout bounds each request (its context's deadline, which pgx
	// honours by cancelling the statement); zero means no deadline.
	RequestTimeout time.Duration
	// Accounts is the principal cache, with its change listener run by the
	// caller (AccountCache.Listen); nil means a cache without a listener,
	// whose entries live min(PrincipalCacheTTL, FallbackPrincipalTTL).
	Accounts *AccountCache
}

// Server holds the API's dependencies.
type Server struct {
	pool     *pgxpool.Pool
	logger   *slog.Logger
	policies decider
	tokens   tokenService
	verifier auth.Verifier // tokens, behind a cache of verified tokens
	firebase FirebaseVerifier
	accounts *AccountCache
	login    *loginGuard // failed class-code attempts (R2)
	now      func() time.Time
	opts     Options
	// decisions are the routes' declared decisions, by "METHOD path".
	decisions map[string]decision
	// refusals are the recent 403s, by decision id (decisions.go).
	refusals *decisionStore
}

// Verified tokens are remembered for verifiedTokenTTL (never past their exp),
// at most maxVerifiedTokens of them (~200 bytes each).
const (
	verifiedTokenTTL  = 5 * time.Minute
	maxVerifiedTokens = 20_000
)

// maxBody bounds request bodies: an LMS pushing 10 000 books sends ~2 MB.
const maxBody = "32M"

// originRegex is the original's allowed-origin pattern (api.md §0.1).
var originRegex = regexp.MustCompile(`^((https://wriveted.*web\.app)|(https://huey-books.*web\.app))$`)

// New builds the Echo instance with every route and middleware.
func New(opts Options) *echo.Echo {
	_, e := newServer(opts)
	return e
}

// newServer is New with the Server, whose decisions the tests read.
func newServer(opts Options) (*Server, *echo.Echo) {
	s := &Server{
		pool: opts.Pool, logger: opts.Logger, policies: policyErrors{opts.Policies}, tokens: opts.Tokens,
		verifier: auth.NewVerifyCache(opts.Tokens, verifiedTokenTTL, maxVerifiedTokens),
		firebase: opts.Firebase, accounts: opts.Accounts,
		now: opts.Now, opts: opts, decisions: map[string]decision{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.refusals = newDecisionStore(maxDecisions, decisionRetention, s.now)
	if s.accounts == nil {
		s.accounts = NewAccountCache(opts.PrincipalCacheTTL)
	}
	failures := int(opts.ClassCodeRate)
	if failures <= 0 {
		failures = 30
	}
	s.login = newLoginGuard(failures, min(10, failures), 10*time.Minute, s.now)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ipExtractor(opts.TrustedProxies)
	e.HTTPErrorHandler = s.recordRefusals(errorHandler(opts.Logger))
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}))
	e.Use(requestLogger(opts.Logger))
	// A panic is answered 500 and logged once, by errorHandler, as
	// internal_panic with the request id and the panicking goroutine's stack.
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: recovered}))
	e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOriginFunc: func(origin string) (bool, error) {
			return slices.Contains(opts.CORSOrigins, origin) || originRegex.MatchString(origin), nil
		},
		AllowCredentials: true,
		AllowMethods:     []string{"*"},
		AllowHeaders:     []string{"*"},
		ExposeHeaders:    []string{echo.HeaderXRequestID},
		MaxAge:           int((10 * time.Minute).Seconds()),
	}))
	e.Use(middleware.BodyLimit(maxBody))
	e.Use(rejectHostileInput)
	e.Use(requestDeadline(opts.RequestTimeout))
	s.routes(e)
	return s, e
}

// routes is the route table: every route, its authentication, its declared
// decision (decision.go: a route-level policy, an instance decision its
// handler takes through a door, or public / self-only with a reason) and its
// handler. Instance-level decisions (one school, one user) are taken inside
// the handler, with attributes read in the same round trip as the data.
func (s *Server) routes(e *echo.Echo) {
	anyone := s.authenticate(false)
	authed := s.authenticate(true)
	// Request validation against the OpenAPI document runs after the
	// route's policy decision (DECISIONS §4); handlers that decide on one
	// resource call s.validateRequest themselves after their decision.
	val := s.validated()
	root := s.table(e)
	s.docRoutes(root)

	v1 := s.table(e.Group("/v1"))
	v1.GET("/version", s.getVersion, anyone, public("the service's version"), val)
	v1.GET("/healthcheck/db", s.getHealthDB, anyone, public("the database health check"), val)
	v1.GET("/.well-known/security.txt", getSecurityTxt, anyone, public("the security contact (RFC 9116)"), val)
	root.GET("/.well-known/security.txt", getSecurityTxt, anyone, public("the security contact (RFC 9116)"), val)
	root.GET("/.well-known/jwks.json", s.getJWKS, anyone, public("the keys tokens are verified with"), val)
	redirect := func(c echo.Context) error { return c.Redirect(http.StatusTemporaryRedirect, "/v1/docs") }
	root.GET("/", redirect, nil, public("a redirect to the documentation"), val)
	root.GET("/docs", redirect, nil, public("a redirect to the documentation"), val)

	// Authentication (api.md §2.2)
	v1.GET("/auth/firebase", s.getAuthFirebase, nil, public("the Firebase ID token it exchanges is the credential"), val)
	v1.GET("/auth/me", s.getAuthMe, authed, selfOnly("the caller's own account"), val)
	v1.POST("/auth/class-code", s.postClassCode, anyone, public("the class code is the credential, failures rate-limited (R2)"), val)
	v1.POST("/auth/register-student", s.postRegisterStudent, anyone, public("the class join code is the credential"), val)
	v1.POST("/user/:user_id/auth-token", s.postUserAuthToken, authed, onInstance(resUser, "magic-link"), val)

	// Schools (api.md §2.5)
	v1.GET("/schools", s.getSchools, authed, s.allow(resSchools, "read"), val)
	v1.POST("/schools", s.postSchools, authed, s.allow(resSchools, "batch"), val)
	v1.POST("/school", s.postSchool, authed, s.allow(resSchools, "create"), val)
	v1.GET("/school/:wriveted_identifier/exists", s.getSchoolExists, anyone, public("answers only whether a school exists (onboarding)"), val)
	v1.GET("/school/:wriveted_identifier", s.getSchool, authed, onInstance(resSchool, "read"), val)
	v1.GET("/school/:wriveted_identifier/bot", s.getSchoolBot, authed, onInstance(resSchool, "read"), val)
	v1.GET("/school/:wriveted_identifier/bookbot", s.getSchoolBookbot, authed, onInstance(resSchool, "read"), val)
	v1.PATCH("/school/:wriveted_identifier/admin", s.patchSchoolAdmin, authed, onInstance(resSchool, "bind"), val)
	v1.PATCH("/school/:wriveted_identifier", s.patchSchool, authed, onInstance(resSchool, "update")) // validates after its decision
	v1.DELETE("/school/:wriveted_identifier", s.deleteSchool, authed, onInstance(resSchool, "delete"), val)

	// Users (api.md §2.3)
	v1.GET("/users", s.getUsers, authed, s.guard(resUsers, "read", msgInsufficientPrivs), val)
	v1.POST("/user", s.postUser, authed, s.guard(resUsers, "create", msgInsufficientPrivs), val)
	v1.GET("/user/:user_id", s.getUser, authed, onInstance(resUser, "details"), val)
	v1.PATCH("/user/:user_id", s.patchUser, authed, onInstance(resUser, "update")) // validates after its decision
	v1.DELETE("/user/:user_id", s.deleteUser, authed, s.guard(resUsers, "delete", msgInsufficientPrivs), val)

	// Service accounts (api.md §2.4)
	v1.GET("/service-accounts", s.getServiceAccounts, authed, s.serviceAccountGuard("read"), val)
	v1.POST("/service-account", s.postServiceAccount, authed, s.serviceAccountGuard("create"), val)
	v1.GET("/service-account/:service_account_id", s.getServiceAccount, authed, s.serviceAccountGuard("read"), val)
	v1.PUT("/service-account/:service_account_id", s.putServiceAccount, authed, s.serviceAccountGuard("update"), val)
	v1.DELETE("/service-account/:service_account_id", s.deleteServiceAccount, authed, s.serviceAccountGuard("delete"), val)

	// Catalogue: authors, illustrators, works, editions, labelsets (api.md §2.7–§2.10)
	catalogue := public("the shared catalogue: every authenticated caller reads it")
	v1.GET("/authors", s.getAuthors, authed, catalogue, val)
	v1.GET("/authors/:author_id", s.getAuthor, authed, catalogue, val)
	v1.GET("/illustrators", s.getIllustrators, authed, catalogue, val)
	v1.GET("/illustrators/:illustrator_id", s.getIllustrator, authed, catalogue, val)
	v1.GET("/works", s.getWorks, authed, s.allow(resWorks, "read"), val)
	v1.GET("/work/:work_id", s.getWork, authed, s.allow(resWorks, "read"), val)
	v1.POST("/work/:work_id/generate-labels", s.postWorkGenerateLabels, authed, s.guard(resWorks, "generate-labels", msgInsufficientPrivs), val)
	v1.POST("/work", s.postWork, authed, s.allow(resWorks, "create"), val)
	v1.PATCH("/work/:work_id", s.patchWork, authed, s.allow(resWorks, "update"), val)
	v1.DELETE("/work/:work_id", s.deleteWork, authed, s.allow(resWorks, "delete"), val)
	v1.GET("/editions", s.getEditions, authed, s.allow(resEditions, "read"), val)
	v1.POST("/editions/compare", s.postEditionsCompare, authed, s.allow(resEditions, "read"), val)
	v1.GET("/edition/:isbn", s.getEdition, authed, s.allow(resEditions, "read"), val)
	v1.POST("/edition", s.postEdition, authed, s.allow(resEditions, "create"), val)
	v1.PATCH("/edition/:isbn", s.patchEdition, authed, s.allow(resEditions, "update"), val)
	v1.POST("/editions", s.postEditions, authed, s.allow(resEditions, "batch"), val)
	v1.PATCH("/labelsets", s.patchLabelSets, authed, s.guard(resLabelsets, "update", msgInsufficientPrivs), val)

	// Hydration (api.md §2.17)
	v1.POST("/hydrate", s.postHydrate, authed, s.guard(resEditions, "hydrate", msgInsufficientPrivs), val)
	v1.GET("/hydrate/:isbn", s.getHydrate, authed, s.guard(resEditions, "hydrate", msgInsufficientPrivs), val)

	// Search and recommendations (api.md §2.15–§2.16)
	v1.GET("/search", s.getSearch, authed, public("row security decides what each caller finds"), val)
	v1.POST("/recommend", s.postRecommend, authed, whenNamed(resSchool, "read", "the body's wriveted_identifier (F9)")) // validates after its decision (F9)

	// Collections (api.md §2.11)
	v1.POST("/collection", s.postCollection, authed, whenNamed(resCollection, "create", "the body's owner: update on its school or user, then create")) // validates after its creation checks
	v1.GET("/collection/:collection_id", s.getCollection, authed, onInstance(resCollection, "read"), val)
	v1.PUT("/collection/:collection_id", s.putCollection, authed, onInstance(resCollection, "delete"))     // validates after its decision
	v1.PATCH("/collection/:collection_id", s.patchCollection, authed, onInstance(resCollection, "update")) // validates after its decision
	v1.DELETE("/collection/:collection_id", s.deleteCollection, authed, onInstance(resCollection, "delete"), val)
	v1.GET("/collection/:collection_id/items", s.getCollectionItems, authed, onInstance(resCollection, "read"), val)
	v1.PUT("/collection/:collection_id/items", s.putCollectionItems, authed, onInstance(resCollection, "update")) // validates after its decision
	v1.GET("/collection/:collection_id/info", s.getCollectionInfo, authed, onInstance(resCollection, "read"), val)
	v1.GET("/collection/:collection_id/:isbn", s.getCollectionItemByISBN, authed, onInstance(resCollection, "read"), val)
	v1.POST("/collection/:collection_id/item", s.postCollectionItem, authed, onInstance(resCollection, "update")) // validates after its decision
	v1.GET("/collection/:collection_id/compare-with-booklist/:booklist_identifier", s.getCollectionCompareWithBooklist, authed, onInstance(resCollection, "read"), val)
	v1.GET("/collection-item/:collection_item_id", s.getCollectionItem, authed, onInstance(resCollectionItem, "read"), val)
	v1.POST("/collection-item-activity", s.postCollectionItemActivity, authed, onInstance(resCollectionItem, "update")) // validates in the handler

	// Classes (api.md §2.6)
	v1.GET("/classes", s.getClasses, authed, s.allow(resClasses, "read"), val)
	v1.POST("/school/:wriveted_identifier/class", s.postClass, authed, s.allow(resClasses, "create").and(resSchool, "update")) // validates after its decision
	v1.GET("/class/:id", s.getClass, authed, onInstance(resClass, "read"), val)
	v1.PATCH("/class/:id", s.patchClass, authed, onInstance(resClass, "update")) // validates after its decision
	v1.DELETE("/class/:id", s.deleteClass, authed, onInstance(resClass, "delete"), val)

	// Booklists (api.md §2.12)
	v1.POST("/list", s.postBooklist, authed, s.allow(resBooklists, "create"), val)
	v1.GET("/lists", s.getBooklists, authed, public("row security shows each caller the lists it may read"), val)
	v1.GET("/list/:booklist_identifier", s.getBooklist, authed, onInstance(resBooklist, "read"), val)
	v1.PATCH("/list/:booklist_identifier", s.patchBooklist, authed, onInstance(resBooklist, "update")) // validates after its decision
	v1.DELETE("/list/:booklist_identifier", s.deleteBooklist, authed, onInstance(resBooklist, "delete"), val)
	v1.GET("/public-lists", s.getPublicBooklists, anyone, public("published lists"), val)
	v1.GET("/public-list/:booklist_slug", s.getPublicBooklist, anyone, public("a published list"), val)

	// Events (api.md §2.13)
	v1.POST("/events", s.postEvent, authed, s.allow(resEvents, "create"), val)
	v1.GET("/events", s.getEvents, authed, s.allow(resEvents, "read"), val)
	v1.GET("/event-types", s.getEventTypes, authed, s.allow(resEvents, "read"), val)

	// Supporter feedback (api.md §2.14): guard USER, then the event chain
	user := s.authenticateUser()
	v1.GET("/feedback/:event_id", s.getFeedback, user, onInstance(resEvent, "read"), val)
	v1.POST("/feedback/:event_id", s.postFeedback, user, onInstance(resEvent, "read")) // validates after its decision

	// Support (issue 16): why was this refused?
	v1.GET("/decisions/:decision_id", s.getDecision, authed, s.allow(resDecisions, "read"), val)
	v1.POST("/explain", s.postExplain, authed, s.allow(resDecisions, "explain"), val)
}
