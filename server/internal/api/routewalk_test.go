package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fbauth "firebase.google.com/go/v4/auth"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/wriveted/huey-api/schema/catalog/hydrate"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/server/internal/api"
)

// The route walk (issue 12): every /v1 route, as four callers, with hostile
// path parameters, hostile values of the route's query parameters (from the
// OpenAPI document), hostile whole bodies and, field by field, every wrong
// JSON type in an otherwise plausible body. No request may answer 5xx, and
// every 4xx is in the error shape (`{"detail": …}`). Real ids of the
// fixture's resources fill the other parameters, so handlers get past
// not-found into validation. Deletions run last, the school's very last.

// walkCallers are the callers every request is sent as.
var walkCallers = []string{"admin", "schooladmin A", "lms linked A", "anonymous"}

// hostilePath are path parameter values: NUL, overlong, past int32/int64,
// negative, wrong types (text for ints, a small int for UUIDs), traversal.
var hostilePath = []string{
	"%00", strings.Repeat("a", 10_000), strings.Repeat("9", 10_000), "99999999999999999999", "9223372036854775808",
	"2147483648", "-1", "0", "abc", "1", "1.5", "1e400", "..%2F..%2Fetc", "%2F", "%F0%9F%98%80", "%20",
	"00000000-0000-0000-0000-000000000000", "true",
}

// hostileQuery are query parameter values, sent alone or twice.
var hostileQuery = []string{
	"", strings.Repeat("a", 10_000), "99999999999999999999", "9223372036854775808", "2147483648", "-2147483649",
	"-1", "abc", "1.5", "1e400", "NaN", "true", "[]", "{}", "2024-13-45T99:99:99", "..%2F", "%00",
}

// fieldTries is how many hostile values each body field gets.
const fieldTries = 5

// hostileFields are the values put into one body field at a time.
var hostileFields = []json.RawMessage{
	raw(`"walk"`), raw(`""`), raw(fmt.Sprintf("%q", strings.Repeat("x", 100_000))), raw(`1`), raw(`-1`), raw(`0`),
	raw(`1.5`), raw(`2147483648`), raw(`-2147483649`), raw(`9223372036854775808`), raw(`1e400`), raw(`true`),
	raw(`{}`), raw(`[]`), raw(`null`), raw(`[[]]`), raw(`{"a":{"b":[1]}}`), raw(`["walk", 2147483648]`),
	raw(`"2024-13-45T99:99:99"`), raw(`"not-a-uuid"`),
}

// hostileBodies are whole bodies.
var hostileBodies = []string{
	"", " ", "null", "[]", "{}", `"walk"`, "1", "true", "1e400", `{"a":`, `[{"a":1}`, `{"a":1}}`, "[null]", "[1,2,3]",
	"[{}]", `{"name":1e400,"type":9223372036854775808}`,
	strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000),
	strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000),
	`{"name":"` + strings.Repeat("x", 1<<20) + `"}`,
	`["` + strings.Repeat("9", 1<<20) + `"]`,
	`{"name":` + strings.Repeat("9", 100_000) + `}`,
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

type walkJob struct {
	phase        int // 0 reads and writes, 1 deletions, 2 the school's deletion
	method, path string
	who, body    string
	hasBody      bool
}

// refusingFirebase verifies no token: GET /auth/firebase is configured (its
// absence is a deliberate 503) and refuses.
type refusingFirebase struct{}

func (refusingFirebase) VerifyIDToken(context.Context, string) (*fbauth.Token, error) {
	return nil, errors.New("token not verified")
}

// unknownBooks is a hydration provider that knows no book.
type unknownBooks struct{}

func (unknownBooks) Hydrate(context.Context, string) (hydrate.HydratedBookData, error) {
	return hydrate.HydratedBookData{}, hydrate.ErrNotFound
}

var braces = regexp.MustCompile(`\{([^}]+)\}`)

// Not parallel: its thousands of requests would otherwise load the machine
// under the package's deadline tests (R3's 300 ms), as the differential
// test would.
func TestHardening_RouteWalk_HostileValuesNever5xx(t *testing.T) {
	c := newCast(t)
	v := newEnvOn(t, c.v, c.v.db.Pool(t, dbtest.RoleAPI), func(o *api.Options) {
		o.Firebase, o.Hydrator = refusingFirebase{}, unknownBooks{}
	})

	// Real resources of school A, named by the route parameters that take them.
	victim := c.v.user("walk victim", "EDUCATOR", &c.a)
	sa := c.v.serviceAccount("walk sa", "LMS", c.a)
	work := c.v.work("Walk")
	isbn := isbn13(424242)
	c.v.edition(isbn, work, nil)
	author := c.v.author("Ann", "Walker", work)
	illustrator := c.v.scalar(`INSERT INTO illustrators (first_name, last_name, info) VALUES ('Ivy', 'Walker', '{}') RETURNING id`).(int32)
	coll := c.v.collection(&c.a, nil, "Walk books")
	item := c.v.item(coll, isbn, 2, 1, `{}`)
	class := c.v.class(c.a, "Walk class")
	list := blList(t, c.v, "Walk list", "SCHOOL", "PRIVATE", nil, &c.a.ID, nil, work)
	blList(t, c.v, "Walk public", "HUEY", "PUBLIC", nil, nil, blPtr("walk-public"), work)
	reader := c.ids["public reader"]
	c.v.exec(`INSERT INTO supporter_reader_association (supporter_id, reader_id, is_active, supporter_nickname)
		VALUES ($1, $2, true, 'Walker')`, c.ids["supporter"], reader)
	event := evInsert(t, c.v, "Reader timeline event: Reading logged", "NORMAL", nil, &reader, nil, `{}`, time.Now())
	params := map[string]string{
		"wriveted_identifier": c.a.WID.String(), "user_id": victim.String(), "service_account_id": sa.String(),
		"author_id": itoa(author), "illustrator_id": fmt.Sprint(illustrator), "work_id": itoa(work), "isbn": isbn,
		"collection_id": coll.String(), "collection_item_id": itoa(item), "id": class.String(),
		"booklist_identifier": list.String(), "booklist_slug": "walk-public", "event_id": event.String(),
		"file": "swagger-ui.css", // the docs UI's embedded assets
	}
	// Plausible values for body fields, by name, so the rest of a body passes.
	named := map[string]any{
		"school_id": c.a.WID, "class_group_id": class, "user_id": victim, "reader_id": reader,
		"collection_id": coll, "collection_item_id": item, "work_id": work, "edition_isbn": isbn, "isbn": isbn,
		"booklist_id": list, "service_account_id": sa, "email": "walk@example.org",
	}

	var joinCode string
	c.v.super.QueryRow(context.Background(), `SELECT join_code FROM class_groups WHERE id = $1`, class).Scan(&joinCode)
	info := map[string]any{"location": map[string]any{"state": "Auckland", "postcode": "1010"}}
	newSchool := func(n string) map[string]any {
		return map[string]any{"name": "Walk " + n, "country_code": "NZL", "official_identifier": "WALK-" + n, "info": info}
	}
	labels := map[string]any{"hue_origin": "HUMAN", "hue_primary_key": "hue01_dark_suspense", "min_age": 5, "max_age": 9,
		"reading_ability_keys": []string{"SPOT"}, "checked": true, "info": map[string]any{}}
	edition := func(n int) map[string]any {
		return map[string]any{"isbn": isbn13(n), "title": "Walk", "cover_url": "https://example.org/c.jpg", "date_published": 2001,
			"authors": []any{map[string]any{"first_name": "Ann", "last_name": "Walker"}}, "labelset": labels, "info": map[string]any{}}
	}
	// Valid bodies where the document is too loose for sample (enums checked by handlers).
	bases := map[string]any{
		"PATCH /v1/school/:wriveted_identifier": map[string]any{"name": "School A", "status": "active", "bookbot_type": "school_books",
			"lms_type": "none", "student_domain": "https://example.org", "teacher_domain": "https://example.org", "info": info},
		"POST /v1/auth/class-code":       map[string]any{"username": "studentA42", "class_joining_code": joinCode},
		"POST /v1/auth/register-student": map[string]any{"first_name": "Walk", "last_name_initial": "W", "school_id": c.a.WID, "class_joining_code": joinCode},
		"POST /v1/collection":            map[string]any{"name": "Walk mine", "user_id": c.ids["parent"], "info": map[string]any{}},
		"PATCH /v1/work/:work_id":        map[string]any{"title": "Walk", "subtitle": "on", "leading_article": "A", "labelset": labels},
		"POST /v1/editions":              []any{edition(900001)},
		"POST /v1/edition":               edition(900002),
		"POST /v1/collection/:collection_id/item": map[string]any{"edition_isbn": isbn13(900003), "copies_total": 1, "copies_available": 1,
			"info": map[string]any{}},
		"POST /v1/school":  newSchool("1"),
		"POST /v1/schools": []any{newSchool("2")},
		"POST /v1/user": map[string]any{"type": "educator", "name": "Walk Ed", "first_name": "Walk", "last_name_initial": "E",
			"email": "walked@example.org", "school_id": c.a.WID},
		"PATCH /v1/edition/:isbn": map[string]any{"edition_title": "Walk", "cover_url": "https://example.org/c.jpg",
			"date_published": "2001", "work_id": work, "info": map[string]any{}},
		"PATCH /v1/labelsets":               []any{map[string]any{"isbn": isbn, "patch_data": labels, "huey_pick": false}},
		"PUT /v1/collection/:collection_id": map[string]any{"name": "Walk books", "school_id": c.a.WID, "info": map[string]any{}},
		"PATCH /v1/list/:booklist_identifier": map[string]any{"name": "Walk list", "info": map[string]any{"description": "d"},
			"items": []any{map[string]any{"action": "update", "work_id": work, "order_id": 0, "info": map[string]any{"note": "n"}}}},
		"POST /v1/service-account": map[string]any{"name": "walk sa 2", "type": "lms", "info": map[string]any{},
			"schools": []any{map[string]any{"wriveted_identifier": c.a.WID}}},
		"PUT /v1/service-account/:service_account_id": map[string]any{"name": "walk sa", "info": map[string]any{},
			"schools": []any{map[string]any{"wriveted_identifier": c.a.WID}}},
		"POST /v1/recommend": map[string]any{"wriveted_identifier": c.a.WID, "hues": []string{"hue01_dark_suspense"}, "age": 8,
			"reading_abilities": []string{"SPOT"}},
		"PATCH /v1/collection/:collection_id": map[string]any{"name": "Walk books", "info": map[string]any{},
			"items": []any{map[string]any{"action": "add", "edition_isbn": isbn13(900004), "copies_total": 2, "copies_available": 1, "info": map[string]any{}}}},
		"POST /v1/events": map[string]any{"title": "Walk", "description": "d", "level": "normal", "school_id": c.a.WID, "info": map[string]any{}},
		"POST /v1/work": map[string]any{"type": "book", "title": "Walk work", "info": map[string]any{},
			"authors": []any{map[string]any{"first_name": "Ann", "last_name": "Walker"}}, "editions": []string{isbn}},
		"PATCH /v1/class/:id": map[string]any{"name": "Walk class", "note": "n",
			"members": []any{map[string]any{"action": "add", "user_id": c.ids["student A"]}}},
		"POST /v1/list": map[string]any{"name": "Walk L", "type": "School", "sharing": "private", "school_id": c.a.WID,
			"info": map[string]any{"description": "d"}, "items": []any{map[string]any{"work_id": work, "info": map[string]any{"note": "n"}}}},
		"PATCH /v1/user/:user_id":     map[string]any{"name": "Walk Victim", "info": map[string]any{"x": 1}},
		"POST /v1/feedback/:event_id": map[string]any{"message": "well done", "emoji": "🤪"},
	}

	doc, err := openapi3.NewLoader().LoadFromFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]*openapi3.Operation{}
	for p, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			op.Parameters = append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...)
			ops[m+" "+braces.ReplaceAllString(p, ":$1")] = op
		}
	}

	var jobs []walkJob
	routes, fields := 0, 0
	for _, r := range v.e.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/") || strings.Contains(r.Path, "*") || !walkMethods[r.Method] {
			continue
		}
		routes++
		phase := 0
		if r.Method == http.MethodDelete || r.Method+" "+r.Path == "PUT /v1/collection/:collection_id" { // replaces it
			phase = 1
			if strings.Contains(r.Path, ":wriveted_identifier") {
				phase = 2
			}
		}
		segs := strings.Split(r.Path, "/")
		real := func(except int, with string) string {
			out := make([]string, len(segs))
			for i, s := range segs {
				switch {
				case i == except:
					out[i] = with
				case strings.HasPrefix(s, ":"):
					val, ok := params[s[1:]]
					if !ok {
						t.Fatalf("%s %s: no fixture id for %s", r.Method, r.Path, s)
					}
					out[i] = url.PathEscape(val)
				default:
					out[i] = s
				}
			}
			return strings.Join(out, "/")
		}
		op := ops[r.Method+" "+r.Path]
		body, hasBody := "", r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch
		var schema *openapi3.Schema
		if op != nil && op.RequestBody != nil && op.RequestBody.Value != nil {
			if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				schema = mt.Schema.Value
			}
		}
		if hasBody {
			base, ok := bases[r.Method+" "+r.Path]
			if !ok {
				base = sample(schema, named, 0)
			}
			b, _ := json.Marshal(base)
			body = string(b)
		}
		callers := walkCallers
		if strings.HasPrefix(r.Path, "/v1/feedback/") { // a supporter's route
			callers = append(slices.Clone(walkCallers), "supporter")
		}
		// add sends path and body as n callers: admin (who gets furthest)
		// first, then the others in turn, so that every caller meets every
		// route and value class while the walk stays bounded.
		turn := 0
		add := func(path, body string, n int) {
			for i := range n {
				who := callers[0]
				if i > 0 || n == 1 {
					turn++
					who = callers[turn%len(callers)]
				}
				jobs = append(jobs, walkJob{phase: phase, method: r.Method, path: path, who: who, body: body, hasBody: hasBody})
			}
		}
		// path parameters, one at a time
		for i, s := range segs {
			if strings.HasPrefix(s, ":") {
				for _, h := range hostilePath {
					add(real(i, h), body, 1)
				}
			}
		}
		// query parameters
		if op != nil {
			for _, p := range op.Parameters {
				if p.Value == nil || p.Value.In != "query" {
					continue
				}
				name := url.QueryEscape(p.Value.Name)
				for _, h := range hostileQuery {
					add(real(-1, "")+"?"+name+"="+h, body, 1)
				}
				add(real(-1, "")+"?"+name+"=1&"+name+"=2", body, 1)
				add(real(-1, "")+"?"+name+"=abc&"+name+"=2147483648", body, 1)
				add(real(-1, "")+"?"+name, body, 1)
			}
		}
		if !hasBody {
			continue
		}
		for _, b := range hostileBodies {
			n := 2
			if len(b) > 10_000 { // the large ones once per route: they cost the most under -race
				n = 1
			}
			add(real(-1, ""), b, n)
		}
		// each field gets fieldTries of the hostile values, the next field the next ones
		for _, f := range fieldBodies(schema, named) {
			for k := range fieldTries {
				add(real(-1, ""), f(hostileFields[(fields*fieldTries+k)%len(hostileFields)]), 1)
			}
			fields++
		}
	}
	if routes < 70 {
		t.Fatalf("only %d routes walked", routes)
	}

	var mu sync.Mutex
	var failures []string
	var sent atomic.Int64
	start := time.Now()
	for phase := 0; phase <= 2; phase++ {
		var todo []walkJob
		for _, j := range jobs {
			if j.phase == phase {
				todo = append(todo, j)
			}
		}
		next := atomic.Int64{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(todo) {
						return
					}
					if msg := walkOne(v, c.tokens, todo[i]); msg != "" {
						mu.Lock()
						failures = append(failures, msg)
						mu.Unlock()
					}
					sent.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	t.Logf("route walk: %d routes, %d body fields, %d requests in %s", routes, fields, sent.Load(), time.Since(start).Round(time.Millisecond))
	sort.Strings(failures)
	for i, f := range failures {
		if i == 60 {
			t.Errorf("… and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
	if sent.Load() < 3_000 {
		t.Fatalf("only %d requests sent", sent.Load())
	}
}

var walkMethods = map[string]bool{http.MethodGet: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true}

// walkOne sends one request; "" when its answer is acceptable.
func walkOne(v *env, tokens map[string]string, j walkJob) string {
	var rd *strings.Reader
	if j.hasBody {
		rd = strings.NewReader(j.body)
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequestWithContext(context.Background(), j.method, "http://example.com"+j.path, rd)
	if err != nil {
		return fmt.Sprintf("%s %.120s: building the request: %v", j.method, j.path, err)
	}
	req.RemoteAddr = "192.0.2.1:1234"
	if j.hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := tokens[j.who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	what := fmt.Sprintf("%s %.150s as %s with body %.150q", j.method, j.path, j.who, j.body)
	switch {
	case rec.Code >= 500:
		return fmt.Sprintf("%s: %d %.300s", what, rec.Code, rec.Body)
	case rec.Code >= 400:
		var d map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || d["detail"] == nil {
			return fmt.Sprintf("%s: %d not in the error shape: %.300s", what, rec.Code, rec.Body)
		}
	}
	return ""
}

// sample is a plausible value of schema: every property, the first enum
// member, named fields from named.
func sample(s *openapi3.Schema, named map[string]any, depth int) any {
	if s == nil || depth > 4 {
		return nil
	}
	for _, alts := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		for _, a := range alts {
			if a.Value != nil && !a.Value.Type.Is("null") {
				return sample(a.Value, named, depth+1)
			}
		}
	}
	if len(s.AllOf) > 0 && s.AllOf[0].Value != nil {
		return sample(s.AllOf[0].Value, named, depth+1)
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch {
	case s.Type.Is("object") || len(s.Properties) > 0:
		out := map[string]any{}
		for name, p := range s.Properties {
			if val, ok := named[name]; ok {
				out[name] = val
			} else if p.Value != nil {
				out[name] = sample(p.Value, named, depth+1)
			}
		}
		return out
	case s.Type.Is("array"):
		if s.Items == nil {
			return []any{}
		}
		return []any{sample(s.Items.Value, named, depth+1)}
	case s.Type.Is("integer"), s.Type.Is("number"):
		return 1
	case s.Type.Is("boolean"):
		return false
	case s.Format == "uuid":
		return "6f1c6a53-0d9a-4a1a-9a55-3c1f1f9f0c11"
	case s.Format == "date-time":
		return "2024-05-01T09:30:00"
	case s.Format == "date":
		return "2024-05-01"
	case s.Format == "uri":
		return "https://example.org/walk"
	case s.Type.Is("string"):
		return "walk"
	}
	return nil
}

// fieldBodies are, for each field of the body (top level, the items of a
// top-level array, and one level into objects and arrays of objects), a
// function giving the plausible body with that field set to a value.
func fieldBodies(s *openapi3.Schema, named map[string]any) []func(json.RawMessage) string {
	if s == nil {
		return nil
	}
	base := sample(s, named, 0)
	var out []func(json.RawMessage) string
	// set returns base with the value at path (keys and 0 for array items) replaced.
	set := func(path ...any) func(json.RawMessage) string {
		return func(h json.RawMessage) string {
			b, _ := json.Marshal(base)
			var doc any
			_ = json.Unmarshal(b, &doc)
			parent := doc // maps and slices share their contents: setting in parent sets in doc
			for _, k := range path[:len(path)-1] {
				switch node := parent.(type) {
				case map[string]any:
					parent = node[k.(string)]
				case []any:
					if len(node) == 0 {
						return string(b)
					}
					parent = node[0]
				default:
					return string(b)
				}
			}
			switch node := parent.(type) {
			case map[string]any:
				node[path[len(path)-1].(string)] = h
			case []any:
				if len(node) > 0 {
					node[0] = h
				}
			}
			out, _ := json.Marshal(doc)
			return string(out)
		}
	}
	var walk func(s *openapi3.Schema, path []any, depth int)
	walk = func(s *openapi3.Schema, path []any, depth int) {
		if s == nil || depth > 2 {
			return
		}
		if s.Type.Is("array") && s.Items != nil && s.Items.Value != nil {
			walk(s.Items.Value, append(path, 0), depth+1)
			return
		}
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			p := append(append([]any{}, path...), n)
			out = append(out, set(p...))
			if v := s.Properties[n].Value; v != nil && (len(v.Properties) > 0 || v.Type.Is("array")) {
				walk(v, p, depth+1)
			}
		}
	}
	walk(s, nil, 0)
	return out
}
