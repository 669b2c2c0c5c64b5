package taskapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Placeholder while process-event and generate-reading-pathways are written.

func (s *server) postProcessEvent(c echo.Context) error {
	return echo.NewHTTPError(http.StatusNotImplemented, "not yet")
}

func (s *server) postGenerateReadingPathways(c echo.Context) error {
	return echo.NewHTTPError(http.StatusNotImplemented, "not yet")
}
