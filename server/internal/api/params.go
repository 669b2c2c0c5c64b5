package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// maxLimit caps page sizes; the original enforces none and clients ask for
// up to 2000 (api.md §0.4).
const maxLimit = 10_000

// pathUUID parses a UUID path parameter; a bad value is 422 (api.md §0.2).
func pathUUID(c echo.Context, name string) (uuid.UUID, error) {
	raw := c.Param(name)
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, errValidation(validationError{Type: "uuid_parsing", Loc: []any{"path", name},
			Msg: "Input should be a valid UUID", Input: raw})
	}
	return id, nil
}

// page reads skip and limit (defaults 0 and 100).
func page(c echo.Context) (skip, limit int, err error) {
	skip, err = queryInt(c, "skip", 0, 0, 1<<31-1)
	if err != nil {
		return 0, 0, err
	}
	limit, err = queryInt(c, "limit", 100, 0, 1<<31-1)
	if err != nil {
		return 0, 0, err
	}
	return skip, min(limit, maxLimit), nil
}

func queryInt(c echo.Context, name string, def, lo, hi int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, errValidation(validationError{Type: "int_parsing", Loc: []any{"query", name},
			Msg: "Input should be a valid integer, unable to parse string as an integer", Input: raw})
	}
	if n > hi {
		return 0, errValidation(validationError{Type: "less_than_equal", Loc: []any{"query", name},
			Msg: fmt.Sprintf("Input should be less than or equal to %d", hi), Input: raw})
	}
	if n < lo {
		return 0, errValidation(validationError{Type: "greater_than_equal", Loc: []any{"query", name},
			Msg: fmt.Sprintf("Input should be greater than or equal to %d", lo), Input: raw})
	}
	return n, nil
}

// queryOptInt reads an optional 32-bit integer query parameter (nil when absent).
func queryOptInt(c echo.Context, name string) (*int64, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(raw, 10, 32)
	if err != nil {
		return nil, errValidation(validationError{Type: "int_parsing", Loc: []any{"query", name},
			Msg: "Input should be a valid integer, unable to parse string as an integer", Input: raw})
	}
	return &n, nil
}

// queryBool reads an optional boolean (true/false/1/0/yes/no/on/off).
func queryBool(c echo.Context, name string) (*bool, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return nil, nil
	}
	var v bool
	switch strings.ToLower(raw) {
	case "true", "1", "yes", "on", "t", "y":
		v = true
	case "false", "0", "no", "off", "f", "n":
		v = false
	default:
		return nil, errValidation(validationError{Type: "bool_parsing", Loc: []any{"query", name},
			Msg: "Input should be a valid boolean, unable to interpret input", Input: raw})
	}
	return &v, nil
}

func queryString(c echo.Context, name string, maxLen int) (*string, error) {
	if !c.QueryParams().Has(name) {
		return nil, nil
	}
	v := c.QueryParam(name)
	if utf8.RuneCountInString(v) > maxLen {
		return nil, errValidation(validationError{Type: "string_too_long", Loc: []any{"query", name},
			Msg: fmt.Sprintf("String should have at most %d characters", maxLen), Input: v})
	}
	return &v, nil
}

// queryDateTime reads an optional datetime as the original's validation
// accepts it: ISO-8601 with or without an offset (a "+" the query string
// turned into a space is restored), a date, or Unix seconds. The result is
// UTC, to compare with the database's offset-less UTC timestamps.
func queryDateTime(c echo.Context, name string) (*time.Time, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return nil, nil
	}
	candidates := []string{raw}
	if i := strings.LastIndexByte(raw, ' '); i > 10 { // "…T10:11:12 02:00": a decoded "+"
		candidates = append(candidates, raw[:i]+"+"+raw[i+1:])
	}
	for _, v := range candidates {
		for _, l := range datetimeLayouts {
			if t, err := time.Parse(l, v); err == nil {
				u := t.UTC()
				return &u, nil
			}
		}
	}
	if f, err := strconv.ParseFloat(raw, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) < 1e11 {
		sec, frac := math.Modf(f)
		u := time.Unix(int64(sec), int64(frac*1e9)).UTC()
		return &u, nil
	}
	return nil, errValidation(validationError{Type: "datetime_from_date_parsing", Loc: []any{"query", name},
		Msg: "Input should be a valid datetime or date", Input: raw})
}

// decodeBody reads a JSON body into v (unknown fields are ignored, api.md
// §0.7). A malformed body is 422 in the original's shape.
func decodeBody(c echo.Context, v any) error {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return errValidation(validationError{Type: "missing", Loc: []any{"body"}, Msg: "Field required", Input: nil})
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			loc := []any{"body"}
			for _, p := range strings.Split(te.Field, ".") {
				if p != "" {
					loc = append(loc, p)
				}
			}
			typ, name := pydanticType(te.Type.Kind().String())
			v := validationError{Type: typ, Loc: loc, Msg: "Input should be a valid " + name, Input: nil}
			if input, ok := valueAt(b, loc[1:]); ok && input != nil {
				// What lax coercion could not convert: pydantic's entry
				// for it ("ten" is int_parsing, 10.5 int_from_float).
				if issue := laxIssueFor(openAPIType(te.Type.Kind().String()), input); issue != nil {
					v.Type, v.Msg = issue.Type, issue.Msg
				}
				v.Input = input
			}
			return errValidation(v)
		}
		return errValidation(validationError{Type: "json_invalid", Loc: []any{"body"},
			Msg: "JSON decode error", Input: nil, Ctx: map[string]any{"error": err.Error()}})
	}
	return nil
}

// pydanticType names a Go kind the way the original's validation errors do.
func pydanticType(kind string) (typ, name string) {
	switch kind {
	case "string":
		return "string_type", "string"
	case "bool":
		return "bool_type", "boolean"
	case "int", "int64", "int32":
		return "int_type", "integer"
	case "float64", "float32":
		return "float_type", "number"
	case "slice", "array":
		return "list_type", "list"
	default:
		return "dict_type", "dictionary"
	}
}

// openAPIType names a Go kind as an OpenAPI type.
func openAPIType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "int16", "int8", "uint", "uint64", "uint32", "uint16", "uint8":
		return "integer"
	case "float64", "float32":
		return "number"
	}
	return ""
}

// valueAt is the value at path (object keys; array indexes as digits) in
// the JSON document b, decoded with UseNumber.
func valueAt(b []byte, path []any) (any, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	for _, p := range path {
		key := fmt.Sprint(p)
		switch t := v.(type) {
		case map[string]any:
			x, ok := t[key]
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// enumValue is one member of an enumeration: the stored label and the API value.
type enumValue struct{ Label, Value string }

// parseEnum accepts a member's value exactly or its name case-insensitively
// (api.md §0.6) and returns the stored label.
func parseEnum(members []enumValue, in string) (string, bool) {
	for _, m := range members {
		if in == m.Value || strings.EqualFold(in, m.Label) {
			return m.Label, true
		}
	}
	return "", false
}

func enumValues(members []enumValue) []string {
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = "'" + m.Value + "'"
	}
	return out
}

var (
	schoolStates = []enumValue{{"PENDING", "pending"}, {"ACTIVE", "active"}, {"INACTIVE", "inactive"}}
	bookbotTypes = []enumValue{{"SCHOOL_BOOKS", "school_books"}, {"HUEY_BOOKS", "huey_books"}}
)

// validURL checks an http(s) URL and normalises it as pydantic does: a bare
// host gains a trailing "/".
func validURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), true
}

// likePattern escapes a user string for a case-insensitive substring match.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// decodeList reads a JSON array body; null or a missing body is 422.
func decodeList[T any](c echo.Context) ([]T, error) {
	var in []T
	if err := decodeBody(c, &in); err != nil {
		return nil, err
	}
	if in == nil {
		return nil, errValidation(validationError{Type: "list_type", Loc: []any{"body"}, Msg: "Input should be a valid list", Input: nil})
	}
	return in, nil
}

// pageOf is the paged wrapper (api.md §0.4).
func pageOf[T any](data []T, skip, limit int, total *int64) map[string]any {
	return map[string]any{"data": data, "pagination": pagination(skip, limit, total)}
}

func pagination(skip, limit int, total *int64) map[string]any {
	p := 1
	if limit > 0 {
		p = skip/limit + 1
	}
	return map[string]any{"skip": skip, "limit": limit, "total": total, "page": p}
}

// rawPage answers the paged wrapper of rows Postgres rendered as JSON,
// writing their bytes as they are: encoding them again (pageOf + c.JSON)
// re-scans every byte of every row, a large share of a page's CPU.
func rawPage(c echo.Context, data []json.RawMessage, skip, limit int, total *int64) error {
	p, err := json.Marshal(pagination(skip, limit, total))
	if err != nil {
		return err
	}
	n := len(p) + 32
	for _, r := range data {
		n += len(r) + 1
	}
	buf := make([]byte, 0, n)
	buf = append(buf, `{"data":[`...)
	for i, r := range data {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, r...)
	}
	buf = append(buf, `],"pagination":`...)
	buf = append(buf, p...)
	buf = append(buf, '}')
	return c.JSONBlob(http.StatusOK, buf)
}
