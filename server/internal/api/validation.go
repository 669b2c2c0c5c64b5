package api

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Validation: the 422 body (api.md §0.3), its entries, and the checks that
// collect them. Each resource's own checks (userInfo, item, editionInfo …)
// stay beside its handlers.

// validationError is one entry of a 422 body (api.md §0.3).
type validationError struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

func errValidation(errs ...validationError) error {
	e := httpError(http.StatusUnprocessableEntity, errs)
	e.Code = "validation_failed"
	return e
}

// invalid is a single 422 entry: where, what, and the offending input.
func invalid(loc []any, msg string, input any) error {
	return errValidation(validationError{Type: "value_error", Loc: loc, Msg: msg, Input: input})
}

func missing(loc []any, input any) validationError {
	return validationError{Type: "missing", Loc: loc, Msg: "Field required", Input: input}
}

// checks collects 422 entries.
type checks struct{ errs []validationError }

func (c *checks) add(loc []any, typ, msg string, input any) {
	c.errs = append(c.errs, validationError{Type: typ, Loc: loc, Msg: msg, Input: input})
}

func (c *checks) str(loc []any, v *string, maxLen int) {
	if v != nil && utf8.RuneCountInString(*v) > maxLen {
		c.add(loc, "string_too_long", fmt.Sprintf("String should have at most %d characters", maxLen), *v)
	}
}

func (c *checks) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return errValidation(c.errs...)
}

func (c *checks) enum(loc []any, members []enumValue, v *string) *string {
	if v == nil {
		return nil
	}
	label, ok := parseEnum(members, *v)
	if !ok {
		c.add(loc, "enum", "Input should be "+strings.Join(enumValues(members), ", "), *v)
		return nil
	}
	return &label
}

func (c *checks) int32(loc []any, v *int) {
	if v != nil && (*v < math.MinInt32 || *v > math.MaxInt32) {
		c.errs = append(c.errs, notInt32(loc, *v))
	}
}

// Range checks: the entries of a number outside its bounds.

// notInt32 is the entry of an integer past int4, which Postgres would refuse.
func notInt32(loc []any, input any) validationError {
	return validationError{Type: "int_overflow", Loc: loc, Msg: "Input should be a valid 32-bit integer", Input: input}
}

// tooSmall is the entry of a number below its minimum (ge).
func tooSmall(loc []any, input any, minimum int) validationError {
	return validationError{Type: "greater_than_equal", Loc: loc,
		Msg: fmt.Sprintf("Input should be greater than or equal to %d", minimum), Input: input, Ctx: map[string]any{"ge": minimum}}
}

// tooLarge is the entry of a number above its maximum (le).
func tooLarge(loc []any, input any, maximum int) validationError {
	return validationError{Type: "less_than_equal", Loc: loc,
		Msg: fmt.Sprintf("Input should be less than or equal to %d", maximum), Input: input, Ctx: map[string]any{"le": maximum}}
}
