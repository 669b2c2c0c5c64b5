package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

type versionOut struct {
	Version          string `json:"version"`
	Commit           string `json:"commit"`
	PythonVersion    string `json:"python_version"` // the original's key; holds the Go runtime version
	GoVersion        string `json:"go_version"`
	DatabaseRevision string `json:"database_revision"`
	CloudRunRevision string `json:"cloud_run_revision"`
}

// getVersion answers GET /v1/version (api.md §2.1). database_revision is the
// latest applied migration, or "development" when it cannot be read.
func (s *Server) getVersion(c echo.Context) error {
	rev, err := db.DatabaseRevision(c.Request().Context(), s.pool)
	if err != nil {
		s.logger.Warn("read database revision", slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
		rev = "development"
	}
	return c.JSON(http.StatusOK, versionOut{
		Version: s.opts.Version, Commit: s.opts.Commit,
		PythonVersion: runtime.Version(), GoVersion: runtime.Version(),
		DatabaseRevision: rev, CloudRunRevision: s.opts.CloudRunRevision,
	})
}

// getHealthDB answers GET /v1/healthcheck/db: a random integer 1–1000
// computed by the database, as a float (`523.0`), as the original does.
func (s *Server) getHealthDB(c echo.Context) error {
	var n int64
	err := db.Read(c.Request().Context(), s.pool, db.Anonymous(), func(b *pgx.Batch) {
		b.Queue(queries.HealthRandom).QueryRow(func(r pgx.Row) error { return r.Scan(&n) })
	})
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	return c.JSON(http.StatusOK, map[string]json.RawMessage{"random": json.RawMessage(fmt.Sprintf("%d.0", n))})
}

const securityTxt = "\nContact: mailto:security@wriveted.com\nExpires: 2025-12-31T11:00:00.000Z\nPreferred-Languages: en\n"

func getSecurityTxt(c echo.Context) error {
	return c.String(http.StatusOK, securityTxt)
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// getJWKS serves the public keys of the API's EdDSA tokens (an empty set
// when only the original's HS256 shared secret is configured).
func (s *Server) getJWKS(c echo.Context) error {
	b, err := s.tokens.JWKS()
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/jwk-set+json", b)
}
