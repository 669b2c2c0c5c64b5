package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// fetchDocument fetches and loads the document the API serves.
func fetchDocument(t testing.TB, v *env, path string) *openapi3.T {
	t.Helper()
	rec := v.do(http.MethodGet, path, "", nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
		t.Fatalf("GET %s: %d %s %.200s", path, rec.Code, rec.Header().Get(echo.HeaderContentType), rec.Body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate %s: %v", path, err)
	}
	return doc
}

// echoToOpenAPI turns an Echo route path into an OpenAPI template: :p → {p}.
func echoToOpenAPI(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

var httpMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

// Every registered route is in the document and every operation of the
// document is a registered route.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	doc := fetchDocument(t, v, "/openapi.json")

	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	registered := map[string]bool{}
	for _, r := range v.e.Routes() {
		if !slices.Contains(httpMethods, r.Method) {
			continue // Echo's RouteNotFound entries
		}
		registered[r.Method+" "+echoToOpenAPI(r.Path)] = true
	}
	for k := range registered {
		if !documented[k] {
			t.Errorf("route %s is not in openapi.yaml", k)
		}
	}
	for k := range documented {
		if !registered[k] {
			t.Errorf("openapi.yaml describes %s, which is not a registered route", k)
		}
	}
	if len(registered) == 0 {
		t.Fatal("no routes")
	}

	// Every authenticated operation says so; every operation documents its
	// success and, where it takes input, its 422.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
			if (len(op.Parameters) > 0 || op.RequestBody != nil) && op.Responses.Value("422") == nil {
				t.Errorf("%s %s takes input but documents no 422", method, path)
			}
		}
	}
}

// oaAdmin creates a Wriveted admin and returns its token.
func oaAdmin(v *env) string {
	return v.userToken(v.user("Oa Admin", "WRIVETED", nil))
}

func oaSchoolBody(name string) map[string]any {
	return map[string]any{"name": name, "country_code": "NZL", "official_identifier": "OA-" + name,
		"info": map[string]any{"location": map[string]any{"state": "Auckland", "postcode": "1010"}}}
}

// detailOf decodes a 422 body: {"detail": [{type, loc, msg, input}...]}.
func detailOf(t *testing.T, rec *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %s", rec.Code, rec.Body)
	}
	var body struct {
		Detail []map[string]any `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || len(body.Detail) == 0 {
		t.Fatalf("422 body %s is not {\"detail\": [...]}: %v", rec.Body, err)
	}
	for _, d := range body.Detail {
		for _, k := range []string{"type", "loc", "msg", "input"} {
			if _, ok := d[k]; !ok {
				t.Errorf("entry %v lacks %q", d, k)
			}
		}
		loc, _ := d["loc"].([]any)
		if len(loc) == 0 || !slices.Contains([]any{"body", "query", "path"}, loc[0]) {
			t.Errorf("entry %v: loc must start with body, query or path", d)
		}
	}
	return body.Detail
}

// hasEntry reports an entry with the type and loc (and input, unless nil).
func hasEntry(entries []map[string]any, typ string, loc []any, input any) bool {
	for _, e := range entries {
		if e["type"] == typ && reflect.DeepEqual(e["loc"], loc) && (input == nil || reflect.DeepEqual(e["input"], input)) {
			return true
		}
	}
	return false
}

func TestOpenAPIValidationErrorsUseTheOriginalShape(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	sch := v.school("Oa School", "ACTIVE")

	type want struct {
		typ   string
		loc   []any
		input any
	}
	cases := []struct {
		name                string
		method, path, token string
		body                any
		want                []want
	}{
		{"bad uuid in path", http.MethodGet, "/v1/school/not-a-uuid", admin, nil,
			[]want{{"uuid_parsing", []any{"path", "wriveted_identifier"}, "not-a-uuid"}}},
		{"bad uuid in path, public route", http.MethodGet, "/v1/school/1234/exists", "", nil,
			[]want{{"uuid_parsing", []any{"path", "wriveted_identifier"}, "1234"}}},
		{"bad uuid in path, POST", http.MethodPost, "/v1/user/nope/auth-token", admin, nil,
			[]want{{"uuid_parsing", []any{"path", "user_id"}, "nope"}}},
		{"non-integer limit", http.MethodGet, "/v1/schools?limit=ten", admin, nil,
			[]want{{"int_parsing", []any{"query", "limit"}, "ten"}}},
		{"negative skip", http.MethodGet, "/v1/schools?skip=-1", admin, nil,
			[]want{{"greater_than_equal", []any{"query", "skip"}, "-1"}}},
		{"every query problem is reported", http.MethodGet, "/v1/schools?skip=-5&limit=x&is_active=maybe", admin, nil,
			[]want{{"greater_than_equal", []any{"query", "skip"}, "-5"}, {"int_parsing", []any{"query", "limit"}, "x"},
				{"bool_parsing", []any{"query", "is_active"}, "maybe"}}},
		{"missing name", http.MethodPost, "/v1/school", admin,
			map[string]any{"country_code": "NZL", "info": map[string]any{"location": map[string]any{"state": "A", "postcode": "1"}}},
			[]want{{"missing", []any{"body", "name"}, nil}}},
		{"missing fields in a list item", http.MethodPost, "/v1/schools", admin,
			[]any{oaSchoolBody("Fine"), map[string]any{"name": "No country", "info": map[string]any{"location": map[string]any{}}}},
			[]want{{"missing", []any{"body", 1.0, "country_code"}, nil}, {"missing", []any{"body", 1.0, "info", "location", "postcode"}, nil}}},
		{"wrong type", http.MethodPost, "/v1/school", admin,
			map[string]any{"name": true, "country_code": "NZL", "info": map[string]any{"location": map[string]any{"state": "A", "postcode": "1"}}},
			[]want{{"string_type", []any{"body", "name"}, true}}},
		{"non-JSON body", http.MethodPost, "/v1/school", admin, "this is not json",
			[]want{{"json_invalid", []any{"body"}, nil}}},
		{"empty body", http.MethodPost, "/v1/school", admin, "",
			[]want{{"missing", []any{"body"}, nil}}},
		{"bad uuid in body", http.MethodPost, "/v1/auth/register-student", "",
			map[string]any{"first_name": "Sam", "last_name_initial": "S", "school_id": "x", "class_joining_code": "ABCDEF"},
			[]want{{"uuid_parsing", []any{"body", "school_id"}, "x"}}},
		{"missing class-code fields", http.MethodPost, "/v1/auth/class-code", "", map[string]any{},
			[]want{{"missing", []any{"body", "class_joining_code"}, nil}, {"missing", []any{"body", "username"}, nil}}},
		{"bad patch body", http.MethodPatch, "/v1/school/" + sch.WID.String(), admin, map[string]any{"name": ""},
			[]want{{"string_too_short", []any{"body", "name"}, ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := v.do(tc.method, tc.path, tc.token, tc.body)
			entries := detailOf(t, rec)
			for _, w := range tc.want {
				if !hasEntry(entries, w.typ, w.loc, w.input) {
					t.Errorf("%s %s: no entry {type %q, loc %v, input %v} in %s", tc.method, tc.path, w.typ, w.loc, w.input, rec.Body)
				}
			}
		})
	}
}

// The document is never stricter than the handlers.
func TestOpenAPIValidationIsNotStricterThanHandlers(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	admin := oaAdmin(v)
	for _, path := range []string{
		"/v1/schools?limit=&skip=", "/v1/schools?is_active=yes&connected_collection=OFF&has_active_subscription=1",
		"/v1/schools?limit=2000&skip=0&q=x&country_code=NZL",
	} {
		if rec := v.do(http.MethodGet, path, admin, nil); rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	// A UUID in any form uuid.Parse accepts, whatever its version.
	sch := v.school("Oa Forms", "ACTIVE")
	for _, id := range []string{sch.WID.String(), strings.ReplaceAll(sch.WID.String(), "-", ""),
		"{" + sch.WID.String() + "}", strings.ToUpper(sch.WID.String())} {
		if rec := v.do(http.MethodGet, "/v1/school/"+id+"/exists", "", nil); rec.Code != http.StatusOK {
			t.Errorf("exists %s: %d %s", id, rec.Code, rec.Body)
		}
	}
	if rec := v.do(http.MethodGet, "/v1/school/"+uuid.Must(uuid.NewV7()).String()+"/exists", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("exists with a v7 UUID: %d %s, want 404", rec.Code, rec.Body)
	}

	// Unknown properties are ignored; the body reaches the handler intact,
	// whatever the Content-Type; names are counted in characters, not UTF-16.
	body := oaSchoolBody("Oa Créée")
	body["unknown"] = map[string]any{"x": 1}
	body["info"].(map[string]any)["anything"] = []any{1, "two"}
	rec := v.do(http.MethodPost, "/v1/school", admin, body)
	wantStatus(t, rec, http.StatusOK)
	if got := decode[map[string]any](t, rec); got["name"] != "Oa Créée" {
		t.Errorf("created %v", got["name"])
	}
	emoji := strings.Repeat("😀", 200) // 200 characters, 400 UTF-16 units
	buf, _ := json.Marshal(oaSchoolBody(emoji))
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/school", bytes.NewReader(buf))
	req.Header.Set(echo.HeaderContentType, "text/plain")
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+admin)
	out := httptest.NewRecorder()
	v.e.ServeHTTP(out, req)
	wantStatus(t, out, http.StatusOK)
	if got := decode[map[string]any](t, out); got["name"] != emoji {
		t.Errorf("created %v", got["name"])
	}
	// A patch of nothing but nulls is accepted, as the handler accepts it.
	rec = v.do(http.MethodPatch, "/v1/school/"+sch.WID.String(), admin,
		map[string]any{"name": nil, "status": nil, "info": nil, "lms_type": nil, "country_code": "XXX"})
	wantStatus(t, rec, http.StatusOK)
}

func TestOpenAPIDocumentsAreServed(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	root := fetchDocument(t, v, "/openapi.json")
	v1 := fetchDocument(t, v, "/v1/openapi.json")
	if root.OpenAPI != "3.0.3" || root.Info.Version != "1.2.3" || !reflect.DeepEqual(root.Paths.InMatchingOrder(), v1.Paths.InMatchingOrder()) {
		t.Errorf("documents differ or lack the version: %s %q", root.OpenAPI, root.Info.Version)
	}
	if root.Components.SecuritySchemes["bearerAuth"] == nil ||
		root.Paths.Value("/v1/auth/me").Get.Security == nil {
		t.Error("the served document lacks its security requirements")
	}
	for path, marker := range map[string]string{"/v1/docs": "swagger-ui", "/v1/redoc": "redoc"} {
		rec := v.do(http.MethodGet, path, "", nil)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get(echo.HeaderContentType), echo.MIMETextHTML) ||
			!strings.Contains(rec.Body.String(), marker) || !strings.Contains(rec.Body.String(), "/v1/openapi.json") {
			t.Errorf("GET %s: %d %s %.300s", path, rec.Code, rec.Header().Get(echo.HeaderContentType), rec.Body)
		}
	}
}

// responseChecker validates responses against the served document.
type responseChecker struct {
	t      *testing.T
	v      *env
	router routers.Router
	seen   map[string]bool
}

func newResponseChecker(t *testing.T, v *env) *responseChecker {
	doc := fetchDocument(t, v, "/openapi.json")
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &responseChecker{t: t, v: v, router: router, seen: map[string]bool{}}
}

// do sends a request and checks that its status is documented and its body
// matches the documented schema.
func (rc *responseChecker) do(method, path, token string, body any, want int) *httptest.ResponseRecorder {
	t := rc.t
	t.Helper()
	rec := rc.v.do(method, path, token, body)
	if rec.Code != want {
		t.Errorf("%s %s: status %d, want %d: %.300s", method, path, rec.Code, want, rec.Body)
		return rec
	}
	req := httptest.NewRequestWithContext(context.Background(), method, path, nil)
	route, params, err := rc.router.FindRoute(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return rec
	}
	rc.seen[fmt.Sprintf("%s %s %d", method, route.Path, rec.Code)] = true
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true, MultiError: true,
			// kin-openapi decodes no HTML, JavaScript or CSS; the status and
			// content type are still checked.
			ExcludeResponseBody: slices.ContainsFunc([]string{echo.MIMETextHTML, "text/javascript", "text/css"},
				func(p string) bool { return strings.HasPrefix(rec.Header().Get(echo.HeaderContentType), p) }),
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid",
				openapi3.NewCallbackValidator(func(s string) error { _, err := uuid.Parse(s); return err }))},
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d does not match the document: %v\nbody: %.500s", method, path, rec.Code, err, rec.Body)
	}
	return rec
}

// The handlers' responses match the documented response schemas.
func TestOpenAPIResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	rc := newResponseChecker(t, v)
	admin := oaAdmin(v)
	sch := v.school("Oa Resp", "ACTIVE")
	wid := sch.WID.String()
	adminID := v.user("Oa School Admin", "SCHOOL_ADMIN", &sch)
	educator := v.userToken(v.user("Oa Educator", "EDUCATOR", &sch))
	student := v.userToken(v.user("Oa Student", "STUDENT", &sch))
	parent := v.userToken(v.user("Oa Parent", "PARENT", nil))
	reader := v.userToken(v.user("Oa Reader", "PUBLIC", nil))
	backend := v.saToken(v.serviceAccount("Oa Backend", "BACKEND"))

	rc.do(http.MethodGet, "/v1/version", "", nil, 200)
	rc.do(http.MethodGet, "/v1/healthcheck/db", "", nil, 200)
	rc.do(http.MethodGet, "/v1/.well-known/security.txt", "", nil, 200)
	rc.do(http.MethodGet, "/.well-known/security.txt", "", nil, 200)
	rc.do(http.MethodGet, "/", "", nil, 307)
	rc.do(http.MethodGet, "/docs", "", nil, 307)
	rc.do(http.MethodGet, "/v1/docs", "", nil, 200)
	rc.do(http.MethodGet, "/v1/redoc", "", nil, 200)
	rc.do(http.MethodGet, "/v1/openapi.json", "", nil, 200)
	rc.do(http.MethodGet, "/v1/docs/assets/swagger-ui-bundle.js", "", nil, 200)
	rc.do(http.MethodGet, "/v1/docs/assets/swagger-ui.css", "", nil, 200)
	rc.do(http.MethodGet, "/v1/docs/assets/redoc.standalone.js.LICENSE.txt", "", nil, 200)
	rc.do(http.MethodGet, "/v1/docs/assets/nothing.js", "", nil, 404)
	rc.do(http.MethodGet, "/openapi.json", "", nil, 200)

	for _, tok := range []string{admin, v.userToken(adminID), educator, student, parent, reader, backend} {
		rc.do(http.MethodGet, "/v1/auth/me", tok, nil, 200)
	}
	rc.do(http.MethodGet, "/v1/auth/me", "", nil, 401)
	rc.do(http.MethodGet, "/v1/auth/me", "not-a-token", nil, 403)
	rc.do(http.MethodGet, "/v1/auth/firebase", "", nil, 401)
	rc.do(http.MethodGet, "/v1/auth/firebase?create=false&checkout_session_id=cs", "", nil, 401)
	rc.do(http.MethodPost, "/v1/auth/class-code", "", map[string]any{"username": "nobody", "class_joining_code": "NOCODE"}, 401)
	rc.do(http.MethodPost, "/v1/auth/register-student", "", map[string]any{"first_name": "Sam", "last_name_initial": "S",
		"school_id": uuid.NewString(), "class_joining_code": "NOCODE"}, 404)
	rc.do(http.MethodPost, "/v1/user/"+adminID.String()+"/auth-token", admin, nil, 200)
	rc.do(http.MethodPost, "/v1/user/"+uuid.NewString()+"/auth-token", admin, nil, 404)

	rc.do(http.MethodGet, "/v1/schools", admin, nil, 200)
	rc.do(http.MethodGet, "/v1/schools?limit=1", educator, nil, 200)
	rc.do(http.MethodGet, "/v1/schools?limit=x", admin, nil, 422)
	rc.do(http.MethodGet, "/v1/school/"+wid, admin, nil, 200)
	rc.do(http.MethodGet, "/v1/school/"+wid, educator, nil, 200)
	rc.do(http.MethodGet, "/v1/school/"+wid, reader, nil, 403)
	rc.do(http.MethodGet, "/v1/school/"+uuid.NewString(), admin, nil, 404)
	rc.do(http.MethodGet, "/v1/school/"+wid+"/exists", "", nil, 200)
	rc.do(http.MethodGet, "/v1/school/"+wid+"/bot", admin, nil, 200)
	rc.do(http.MethodGet, "/v1/school/"+wid+"/bookbot", educator, nil, 200)
	rc.do(http.MethodPatch, "/v1/school/"+wid, admin, map[string]any{"status": "ACTIVE", "info": map[string]any{"sector": "state"}}, 200)
	rc.do(http.MethodPatch, "/v1/school/"+wid+"/admin", admin, nil, 401)
	created := rc.do(http.MethodPost, "/v1/school", admin, oaSchoolBody("Oa Created"), 200)
	rc.do(http.MethodPost, "/v1/school", admin, map[string]any{}, 422)
	rc.do(http.MethodPost, "/v1/schools", admin, []any{oaSchoolBody("Oa Bulk 1"), oaSchoolBody("Oa Bulk 2")}, 200)
	if wid2, _ := decode[map[string]any](t, created)["wriveted_identifier"].(string); wid2 != "" {
		rc.do(http.MethodDelete, "/v1/school/"+wid2, admin, nil, 200)
	}
	rc.do(http.MethodDelete, "/v1/school/"+uuid.NewString(), admin, nil, 404)
	if len(rc.seen) < 30 {
		t.Errorf("only %d (operation, status) pairs checked", len(rc.seen))
	}
}

// BenchmarkOpenAPIValidation measures whole requests through the API with
// the validation middleware: a GET with a UUID path parameter that the
// document rejects (no database work), one it accepts (one database round
// trip), and a GET with query parameters that the handler answers (401)
// without the database.
func BenchmarkOpenAPIValidation(b *testing.B) {
	v := newEnv(b)
	sch := v.school("Oa Bench", "ACTIVE")
	run := func(b *testing.B, path, token string, want int) {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
		if token != "" {
			req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
		}
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			v.e.ServeHTTP(rec, req)
			if rec.Code != want {
				b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
			}
		}
	}
	b.Run("uuid-path-rejected", func(b *testing.B) { run(b, "/v1/school/not-a-uuid/exists", "", 422) })
	b.Run("uuid-path-accepted", func(b *testing.B) { run(b, "/v1/school/"+sch.WID.String()+"/exists", "", 200) })
	b.Run("query-no-db", func(b *testing.B) { run(b, "/v1/auth/firebase?create=yes&checkout_session_id=cs", "", 401) })
}
