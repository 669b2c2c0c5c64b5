package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/server/internal/api/docsui"
)

// The OpenAPI layer: the embedded document, request validation against it
// (422 in the original's shape) and the document routes (api.md §0.1).
//
// Validation runs after authentication and the policy decision
// (DECISIONS §4): as route middleware listed after the guards, or called by
// a handler through validateRequest once its instance-level decision is
// taken. Handlers then decode the body into the types generated from this
// document (requests.go, package apitypes) and check only what it cannot
// say; the document is never stricter than they are.

//go:embed openapi.yaml
var openAPIYAML []byte

// openAPI is the compiled document: loaded, validated and indexed once per
// process, immutable afterwards.
type openAPI struct {
	// doc is the document used for validation. Its security requirements
	// are removed: authentication is done by the route guards, and the
	// filter would otherwise read and copy every request body once more.
	doc *openapi3.T
	// routes maps "METHOD /echo/:path" to the document's operation, so a
	// request is matched by the route Echo already chose.
	routes map[string]*routers.Route
	// router matches requests that carry no Echo route (c.Path() empty).
	router routers.Router
	// served is the document as JSON, security requirements included.
	served []byte
	opts   openapi3filter.Options
}

// loadedOpenAPI is the process-wide compiled document.
var loadedOpenAPI = sync.OnceValues(loadOpenAPI)

// uuidFormat accepts what the handlers accept (uuid.Parse): any UUID
// version, with or without hyphens, braces or a urn:uuid: prefix.
var uuidFormat = openapi3.NewCallbackValidator(func(s string) error {
	_, err := uuid.Parse(s)
	return err
})

func loadOpenAPI() (*openAPI, error) {
	ctx := context.Background()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapi: validate: %w", err)
	}
	served, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	oa := &openAPI{doc: doc, served: served, routes: map[string]*routers.Route{}}
	doc.Security = nil
	var server *openapi3.Server
	if len(doc.Servers) > 0 {
		server = doc.Servers[0]
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			op.Security = nil
			oa.routes[method+" "+echoPath(path)] = &routers.Route{
				Spec: doc, Server: server, Path: path, PathItem: item, Method: method, Operation: op,
			}
		}
	}
	if oa.router, err = gorillamux.NewRouter(doc); err != nil {
		return nil, fmt.Errorf("openapi: router: %w", err)
	}
	oa.opts = openapi3filter.Options{
		MultiError:         true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// Handlers apply their own defaults; rewriting the query or the
		// body with the document's would only cost time.
		SkipSettingDefaults:     true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid", uuidFormat)},
	}
	return oa, nil
}

// echoPath turns an OpenAPI path template into Echo's: {p} → :p.
func echoPath(p string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i])
		b.WriteByte(':')
		b.WriteString(p[i+1 : i+j])
		p = p[i+j+1:]
	}
}

// validated is route middleware validating the request (path, query and
// body) against the document; list it after the route's guards. The
// document is compiled when the route table is built, not on a request.
func (s *Server) validated() echo.MiddlewareFunc {
	_, _ = loadedOpenAPI() // compile now; an error is answered (500) per request
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := s.validateRequest(c); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// validateRequest validates c's request against the document: nil, a 422
// in the original's shape, the body-reading error (413), or an internal
// error (500) when the route is not in the document. The body stays
// readable by the handler. Handlers that take an instance-level policy
// decision can call it after the decision instead of using validated.
func (s *Server) validateRequest(c echo.Context) error {
	oa, err := loadedOpenAPI()
	if err != nil {
		return err
	}
	return oa.validate(c)
}

func (oa *openAPI) validate(c echo.Context) error {
	req := c.Request()
	route, params, err := oa.findRoute(c)
	if err != nil {
		return err
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, QueryParams: c.QueryParams(), Route: route, Options: &oa.opts,
	}
	if route.Operation.RequestBody != nil && !isJSONContentType(req.Header.Get(echo.HeaderContentType)) {
		// Handlers read any body as JSON whatever its Content-Type (as the
		// original does without one): validate it as JSON too, on a
		// shallow copy, then hand the restored body back to the request.
		vreq := req.WithContext(req.Context())
		vreq.Header = req.Header.Clone()
		vreq.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		in.Request = vreq
		defer func() { req.Body, req.GetBody, req.ContentLength = vreq.Body, vreq.GetBody, vreq.ContentLength }()
	}
	err = openapi3filter.ValidateRequest(req.Context(), in)
	if err == nil {
		return nil
	}
	return problems(c, err)
}

// findRoute finds the document's operation for the route Echo matched (a
// map look-up, ~0.1 µs; gorillamux's FindRoute walks every path's regexp,
// ~5 µs). The gorillamux router serves only a request without an Echo
// route. A route missing from the document is a server error, never a pass.
func (oa *openAPI) findRoute(c echo.Context) (*routers.Route, map[string]string, error) {
	req := c.Request()
	if p := c.Path(); p != "" {
		route, ok := oa.routes[req.Method+" "+p]
		if !ok {
			return nil, nil, fmt.Errorf("openapi: route %s %s is not in the document", req.Method, p)
		}
		names, values := c.ParamNames(), c.ParamValues()
		params := make(map[string]string, len(names))
		for i, n := range names {
			if i < len(values) {
				params[n] = values[i]
			}
		}
		return route, params, nil
	}
	route, params, err := oa.router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		return nil, nil, fmt.Errorf("openapi: %s %s is not in the document: %w", req.Method, req.URL.Path, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("openapi: find route: %w", err)
	}
	return route, params, nil
}

// isJSONContentType reports application/json, with or without parameters.
func isJSONContentType(ct string) bool {
	const j = "application/json"
	if len(ct) < len(j) || !strings.EqualFold(ct[:len(j)], j) {
		return false
	}
	return len(ct) == len(j) || ct[len(j)] == ';' || ct[len(j)] == ' '
}

// ---------------------------------------------------------------------------
// Validation failures in the original's shape (api.md §0.3).

// problems turns a ValidateRequest error into the response error: a 422
// with one entry per problem, or the error itself when it is not a
// validation failure (a 413 while reading the body, an internal error).
func problems(c echo.Context, err error) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he
	}
	var out []validationError
	var fatal error
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, x := range e {
				walk(x)
			}
		case *openapi3filter.RequestError:
			switch {
			case e.Parameter != nil:
				out = append(out, parameterProblems(c, e)...)
			case e.RequestBody != nil:
				out = append(out, bodyProblems(e)...)
			default:
				fatal = err
			}
		default:
			fatal = err
		}
	}
	walk(err)
	if fatal != nil {
		return fmt.Errorf("openapi: validate request: %w", fatal)
	}
	if len(out) == 0 {
		return nil // only UTF-16 length differences, which the handlers do not count
	}
	return errValidation(out...)
}

func parameterProblems(c echo.Context, e *openapi3filter.RequestError) []validationError {
	p := e.Parameter
	loc := []any{p.In, p.Name}
	var raw any
	switch p.In {
	case openapi3.ParameterInPath:
		raw = c.Param(p.Name)
	case openapi3.ParameterInQuery:
		raw = c.QueryParam(p.Name)
	case openapi3.ParameterInHeader:
		raw = c.Request().Header.Get(p.Name)
	}
	var schema *openapi3.Schema
	if p.Schema != nil {
		schema = p.Schema.Value
	}
	var pe *openapi3filter.ParseError
	switch {
	case errors.Is(e.Err, openapi3filter.ErrInvalidRequired):
		return []validationError{missing(loc, nil)}
	case errors.Is(e.Err, openapi3filter.ErrInvalidEmptyValue), errors.As(e.Err, &pe):
		return []validationError{typeProblem(schema, loc, raw, true)}
	}
	if ses := schemaErrors(e.Err, nil); len(ses) > 0 {
		out := make([]validationError, 0, len(ses))
		for _, se := range ses {
			if v, ok := schemaProblem(se, loc, raw, true); ok {
				out = append(out, v)
			}
		}
		return out
	}
	return []validationError{{Type: "value_error", Loc: loc, Msg: "Value error, " + reasonOf(e), Input: raw}}
}

func bodyProblems(e *openapi3filter.RequestError) []validationError {
	loc := []any{"body"}
	var pe *openapi3filter.ParseError
	switch {
	case errors.Is(e.Err, openapi3filter.ErrInvalidRequired):
		return []validationError{missing(loc, nil)}
	case errors.As(e.Err, &pe):
		cause := pe.Error()
		if pe.Cause != nil {
			cause = pe.Cause.Error()
		}
		return []validationError{{Type: "json_invalid", Loc: loc, Msg: "JSON decode error", Input: nil,
			Ctx: map[string]any{"error": cause}}}
	}
	if ses := schemaErrors(e.Err, nil); len(ses) > 0 {
		out := make([]validationError, 0, len(ses))
		for _, se := range ses {
			if v, ok := schemaProblem(se, loc, se.Value, false); ok {
				out = append(out, v)
			}
		}
		return out
	}
	return []validationError{{Type: "value_error", Loc: loc, Msg: "Value error, " + reasonOf(e), Input: nil}}
}

func reasonOf(e *openapi3filter.RequestError) string {
	if e.Reason != "" {
		return e.Reason
	}
	return "invalid value"
}

// schemaErrors flattens the schema errors of a (multi) error.
func schemaErrors(err error, out []*openapi3.SchemaError) []*openapi3.SchemaError {
	switch e := err.(type) {
	case *openapi3.SchemaError:
		return append(out, e)
	case openapi3.MultiError:
		for _, x := range e {
			out = schemaErrors(x, out)
		}
	}
	return out
}

// schemaProblem maps one schema error to the original's entry; ok is false
// for a maxLength error that counting characters (as the handlers and the
// original do, rather than UTF-16 units) does not confirm.
func schemaProblem(se *openapi3.SchemaError, prefix []any, input any, param bool) (validationError, bool) {
	loc := slices.Clone(prefix)
	for _, p := range se.JSONPointer() {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 {
			loc = append(loc, n)
		} else {
			loc = append(loc, p)
		}
	}
	s := se.Schema
	if s == nil {
		s = &openapi3.Schema{}
	}
	v := validationError{Loc: loc, Input: input}
	switch se.SchemaField {
	case "required":
		return missing(loc, se.Value), true
	case "type", "nullable":
		return typeProblem(s, loc, input, param), true
	case "anyOf", "oneOf":
		if admitsBoolean(s) {
			return typeProblem(&openapi3.Schema{Type: &openapi3.Types{openapi3.TypeBoolean}}, loc, input, param), true
		}
		v.Type, v.Msg = "value_error", "Value error, "+se.Reason
	case "format":
		switch s.Format {
		case "uuid":
			v.Type, v.Msg = "uuid_parsing", "Input should be a valid UUID"
		case "date-time":
			v.Type, v.Msg = "datetime_parsing", "Input should be a valid datetime"
		case "date":
			v.Type, v.Msg = "date_parsing", "Input should be a valid date"
		case "uri", "url":
			v.Type, v.Msg = "url_parsing", "Input should be a valid URL"
		default:
			v.Type, v.Msg = "value_error", "Input should be a valid "+s.Format
		}
	case "minLength":
		v.Type, v.Msg = "string_too_short", fmt.Sprintf("String should have at least %d character%s", s.MinLength, plural(s.MinLength))
		v.Ctx = map[string]any{"min_length": s.MinLength}
	case "maxLength":
		if str, ok := se.Value.(string); ok && s.MaxLength != nil && uint64(utf8.RuneCountInString(str)) <= *s.MaxLength {
			return v, false
		}
		var n uint64
		if s.MaxLength != nil {
			n = *s.MaxLength
		}
		v.Type, v.Msg = "string_too_long", fmt.Sprintf("String should have at most %d character%s", n, plural(n))
		v.Ctx = map[string]any{"max_length": n}
	case "minimum", "exclusiveMinimum":
		bound := number(s.Min)
		v.Type, v.Msg, v.Ctx = "greater_than_equal", "Input should be greater than or equal to "+bound, map[string]any{"ge": json.Number(bound)}
		if se.SchemaField == "exclusiveMinimum" || s.ExclusiveMin.IsTrue() {
			v.Type, v.Msg, v.Ctx = "greater_than", "Input should be greater than "+bound, map[string]any{"gt": json.Number(bound)}
		}
	case "maximum", "exclusiveMaximum":
		bound := number(s.Max)
		v.Type, v.Msg, v.Ctx = "less_than_equal", "Input should be less than or equal to "+bound, map[string]any{"le": json.Number(bound)}
		if se.SchemaField == "exclusiveMaximum" || s.ExclusiveMax.IsTrue() {
			v.Type, v.Msg, v.Ctx = "less_than", "Input should be less than "+bound, map[string]any{"lt": json.Number(bound)}
		}
	case "enum":
		expected := enumText(s.Enum)
		v.Type, v.Msg, v.Ctx = "enum", "Input should be "+expected, map[string]any{"expected": expected}
	case "pattern":
		v.Type, v.Msg = "string_pattern_mismatch", fmt.Sprintf("String should match pattern '%s'", s.Pattern)
		v.Ctx = map[string]any{"pattern": s.Pattern}
	case "minItems":
		v.Type, v.Msg = "too_short", fmt.Sprintf("List should have at least %d item%s", s.MinItems, plural(s.MinItems))
	case "maxItems":
		var n uint64
		if s.MaxItems != nil {
			n = *s.MaxItems
		}
		v.Type, v.Msg = "too_long", fmt.Sprintf("List should have at most %d item%s", n, plural(n))
	default:
		v.Type, v.Msg = "value_error", "Value error, "+se.Reason
	}
	return v, true
}

// typeProblem is a wrong-type entry: "*_parsing" for path and query strings,
// "*_type" for JSON values, as pydantic names them.
func typeProblem(s *openapi3.Schema, loc []any, input any, param bool) validationError {
	typ := ""
	if s != nil {
		if s.Type != nil && len(s.Type.Slice()) > 0 {
			typ = s.Type.Slice()[0]
		} else if admitsBoolean(s) {
			typ = openapi3.TypeBoolean
		}
	}
	v := validationError{Loc: loc, Input: input}
	if !param && input != nil {
		// A body value lax coercion (lax.go) could not convert: the
		// entry pydantic gives for it ("ten" is int_parsing, 10.5 is
		// int_from_float, [] is int_type).
		if issue := laxIssueFor(typ, input); issue != nil {
			v.Type, v.Msg = issue.Type, issue.Msg
			return v
		}
	}
	switch typ {
	case openapi3.TypeInteger:
		if param {
			v.Type, v.Msg = "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
		} else {
			v.Type, v.Msg = "int_type", "Input should be a valid integer"
		}
	case openapi3.TypeNumber:
		if param {
			v.Type, v.Msg = "float_parsing", "Input should be a valid number, unable to parse string as a number"
		} else {
			v.Type, v.Msg = "float_type", "Input should be a valid number"
		}
	case openapi3.TypeBoolean:
		if param {
			v.Type, v.Msg = "bool_parsing", "Input should be a valid boolean, unable to interpret input"
		} else {
			v.Type, v.Msg = "bool_type", "Input should be a valid boolean"
		}
	case openapi3.TypeString:
		v.Type, v.Msg = "string_type", "Input should be a valid string"
	case openapi3.TypeArray:
		v.Type, v.Msg = "list_type", "Input should be a valid list"
	case openapi3.TypeObject:
		v.Type, v.Msg = "dict_type", "Input should be a valid dictionary"
	default:
		v.Type, v.Msg = "value_error", "Value error, invalid value"
	}
	return v
}

// admitsBoolean reports a schema that is, or offers as an alternative, a boolean.
func admitsBoolean(s *openapi3.Schema) bool {
	if s == nil {
		return false
	}
	if s.Type != nil && s.Type.Is(openapi3.TypeBoolean) {
		return true
	}
	for _, alt := range slices.Concat(s.AnyOf, s.OneOf) {
		if alt != nil && alt.Value != nil && alt.Value.Type != nil && alt.Value.Type.Is(openapi3.TypeBoolean) {
			return true
		}
	}
	return false
}

func plural(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func number(f *float64) string {
	if f == nil {
		return "0"
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// enumText is pydantic's "'a', 'b' or 'c'".
func enumText(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprintf("'%v'", v)
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// ---------------------------------------------------------------------------
// The document routes (api.md §0.1).

// docRoutes registers GET /openapi.json, /v1/openapi.json, /v1/docs,
// /v1/redoc and the pages' assets, /v1/docs/assets/{file}, each validated
// like every other route. The pages load nothing from another origin: their
// scripts and styles are embedded in the binary (package docsui), so they
// work offline.
func (s *Server) docRoutes(e table) {
	body := sync.OnceValues(func() ([]byte, error) { return servedDocument(s.opts.Version) })
	doc := func(c echo.Context) error {
		b, err := body()
		if err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, b)
	}
	html := func(page string) echo.HandlerFunc {
		return func(c echo.Context) error { return c.HTML(http.StatusOK, page) }
	}
	v := s.validated()
	docs := public("the API's documentation")
	e.GET("/openapi.json", doc, nil, docs, v)
	e.GET("/v1/openapi.json", doc, nil, docs, v)
	e.GET("/v1/docs", html(swaggerUIPage), nil, docs, v)
	e.GET("/v1/redoc", html(redocPage), nil, docs, v)
	e.GET(docsAssets+":file", getDocsAsset, nil, docs, v)
}

// docsAssets is the path under which the documentation pages' assets are
// served.
const docsAssets = "/v1/docs/assets/"

// getDocsAsset serves one embedded asset of the documentation pages. The
// pages name each asset with its content hash (?h=…), so it may be cached
// for a year: a new version has a new URL.
func getDocsAsset(c echo.Context) error {
	a := docsui.Lookup(c.Param("file"))
	if a == nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	etag := `"` + a.Hash + `"`
	h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, a.ContentType, a.Body)
}

// assetURL is the URL the pages use for the asset named name.
func assetURL(name string) string {
	a := docsui.Lookup(name)
	if a == nil {
		panic("docs page names a missing asset: " + name)
	}
	return docsAssets + name + "?h=" + a.Hash
}

// servedDocument is the document as JSON with info.version set to version
// (when given).
func servedDocument(version string) ([]byte, error) {
	oa, err := loadedOpenAPI()
	if err != nil {
		return nil, err
	}
	if version == "" {
		return oa.served, nil
	}
	var m map[string]any
	if err := json.Unmarshal(oa.served, &m); err != nil {
		return nil, err
	}
	if info, ok := m["info"].(map[string]any); ok {
		info["version"] = version
	}
	return json.Marshal(m)
}

// swaggerUIPage is /v1/docs. The validator badge is off: it would send the
// document to validator.swagger.io.
var swaggerUIPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Huey Books API - Swagger UI</title>
<link rel="stylesheet" href="` + assetURL("swagger-ui.css") + `">
</head>
<body>
<div id="swagger-ui"></div>
<script src="` + assetURL("swagger-ui-bundle.js") + `"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
</script>
</body>
</html>
`

// redocPage is /v1/redoc.
var redocPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Huey Books API - ReDoc</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="/v1/openapi.json"></redoc>
<script src="` + assetURL("redoc.standalone.js") + `"></script>
</body>
</html>
`
