// Package taskapi is the HTTP layer of the internal task server: the
// endpoints Cloud Tasks (production) or the local dispatcher call to run
// background work. It is not exposed to the public.
package taskapi

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/wriveted/huey-api/schema/db"
)

// Options are everything the task server depends on.
type Options struct {
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Version string
	Commit  string
}

type server struct {
	opts Options
}

// New builds the task server's Echo instance.
func New(opts Options) *echo.Echo {
	s := &server{opts: opts}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
	e.Use(middleware.BodyLimit("32M"))
	v1 := e.Group("/v1")
	v1.GET("/version", s.getVersion)
	return e
}

func (s *server) getVersion(c echo.Context) error {
	rev, err := db.DatabaseRevision(c.Request().Context(), s.opts.Pool)
	if err != nil {
		s.opts.Logger.Warn("read database revision", slog.String("error", err.Error()))
		rev = "development"
	}
	return c.JSON(http.StatusOK, map[string]string{
		"version": s.opts.Version, "commit": s.opts.Commit, "go_version": runtime.Version(),
		"database_revision": rev, "service": "internal",
	})
}

// handleError answers in the original's shape; causes of 5xx are logged only.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code < http.StatusInternalServerError {
		_ = c.JSON(he.Code, map[string]any{"detail": he.Message})
		return
	}
	s.opts.Logger.Error("task request failed", slog.String("path", c.Path()), slog.String("error", err.Error()))
	_ = c.String(http.StatusInternalServerError, "Internal Server Error")
}
