package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
)

// allow is the route-level policy guard: the caller's principals must be
// allowed action on the route's resource type (access.md §7). A denial is
// 403; an evaluation error is a 500, never an allow.
func (s *Server) allow(resourceType, action string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := s.check(c.Request().Context(), policies.Resource{Type: resourceType}, action); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// guard is allow for the original's coarse guards (ADMIN, SUPERUSER): a
// denial answers 403 with the guard's own message (api.md §0.2).
func (s *Server) guard(resourceType, action string, message refusal) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ok, err := s.may(c.Request().Context(), policies.Resource{Type: resourceType}, action)
			if err != nil {
				return err
			}
			if !ok {
				return httpError(http.StatusForbidden, message)
			}
			return next(c)
		}
	}
}

// check asks the policy engine whether the caller may perform action on res.
func (s *Server) check(ctx context.Context, res policies.Resource, action string) error {
	ok, err := s.may(ctx, res, action)
	if err != nil {
		return err
	}
	if !ok {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "denied",
			slog.String("action", res.Type+"."+action), slog.String("resource_id", res.ID),
			slog.String("account_id", identityOf(ctx).Account.ID.String()))
		return errForbidden()
	}
	return nil
}

// may is check's yes/no form, for redaction decisions.
func (s *Server) may(ctx context.Context, res policies.Resource, action string) (bool, error) {
	id := identityOf(ctx)
	ok, err := s.policies.Allow(ctx, policies.Input{Principals: id.Principals, Action: action, Resource: res})
	if err != nil {
		return false, fmt.Errorf("policy decision %s %s: %w", res.Type, action, err)
	}
	return ok, nil
}

// policyErrors marks every evaluation error of the engine as a policyError,
// logged as policy_error whichever handler asked.
type policyErrors struct{ d decider }

func (p policyErrors) Allow(ctx context.Context, in policies.Input) (bool, error) {
	ok, err := p.d.Allow(ctx, in)
	if err != nil {
		return false, &policyError{err}
	}
	return ok, nil
}
