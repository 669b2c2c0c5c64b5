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
	s := &Server{
		pool: opts.Pool, logger: opts.Logger, policies: policyErrors{opts.Policies}, tokens: opts.Tokens,
		verifier: auth.NewVerifyCache(opts.Tokens, verifiedTokenTTL, maxVerifiedTokens),
		firebase: opts.Firebase, accounts: opts.Accounts,
		now: opts.Now, opts: opts,
	}
	if s.now == nil {
		s.now = time.Now
	}
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
	e.HTTPErrorHandler = errorHandler(opts.Logger)
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
	return e
}

// routes is the route table: every route, its guard, its policy and its
// handler. Instance-level decisions (one school, one user) are taken inside
// the handler, with attributes read in the same round trip as the data.
func (s *Server) routes(e *echo.Echo) {
	public := s.authenticate(false)
	authed := s.authenticate(true)
	// Request validation against the OpenAPI document runs after the
	// route's policy decision (DECISIONS §4); handlers that decide on one
	// resource call s.validateRequest themselves after their decision.
	val := s.validated()
	s.docRoutes(e)

	v1 := e.Group("/v1")
	v1.GET("/version", s.getVersion, public, val)
	v1.GET("/healthcheck/db", s.getHealthDB, public, val)
	v1.GET("/.well-known/security.txt", getSecurityTxt, public, val)
	e.GET("/.well-known/security.txt", getSecurityTxt, public, val)
	e.GET("/.well-known/jwks.json", s.getJWKS, public, val)
	redirect := func(c echo.Context) error { return c.Redirect(http.StatusTemporaryRedirect, "/v1/docs") }
	e.GET("/", redirect, val)
	e.GET("/docs", redirect, val)

	// Authentication (api.md §2.2)
	v1.GET("/auth/firebase", s.getAuthFirebase, val)
	v1.GET("/auth/me", s.getAuthMe, authed, val)
	v1.POST("/auth/class-code", s.postClassCode, public, val)
	v1.POST("/auth/register-student", s.postRegisterStudent, public, val)
	v1.POST("/user/:user_id/auth-token", s.postUserAuthToken, authed, val)

	// Schools (api.md §2.5)
	v1.GET("/schools", s.getSchools, authed, s.allow("schools", "read"), val)
	v1.POST("/schools", s.postSchools, authed, s.allow("schools", "batch"), val)
	v1.POST("/school", s.postSchool, authed, s.allow("schools", "create"), val)
	v1.GET("/school/:wriveted_identifier/exists", s.getSchoolExists, public, val)
	v1.GET("/school/:wriveted_identifier", s.getSchool, authed, val)
	v1.GET("/school/:wriveted_identifier/bot", s.getSchoolBot, authed, val)
	v1.GET("/school/:wriveted_identifier/bookbot", s.getSchoolBookbot, authed, val)
	v1.PATCH("/school/:wriveted_identifier/admin", s.patchSchoolAdmin, authed, val)
	v1.PATCH("/school/:wriveted_identifier", s.patchSchool, authed) // validates after its decision
	v1.DELETE("/school/:wriveted_identifier", s.deleteSchool, authed, val)

	// Users (api.md §2.3)
	v1.GET("/users", s.getUsers, authed, s.guard("users", "read", msgInsufficientPrivs), val)
	v1.POST("/user", s.postUser, authed, s.guard("users", "create", msgInsufficientPrivs), val)
	v1.GET("/user/:user_id", s.getUser, authed, val)
	v1.PATCH("/user/:user_id", s.patchUser, authed) // validates after its decision
	v1.DELETE("/user/:user_id", s.deleteUser, authed, s.guard("users", "delete", msgInsufficientPrivs), val)

	// Service accounts (api.md §2.4)
	v1.GET("/service-accounts", s.getServiceAccounts, authed, s.serviceAccountGuard("read"), val)
	v1.POST("/service-account", s.postServiceAccount, authed, s.serviceAccountGuard("create"), val)
	v1.GET("/service-account/:service_account_id", s.getServiceAccount, authed, s.serviceAccountGuard("read"), val)
	v1.PUT("/service-account/:service_account_id", s.putServiceAccount, authed, s.serviceAccountGuard("update"), val)
	v1.DELETE("/service-account/:service_account_id", s.deleteServiceAccount, authed, s.serviceAccountGuard("delete"), val)

	// Catalogue: authors, illustrators, works, editions, labelsets (api.md §2.7–§2.10)
	v1.GET("/authors", s.getAuthors, authed, val)
	v1.GET("/authors/:author_id", s.getAuthor, authed, val)
	v1.GET("/illustrators", s.getIllustrators, authed, val)
	v1.GET("/illustrators/:illustrator_id", s.getIllustrator, authed, val)
	v1.GET("/works", s.getWorks, authed, s.allow("works", "read"), val)
	v1.GET("/work/:work_id", s.getWork, authed, s.allow("works", "read"), val)
	v1.POST("/work/:work_id/generate-labels", s.postWorkGenerateLabels, authed, s.guard("works", "generate-labels", msgInsufficientPrivs), val)
	v1.POST("/work", s.postWork, authed, s.allow("works", "create"), val)
	v1.PATCH("/work/:work_id", s.patchWork, authed, s.allow("works", "update"), val)
	v1.DELETE("/work/:work_id", s.deleteWork, authed, s.allow("works", "delete"), val)
	v1.GET("/editions", s.getEditions, authed, s.allow("editions", "read"), val)
	v1.POST("/editions/compare", s.postEditionsCompare, authed, s.allow("editions", "read"), val)
	v1.GET("/edition/:isbn", s.getEdition, authed, s.allow("editions", "read"), val)
	v1.POST("/edition", s.postEdition, authed, s.allow("editions", "create"), val)
	v1.PATCH("/edition/:isbn", s.patchEdition, authed, s.allow("editions", "update"), val)
	v1.POST("/editions", s.postEditions, authed, s.allow("editions", "batch"), val)
	v1.PATCH("/labelsets", s.patchLabelSets, authed, s.guard("labelsets", "update", msgInsufficientPrivs), val)

	// Hydration (api.md §2.17)
	v1.POST("/hydrate", s.postHydrate, authed, s.guard("editions", "hydrate", msgInsufficientPrivs), val)
	v1.GET("/hydrate/:isbn", s.getHydrate, authed, s.guard("editions", "hydrate", msgInsufficientPrivs), val)

	// Search and recommendations (api.md §2.15–§2.16)
	v1.GET("/search", s.getSearch, authed, val)
	v1.POST("/recommend", s.postRecommend, authed) // validates after its decision (F9)

	// Collections (api.md §2.11)
	v1.POST("/collection", s.postCollection, authed) // validates after its creation checks
	v1.GET("/collection/:collection_id", s.getCollection, authed, val)
	v1.PUT("/collection/:collection_id", s.putCollection, authed)     // validates after its decision
	v1.PATCH("/collection/:collection_id", s.patchCollection, authed) // validates after its decision
	v1.DELETE("/collection/:collection_id", s.deleteCollection, authed, val)
	v1.GET("/collection/:collection_id/items", s.getCollectionItems, authed, val)
	v1.PUT("/collection/:collection_id/items", s.putCollectionItems, authed) // validates after its decision
	v1.GET("/collection/:collection_id/info", s.getCollectionInfo, authed, val)
	v1.GET("/collection/:collection_id/:isbn", s.getCollectionItemByISBN, authed, val)
	v1.POST("/collection/:collection_id/item", s.postCollectionItem, authed) // validates after its decision
	v1.GET("/collection/:collection_id/compare-with-booklist/:booklist_identifier", s.getCollectionCompareWithBookList, authed, val)
	v1.GET("/collection-item/:collection_item_id", s.getCollectionItem, authed, val)
	v1.POST("/collection-item-activity", s.postCollectionItemActivity, authed) // validates in the handler

	// Classes (api.md §2.6)
	v1.GET("/classes", s.getClasses, authed, s.allow("classes", "read"), val)
	v1.POST("/school/:wriveted_identifier/class", s.postClass, authed, s.allow("classes", "create")) // validates after its decision
	v1.GET("/class/:id", s.getClass, authed, val)
	v1.PATCH("/class/:id", s.patchClass, authed) // validates after its decision
	v1.DELETE("/class/:id", s.deleteClass, authed, val)

	// Booklists (api.md §2.12)
	v1.POST("/list", s.postBookList, authed, s.allow("book_lists", "create"), val)
	v1.GET("/lists", s.getBookLists, authed, val)
	v1.GET("/list/:booklist_identifier", s.getBookList, authed, val)
	v1.PATCH("/list/:booklist_identifier", s.patchBookList, authed) // validates after its decision
	v1.DELETE("/list/:booklist_identifier", s.deleteBookList, authed, val)
	v1.GET("/public-lists", s.getPublicBookLists, public, val)
	v1.GET("/public-list/:booklist_slug", s.getPublicBookList, public, val)

	// Events (api.md §2.13)
	v1.POST("/events", s.postEvent, authed, s.allow("events", "create"), val)
	v1.GET("/events", s.getEvents, authed, s.allow("events", "read"), val)
	v1.GET("/event-types", s.getEventTypes, authed, s.allow("events", "read"), val)

	// Supporter feedback (api.md §2.14): guard USER, then the event chain
	user := s.authenticateUser()
	v1.GET("/feedback/:event_id", s.getFeedback, user, val)
	v1.POST("/feedback/:event_id", s.postFeedback, user) // validates after its decision
}
