// Package api is the HTTP layer of the public API: the route table, the
// middleware chain and the handlers. It is the only package that knows Echo.
//
// Request path, one direction only: route → authenticate → policy decision
// → claims transaction (schema/db) → JSON. No handler queries the pool
// outside db.Read / db.InTx.
package api

import (
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Options are everything the API server depends on.
type Options struct {
	Pool             *pgxpool.Pool
	Logger           *slog.Logger
	Version          string
	Commit           string
	CloudRunRevision string
	CORSOrigins      []string
}

// Server holds the API's dependencies.
type Server struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	opts   Options
}

// maxBody bounds request bodies: an LMS pushing 10 000 books sends ~2 MB.
const maxBody = "32M"

// originRegex is the original's allowed-origin pattern (api.md §0.1).
var originRegex = regexp.MustCompile(`^((https://wriveted.*web\.app)|(https://huey-books.*web\.app))$`)

// New builds the Echo instance with every route and middleware.
func New(opts Options) *echo.Echo {
	s := &Server{pool: opts.Pool, logger: opts.Logger, opts: opts}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(opts.Logger)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}))
	e.Use(requestLogger(opts.Logger))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
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
	s.routes(e)
	return e
}

// routes is the route table: every route, its guard and its handler.
func (s *Server) routes(e *echo.Echo) {
	v1 := e.Group("/v1")
	v1.GET("/version", s.getVersion)                    // PUBLIC
	v1.GET("/healthcheck/db", s.getHealthDB)            // PUBLIC
	v1.GET("/.well-known/security.txt", getSecurityTxt) // PUBLIC
	e.GET("/.well-known/security.txt", getSecurityTxt)  // PUBLIC
	redirect := func(c echo.Context) error { return c.Redirect(http.StatusTemporaryRedirect, "/v1/docs") }
	e.GET("/", redirect)
	e.GET("/docs", redirect)
}
