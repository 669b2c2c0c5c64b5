package taskapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/tasks/labels"
)

// Placeholder while generate-labels and hydrate-bulk are written.

func (s *server) postGenerateLabels(c echo.Context) error {
	return echo.NewHTTPError(http.StatusNotImplemented, "not yet")
}

func (s *server) postHydrateBulk(c echo.Context) error {
	return echo.NewHTTPError(http.StatusNotImplemented, "not yet")
}

// RuleBasedLabeller is a placeholder.
type RuleBasedLabeller struct{}

// Label implements labels.Provider.
func (RuleBasedLabeller) Label(context.Context, labels.Input) (catalog.LabelSetPatch, error) {
	return catalog.LabelSetPatch{}, errors.New("not yet")
}
