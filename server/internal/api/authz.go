package api

import (
	"context"
	"fmt"

	"github.com/wriveted/huey-api/policies"
)

// check asks the policy engine whether the caller may perform action on res.
func (s *Server) check(ctx context.Context, res policies.Resource, action string) error {
	ok, err := s.may(ctx, res, action)
	if err != nil {
		return err
	}
	if !ok {
		return s.refuse(ctx, res, action, msgInsufficientPerms) // recorded and logged by recordRefusals
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
