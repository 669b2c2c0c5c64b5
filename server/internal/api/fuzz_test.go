package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/server/internal/api"
)

// Fuzzing over HTTP (issue 12): every route that takes a JSON body, the
// path and query parameters of every GET route, and the bearer token. Each
// target builds one database per process; `go test` runs the seeds, `make
// fuzz` fuzzes each target for a while. A failure is an answer ≥ 500, an
// answer that is not the JSON it claims to be, or a refused request (non-2xx)
// that changed the database.
//
// Bodies and paths are templates: {name} stands for a fixture of the
// process that runs it (each fuzzing worker has its own database, so
// identifiers differ), and is replaced just before the request is sent.

// fuzzFix is a fuzz target's API over a cast and some fixtures.
type fuzzFix struct {
	c    *cast
	vars map[string]string
	logs *syncBuf
	// fingerprint is a hash of every row of the tables a request may write.
	fingerprint string
}

// syncBuf collects the server's error log (it names the cause of a 500).
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// fuzzTables are the tables a request can write; a refused request must
// leave every row of them as it was.
var fuzzTables = []string{"users", "readers", "students", "educators", "school_admins", "parents", "supporters",
	"schools", "class_groups", "service_accounts", "service_account_school_association", "collections",
	"collection_items", "collection_item_activity_log", "book_lists", "book_list_works", "works", "editions",
	"authors", "illustrators", "author_work_association", "illustrator_edition_association", "series",
	"labelsets", "events", "event_outbox", "task_queue", "subscriptions", "supporter_reader_association"}

func fingerprintSQL() string {
	parts := make([]string, len(fuzzTables))
	for i, t := range fuzzTables {
		parts[i] = "(SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM " + t + " x)"
	}
	return "SELECT " + strings.Join(parts, " || ',' || ")
}

var fuzzFingerprint = fingerprintSQL()

func newFuzzFix(f *testing.F) *fuzzFix {
	f.Helper()
	logs := &syncBuf{}
	c := newCast(f, func(o *apiOptions) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
		o.Hydrator = stubHydrator{hyTreehouse: hydrationStub()[hyTreehouse]} // answers one ISBN, 404 for the rest
	})
	v := c.v
	class := v.class(c.a, "Fuzz class")
	joinCode, _ := v.scalar(`SELECT join_code FROM class_groups WHERE id = $1`, class).(string)
	work := v.work("Fuzz work")
	isbn := newISBN()
	v.edition(isbn, work, nil)
	coll := v.collection(&c.a, nil, "Fuzz shelf")
	item := v.item(coll, isbn, 2, 2, `{}`)
	reader := c.ids["public reader"]
	list := uuid.New()
	v.exec(`INSERT INTO book_lists (id, name, type, sharing, user_id) VALUES ($1, 'Fuzz list', 'PERSONAL', 'PRIVATE', $2)`, list, reader)
	v.exec(`INSERT INTO book_list_works (booklist_id, work_id, order_id) VALUES ($1, $2, 0)`, list, work)
	v.exec(`INSERT INTO supporter_reader_association (supporter_id, reader_id, is_active, supporter_nickname)
		VALUES ($1, $2, true, 'Nana')`, c.ids["supporter"], reader)
	event := uuid.New()
	v.exec(`INSERT INTO events (id, title, level, user_id, info, "timestamp") VALUES ($1,
		'Reader timeline event: Reading logged', 'NORMAL', $2, $3::jsonb, now())`, event, reader,
		`{"collection_item_id": `+strconv.FormatInt(item, 10)+`, "collection_id": "`+coll.String()+`", "emoji": "🤪",
		"descriptor": "Funny", "timestamp": "2024-05-01T09:30:00", "finished": true, "stopped": false, "description": ""}`)
	sa := v.serviceAccount("fuzz lms", "LMS", c.a)
	fx := &fuzzFix{c: c, logs: logs, vars: map[string]string{
		"school": c.a.WID.String(), "school_b": c.b.WID.String(), "school_id": strconv.FormatInt(c.a.ID, 10),
		"class": class.String(), "join_code": joinCode, "work": strconv.FormatInt(work, 10), "isbn": isbn,
		"collection": coll.String(), "item": strconv.FormatInt(item, 10), "list": list.String(),
		"event": event.String(), "sa": sa.String(), "student": c.ids["student A"].String(),
		"reader": reader.String(), "admin_id": c.ids["admin"].String(), "educator": c.ids["educator A"].String(),
	}}
	return fx
}

var placeholderRE = regexp.MustCompile(`\{[a-z_]+\}`)

// fill replaces the {name} placeholders of s with the process's fixtures.
func (fx *fuzzFix) fill(s string) string {
	return placeholderRE.ReplaceAllStringFunc(s, func(p string) string {
		if v, ok := fx.vars[p[1:len(p)-1]]; ok {
			return v
		}
		return p
	})
}

// echoPath turns an echo route path into a template: each :param becomes {param}.
var echoParamRE = regexp.MustCompile(`:([a-z_]+)`)

// pathVars names the fixture each path parameter of the routes stands for.
var pathVars = map[string]string{
	"wriveted_identifier": "school", "user_id": "student", "service_account_id": "sa", "author_id": "1",
	"illustrator_id": "1", "work_id": "work", "isbn": "isbn", "collection_id": "collection",
	"booklist_identifier": "list", "collection_item_id": "item", "id": "class", "booklist_slug": "fuzz-list",
	"event_id": "event", "file": "swagger-ui.css", "decision_id": "dec-none",
}

func routeTemplate(path string) string {
	return echoParamRE.ReplaceAllStringFunc(path, func(p string) string {
		v := pathVars[p[1:]]
		if v == "" || v[0] >= '0' && v[0] <= '9' || strings.Contains(v, "-") {
			return v
		}
		return "{" + v + "}"
	})
}

// snapshot is the fingerprint of the database now.
func (fx *fuzzFix) snapshot(t *testing.T) string {
	var s string
	if err := fx.c.v.super.QueryRow(context.Background(), fuzzFingerprint).Scan(&s); err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	return s
}

// check fails on an answer ≥ 500, a body that is not the JSON it claims to
// be (a half-written answer), an error that is not {"detail": …}, and a
// refused request that changed the database.
func (fx *fuzzFix) check(t *testing.T, what string, rec *httptest.ResponseRecorder, before string) {
	t.Helper()
	logs := fx.logs.take()
	if rec.Code >= 500 {
		t.Fatalf("%s: %d %s\nserver log: %s", what, rec.Code, rec.Body, logs)
	}
	if strings.HasPrefix(rec.Header().Get(echo.HeaderContentType), echo.MIMEApplicationJSON) && !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s: %d with a body that is not JSON: %q", what, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var body map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["detail"] == nil {
			t.Fatalf("%s: %d not in the error shape: %s", what, rec.Code, rec.Body)
		}
	}
	if rec.Code >= 300 { // refused (or redirected): nothing written
		if after := fx.snapshot(t); after != before {
			t.Fatalf("%s: refused with %d (%s) but the database changed", what, rec.Code, rec.Body)
		}
	}
}

// serve sends req and answers the recorder.
func (fx *fuzzFix) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	fx.c.v.e.ServeHTTP(rec, req)
	return rec
}

// bodyRoute is one route that takes a JSON body: the callers it is fuzzed
// as and realistic bodies (templates) to start from.
type bodyRoute struct {
	group   string
	callers []string
	bodies  []string
}

var (
	admins      = []string{"admin", "schooladmin A"}
	staff       = []string{"admin", "schooladmin A", "educator A"}
	anonymous   = []string{"anonymous", "admin"}
	readerCalls = []string{"admin", "public reader", "schooladmin A"}
)

// bodyRoutes has every POST, PUT and PATCH route (TestHardening_FuzzCoversEveryRoute
// fails when one is missing), keyed "METHOD echo-path".
var bodyRoutes = map[string]bodyRoute{
	"POST /v1/auth/class-code": {"Auth", anonymous, []string{
		`{"username":"SamS42","class_joining_code":"{join_code}"}`, `{"username":"x"}`}},
	"POST /v1/auth/register-student": {"Auth", anonymous, []string{
		`{"first_name":"Tama","last_name_initial":"K","school_id":"{school}","class_joining_code":"{join_code}"}`}},
	"POST /v1/user/:user_id/auth-token": {"Auth", admins, []string{``, `{}`}},

	"POST /v1/schools": {"Schools", admins, []string{
		`[{"name":"Fuzz Bulk","country_code":"NZL","official_identifier":"FZ-1","info":{"location":{"state":"Auckland","postcode":"1010"}}}]`, `[]`}},
	"POST /v1/school": {"Schools", admins, []string{
		`{"name":"Fuzz School","country_code":"NZL","official_identifier":"FZ-2","info":{"location":{"state":"Auckland","postcode":"1010"}}}`}},
	"PATCH /v1/school/:wriveted_identifier": {"Schools", admins, []string{
		`{"status":"ACTIVE","info":{"sector":"state"}}`, `{"name":""}`, `{"bookbot_type":"huey_books","lms_type":"none"}`}},
	"PATCH /v1/school/:wriveted_identifier/admin": {"Schools", admins, []string{`{}`, ``}},
	"POST /v1/school/:wriveted_identifier/class":  {"Schools", staff, []string{`{"name":"New class"}`, `{"name":"Class","join_code":"QWRTYP"}`}},
	"PATCH /v1/class/:id":                         {"Schools", staff, []string{`{"name":"Renamed"}`, `{"join_code":"BCDFGH"}`}},

	"POST /v1/user": {"Users", admins, []string{
		`{"type":"student","first_name":"Bo","last_name_initial":"B","school_id":"{school}","class_group_id":"{class}","username":"bobby"}`,
		`{"name":"Ed","email":"ed@example.org","type":"educator","school_id":{school_id}}`, `{"name":"x"}`}},
	"PATCH /v1/user/:user_id": {"Users", admins, []string{`{"username":"Bobby"}`, `{"name":"New","is_active":true}`}},
	"POST /v1/service-account": {"Users", admins, []string{
		`{"name":"Fuzz SA","type":"lms","schools":[{"wriveted_identifier":"{school}"}]}`, `{"name":"K","type":"kiosk"}`}},
	"PUT /v1/service-account/:service_account_id": {"Users", admins, []string{`{"name":"Renamed SA","is_active":true}`}},
	"POST /v1/explain": {"Users", admins, []string{
		`{"account_id":"{student}","action":"read","resource":{"type":"user","id":"{student}"}}`,
		`{"account_id":"{student}","action":"update","resource":{"type":"collection_item","id":"1"}}`, `{"account_id":"x"}`}},

	"POST /v1/work": {"Catalogue", admins, []string{
		`{"title":"New home","type":"BOOK","authors":[{"first_name":"C S","last_name":"Lewis"}],"editions":["{isbn}","bad"],"info":{"genres":[]}}`}},
	"PATCH /v1/work/:work_id":                {"Catalogue", admins, []string{`{"title":"Retitled","authors":[{"last_name":"Other"}]}`}},
	"POST /v1/work/:work_id/generate-labels": {"Catalogue", admins, []string{``}},
	"POST /v1/edition": {"Catalogue", admins, []string{
		`{"isbn":"0-00-745357-4","hydrated":true,"title":"The Treehouse","authors":[{"first_name":"Andy","last_name":"Griffiths"}],"illustrators":[{"first_name":"Terry","last_name":"Denton"}],"cover_url":"https://example.org/c.jpg","date_published":2011,"info":{"pages":256,"genres":[{"name":"Humour","source":"BIC"}]}}`}},
	"PATCH /v1/edition/:isbn": {"Catalogue", admins, []string{`{"info":{"x":1}}`, `{"illustrators":[{"last_name":"Denton"}]}`, `{"title":"T","work_id":{work}}`}},
	"POST /v1/editions": {"Catalogue", admins, []string{
		`[{"isbn":"9780143782797","hydrated":true,"title":"The 13-Storey Treehouse","authors":[{"first_name":"Andy","last_name":"Griffiths"}],"series_name":"Treehouse","series_number":1,"date_published":2011,"labelset":{"min_age":6,"max_age":10,"age_origin":"HUMAN"}},{"isbn":"0007453574"},{"isbn":"not-an-isbn"}]`}},
	"POST /v1/editions/compare": {"Catalogue", staff, []string{`["{isbn}","9780143782797",null]`}},
	"PATCH /v1/labelsets": {"Catalogue", admins, []string{
		`[{"isbn":"{isbn}","huey_pick":true,"patch_data":{"huey_summary":"Fun","summary_origin":"HUMAN","hue_primary_key":"hue05_funny_comic","min_age":5}},{"isbn":"9780143782797","huey_pick":false,"patch_data":{}}]`}},
	"POST /v1/hydrate": {"Catalogue", admins, []string{`["{isbn}"]`, ``}},

	"POST /v1/collection": {"Collections", admins, []string{
		`{"name":"A books","school_id":"{school}","items":[{"edition_isbn":"0-7475-3269-9"},{"info":{"title":"Zine"}}]}`,
		`{"name":"Mine","user_id":"{reader}"}`}},
	"PUT /v1/collection/:collection_id": {"Collections", admins, []string{`{"name":"Shelf","school_id":"{school}"}`}},
	"PATCH /v1/collection/:collection_id": {"Collections", admins, []string{
		`{"name":"Renamed","items":[{"action":"update","edition_isbn":"{isbn}","copies_total":5},{"action":"update","id":{item},"info":{"other":{"shelf":"B3"}}},{"action":"remove","edition_isbn":"9780008197049"},{"action":"add","info":{"title":"Our Class Zine","author":"Room 12"}}]}`}},
	"PUT /v1/collection/:collection_id/items": {"Collections", admins, []string{
		`[{"edition_isbn":"{isbn}","copies_total":2},{"edition_isbn":"0-7475-3269-9"},{"edition_isbn":"bad"}]`}},
	"POST /v1/collection/:collection_id/item": {"Collections", admins, []string{
		`{"info":{"title":"Shelf"},"reader_id":"{student}","read_status":"READING"}`, `{"edition_isbn":"{isbn}","copies_total":3}`}},
	"POST /v1/collection-item-activity": {"Collections", readerCalls, []string{
		`{"collection_item_id":{item},"reader_id":"{student}","status":"READING"}`}},

	"POST /v1/list": {"Lists", readerCalls, []string{
		`{"name":"Mine","type":"personal"}`, `{"name":"Staff pick","type":"school","school_id":"{school}","items":[{"work_id":{work},"order_id":0}]}`}},
	"PATCH /v1/list/:booklist_identifier": {"Lists", readerCalls, []string{
		`{"items":[{"action":"add","work_id":{work},"order_id":1},{"action":"update","work_id":{work},"order_id":0,"info":{"note":"x"}}]}`,
		`{"type":"Huey","sharing":"public","slug":"mine"}`}},
	"POST /v1/events": {"Lists", staff, []string{
		`{"title":"Checked in","level":"normal","school_id":"{school}","info":{"n":1}}`, `{"title":"Mine","user_id":"{educator}"}`}},
	"POST /v1/feedback/:event_id": {"Lists", []string{"supporter", "admin"}, []string{
		`{"event_id":"{event}","comment":"Well done!","gif_url":"https://gif.example/x.gif"}`}},
	"POST /v1/recommend": {"Lists", staff, []string{
		`{"hues":["hue05_funny_comic","hue12_funny_quirky"],"age":8,"reading_abilities":["SPOT"]}`, `{"wriveted_identifier":"{school}"}`, `{"age":2147483648}`}},
}

// routesOf lists a group's routes, sorted (the fuzz input picks one by index).
func routesOf(group string) []string {
	var out []string
	for k, r := range bodyRoutes {
		if r.group == group {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// fuzzBody fuzzes the JSON body of a group's routes as their callers.
func fuzzBody(f *testing.F, group string) {
	routes := routesOf(group)
	if len(routes) == 0 {
		f.Fatalf("no routes in group %s", group)
	}
	fx := newFuzzFix(f)
	for i, k := range routes {
		r := bodyRoutes[k]
		for j := range r.callers {
			for _, b := range r.bodies {
				f.Add(uint8(i), uint8(j), []byte(b))
			}
		}
	}
	f.Add(uint8(0), uint8(0), []byte(`{"name":`))
	f.Add(uint8(1), uint8(1), []byte(`[{"x":[1e999,-0,18446744073709551616,"\ud83d\ude00",{"":null}]}]`))
	f.Fuzz(func(t *testing.T, route, who uint8, body []byte) {
		k := routes[int(route)%len(routes)]
		r := bodyRoutes[k]
		caller := r.callers[int(who)%len(r.callers)]
		method, path, _ := strings.Cut(k, " ")
		target := fx.fill(routeTemplate(path))
		filled := fx.fill(string(body))
		before := fx.snapshot(t)
		req := httptest.NewRequestWithContext(context.Background(), method, target, strings.NewReader(filled))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		if tok := fx.c.tokens[caller]; tok != "" {
			req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
		}
		fx.check(t, k+" as "+caller+" with "+strconv.Quote(filled), fx.serve(req), before)
	})
}

func FuzzBody_Auth(f *testing.F)        { fuzzBody(f, "Auth") }
func FuzzBody_Schools(f *testing.F)     { fuzzBody(f, "Schools") }
func FuzzBody_Users(f *testing.F)       { fuzzBody(f, "Users") }
func FuzzBody_Catalogue(f *testing.F)   { fuzzBody(f, "Catalogue") }
func FuzzBody_Collections(f *testing.F) { fuzzBody(f, "Collections") }
func FuzzBody_Lists(f *testing.F)       { fuzzBody(f, "Lists") }

// paramsExcluded are GET routes FuzzParams leaves out, with the reason.
var paramsExcluded = map[string]string{
	"GET /v1/auth/firebase": "answers 503 by design when Firebase is not configured (the tests' API); FuzzBearerToken covers the header",
}

// getRoutes lists the GET routes of the API (sorted) but the excluded ones.
func getRoutes(e *echo.Echo) []string {
	var out []string
	for _, r := range e.Routes() {
		k := r.Method + " " + r.Path
		if r.Method == http.MethodGet && paramsExcluded[k] == "" && !strings.HasSuffix(r.Path, "/*") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return slicesCompact(out)
}

func slicesCompact(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// FuzzParams fuzzes the last path parameter (the whole remainder of the path
// on routes without one) and the raw query string of every GET route.
func FuzzParams(f *testing.F) {
	fx := newFuzzFix(f)
	routes := getRoutes(fx.c.v.e)
	queries := []string{"", "skip=0&limit=10", "skip=-1&limit=99999999999999999999", "q=tree&limit=2",
		"query=Tree&school_id={school}", "since=2024-01-01T00:00:00+02:00&level=warning", "type=student&is_active=true",
		"info_jsonpath_match=$.location.state%20%3D%3D%20%22Auckland%22", "include_inactive=1&full_detail=yes",
		"country_code=NZL&state=Auckland&postcode=1010&official_identifier=X", "isbn={isbn}&work_id={work}&author_id=1",
		"read_status=READING&reader_id={student}&user_id={reader}", "list_type=personal&sharing_type=public",
		"match_prefix=true&enriched=false&use_cache=0&dry=t", "service_account_id={sa}&active_subscription_type=family",
		"skip=1e3", "limit=%ff", "q=%00", "q=a&q=b&q", "=&&=x"}
	segs := []string{"{x}", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "9780143782797", "0-7475-3269-9",
		"-1", "99999999999999999999", hyTreehouse, "%2e%2e", "%252F", "a%20b", "Z" + strings.Repeat("9", 40)}
	for i := range routes { // each route once, the seeds spread over them (the baseline is run by every fuzz pass)
		f.Add(uint8(i), uint8(i%3), segs[i%len(segs)], queries[i%len(queries)])
	}
	callers := []string{"admin", "schooladmin A", "student A", "anonymous"}
	esc := strings.NewReplacer("?", "%3F", "#", "%23", " ", "%20")
	f.Fuzz(func(t *testing.T, route, who uint8, seg, query string) {
		k := routes[int(route)%len(routes)]
		caller := callers[int(who)%len(callers)]
		_, path, _ := strings.Cut(k, " ")
		if seg == "{x}" { // the route's own fixture
			seg = ""
		}
		tpl := routeTemplate(path)
		if i := strings.LastIndex(path, "/:"); i >= 0 && seg != "" {
			rest := path[i+2:]
			j := strings.IndexByte(rest, '/')
			if j < 0 {
				j = len(rest)
			}
			tpl = routeTemplate(path[:i+1]) + esc.Replace(seg) + routeTemplate(rest[j:])
		}
		target := fx.fill(tpl)
		if q := fx.fill(query); q != "" {
			target += "?" + strings.NewReplacer("#", "%23", " ", "%20").Replace(q)
		}
		line := "GET " + target + " HTTP/1.1\r\nHost: api.example\r\n"
		if tok := fx.c.tokens[caller]; tok != "" {
			line += "Authorization: Bearer " + tok + "\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(line + "\r\n")))
		if err != nil {
			return // not a request the HTTP server would pass on
		}
		req = req.WithContext(context.Background())
		before := fx.snapshot(t)
		fx.check(t, "GET "+strconv.Quote(target)+" as "+caller, fx.serve(req), before)
	})
}

// Fixed accounts and a fixed issue time make FuzzBearerToken's tokens the
// same bytes in every process, so the fuzzer mutates real tokens.
var (
	fuzzAdminID   = uuid.MustParse("0f0e0d0c-0b0a-4908-8706-050403020100")
	fuzzBackendID = uuid.MustParse("1f1e1d1c-1b1a-4918-9716-151413121110")
	fuzzIssuedAt  = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
)

// FuzzBearerToken fuzzes the Authorization header on protected routes: the
// answer is 401 or 403 unless the header carries, byte for byte, a token
// that was issued; never a 5xx.
func FuzzBearerToken(f *testing.F) {
	v := newEnv(f)
	v.exec(`INSERT INTO users (id, is_active, email, name, info, type, created_at, updated_at) VALUES ($1, true, 'fz@example.org', 'Fuzz Admin', '{}', 'WRIVETED', now(), now())`, fuzzAdminID)
	v.exec(`INSERT INTO wriveted_admins (id, wriveted_admin_info) VALUES ($1, '{}')`, fuzzAdminID)
	v.exec(`INSERT INTO service_accounts (id, name, is_active, type, info, created_at, updated_at)
		VALUES ($1, 'fuzz backend', true, 'BACKEND', '{}', now(), now())`, fuzzBackendID)
	valid := map[string]bool{}
	for _, s := range []auth.Subject{{Kind: auth.KindUser, ID: fuzzAdminID}, {Kind: auth.KindServiceAccount, ID: fuzzBackendID}} {
		tok, err := v.tokens.Sign(s, 100*365*24*time.Hour, fuzzIssuedAt)
		if err != nil {
			f.Fatal(err)
		}
		valid[tok] = true
	}
	// A token of an account that does not exist (404, api.md §0) and an expired one (403).
	ghost, _ := v.tokens.Sign(auth.Subject{Kind: auth.KindUser, ID: uuid.MustParse("2f2e2d2c-2b2a-4928-a726-252423222120")}, 100*365*24*time.Hour, fuzzIssuedAt)
	expired, _ := v.tokens.Sign(auth.Subject{Kind: auth.KindUser, ID: fuzzAdminID}, time.Hour, fuzzIssuedAt)
	routes := []string{"/v1/auth/me", "/v1/schools?limit=1", "/v1/users?limit=1", "/v1/service-accounts", "/v1/lists"}
	for i := range routes {
		for tok := range valid {
			for _, h := range []string{"Bearer " + tok, "bearer  " + tok + " ", "Bearer " + tok + "=", "Bearer " + tok[:len(tok)-1],
				"Bearer " + strings.Replace(tok, ".", "..", 1), "Bearer " + strings.ToUpper(tok), "Basic " + tok} {
				f.Add(uint8(i), h)
			}
		}
		for _, h := range []string{"", "Bearer", "Bearer ", "Bearer " + ghost, "Bearer " + expired, "Bearer a.b.c", "Bearer \x00",
			`Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.`} {
			f.Add(uint8(i), h)
		}
	}
	fx := &fuzzFix{c: &cast{v: v}, logs: &syncBuf{}}
	f.Fuzz(func(t *testing.T, route uint8, header string) {
		target := routes[int(route)%len(routes)]
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
		req.Header.Set(echo.HeaderAuthorization, header)
		rec := fx.serve(req)
		if rec.Code >= 500 {
			t.Fatalf("GET %s with Authorization %q: %d %s", target, header, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
			return
		}
		scheme, cred, _ := strings.Cut(strings.TrimSpace(header), " ")
		tok := strings.TrimSpace(cred)
		switch {
		case !strings.EqualFold(scheme, "bearer"):
			t.Fatalf("GET %s with Authorization %q: %d %s, want 401 or 403 without a bearer token", target, header, rec.Code, rec.Body)
		case tok == ghost && rec.Code == http.StatusNotFound: // api.md §0: a signed token of no account is 404
		case !valid[tok]:
			t.Fatalf("GET %s with Authorization %q: %d %s, want 401 or 403 for a token that was not issued",
				target, header, rec.Code, rec.Body)
		}
	})
}

// TestHardening_FuzzCoversEveryRoute: every route that takes a body has a
// body fuzz target and seeds, and every path parameter has a fixture for
// FuzzParams (a new route fails here until it is fuzzed).
func TestHardening_FuzzCoversEveryRoute(t *testing.T) {
	t.Parallel()
	e := api.New(apiOptions{})
	groups := map[string]bool{"Auth": true, "Schools": true, "Users": true, "Catalogue": true, "Collections": true, "Lists": true}
	seen := map[string]bool{}
	for _, r := range e.Routes() {
		k := r.Method + " " + r.Path
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			br, ok := bodyRoutes[k]
			if !ok {
				t.Errorf("%s takes a body but no FuzzBody_ target fuzzes it: add it to bodyRoutes", k)
				continue
			}
			if !groups[br.group] || len(br.callers) == 0 || len(br.bodies) == 0 {
				t.Errorf("%s: group %q (a FuzzBody_ target), callers %v, %d seed bodies", k, br.group, br.callers, len(br.bodies))
			}
			seen[k] = true
		}
		for _, m := range echoParamRE.FindAllStringSubmatch(r.Path, -1) {
			if pathVars[m[1]] == "" {
				t.Errorf("%s: no fixture for the path parameter :%s (pathVars)", k, m[1])
			}
		}
	}
	for k := range bodyRoutes {
		if !seen[k] {
			t.Errorf("bodyRoutes has %s, which is not a route", k)
		}
	}
	if n := len(getRoutes(e)); n < 40 {
		t.Errorf("FuzzParams covers %d GET routes, want every one", n)
	}
}
