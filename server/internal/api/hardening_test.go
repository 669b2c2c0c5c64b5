package api_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/server/internal/api"
)

// R3 (issue 12): one account's slow statement cannot stall every school. A
// write blocked behind a lock (as a runaway query would hold it) is cancelled
// by the pool's statement_timeout — or by the request's deadline — and
// answers 503 in the error shape, leaving nothing half-written; meanwhile
// another school's requests are served.
func TestHardening_R3_SlowStatementAnswers503AndOthersProceed(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	coll := c.v.collection(&c.a, nil, "A's books")
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		pool db.PoolOptions
		opt  func(*api.Options)
	}{
		{"statement_timeout", db.PoolOptions{MaxConns: 4, StatementTimeout: 2 * time.Second}, nil},
		{"request deadline", db.PoolOptions{MaxConns: 4}, func(o *api.Options) { o.RequestTimeout = 2 * time.Second }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := db.OpenPool(ctx, c.v.db.RoleURL(dbtest.RoleAPI), "hardening-r3", tc.pool)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			v := newEnvOn(t, c.v, pool, tc.opt)

			lock, err := c.v.super.Begin(ctx) // a long transaction holding the collection's row
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = lock.Rollback(ctx) }()
			if _, err := lock.Exec(ctx, `SELECT 1 FROM collections WHERE id = $1 FOR UPDATE`, coll); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			start := time.Now()
			var slow int
			var body string
			go func() {
				defer close(done)
				rec := v.do(http.MethodPatch, "/v1/collection/"+coll.String(), c.tokens["schooladmin A"],
					map[string]any{"items": []map[string]any{{"action": "add", "edition_isbn": "9780306406157"}}})
				slow, body = rec.Code, rec.Body.String()
			}()
			// another school is served while school A's request waits
			wantStatus(t, v.do(http.MethodGet, "/v1/auth/me", c.tokens["schooladmin B"], nil), http.StatusOK)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("the blocked request hung instead of answering")
			}
			if slow != http.StatusServiceUnavailable || body != `{"detail":"`+"The service is busy or the request took too long; try again shortly"+`"}`+"\n" {
				t.Fatalf("blocked request after %s: %d %s, want 503 in the error shape", time.Since(start), slow, body)
			}
			if n := c.v.scalar(`SELECT count(*) FROM collection_items WHERE collection_id = $1`, coll).(int64); n != 0 {
				t.Fatalf("the cancelled request left %d items", n)
			}
			_ = lock.Rollback(ctx)
			wantStatus(t, v.do(http.MethodPatch, "/v1/collection/"+coll.String(), c.tokens["schooladmin A"],
				map[string]any{"items": []map[string]any{{"action": "add", "edition_isbn": "9780306406157"}}}), http.StatusOK)
			c.v.exec(`DELETE FROM collection_items WHERE collection_id = $1`, coll)
		})
	}
}

// R9 (issue 12): a student's username is unique in its school ignoring
// case, so a classmate cannot take a case variant and be signed in for
// the other; the API answers 409 (not the e-mail message).
func TestHardening_R9_CaseVariantUsernameIs409(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	class := c.v.class(c.a, "Room 9")
	create := func(username string) *httptest.ResponseRecorder {
		return c.v.do(http.MethodPost, "/v1/user", c.tokens["admin"], map[string]any{"type": "student",
			"first_name": "Bo", "last_name_initial": "B", "school_id": c.a.WID, "class_group_id": class, "username": username})
	}
	wantStatus(t, create("bobby"), http.StatusOK)
	rec := create("BOBBY")
	wantStatus(t, rec, http.StatusConflict)
	if got := decode[map[string]any](t, rec)["detail"]; got != "Username already exists in this school" {
		t.Fatalf("detail %v", got)
	}
	other := create("robin")
	wantStatus(t, other, http.StatusOK)
	id := decode[map[string]any](t, other)["id"].(string)
	rec = c.v.do(http.MethodPatch, "/v1/user/"+id, c.tokens["admin"], map[string]any{"username": "Bobby"})
	wantStatus(t, rec, http.StatusConflict)
	if n := c.v.scalar(`SELECT count(*) FROM students WHERE lower(username) = 'bobby'`).(int64); n != 1 {
		t.Fatalf("%d students named bobby", n)
	}
	// another school may use it
	classB := c.v.class(c.b, "Room 9")
	wantStatus(t, c.v.do(http.MethodPost, "/v1/user", c.tokens["admin"], map[string]any{"type": "student",
		"first_name": "Bo", "last_name_initial": "B", "school_id": c.b.WID, "class_group_id": classB, "username": "BOBBY"}), http.StatusOK)
}

// R4/R5 (issue 12): NUL, bytes that are not UTF-8 (%FF, the overlong
// %C0%80) and JSON escapes Postgres refuses (\u0000, lone surrogates), in a
// path, a query string or a body, answer 422 on every route — public ones
// included — before any database work; never a 500, nothing stored.
func TestHardening_R4_R5_HostileBytesAre422OnEveryRoute(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	hostile := []string{"%00", "%FF", "%C0%80", "x%00y"}
	bodies := []string{`{"name":"\u0000","items":[],"info":{"note":"x"}}`, `{"name":"ok","info":{"note":"\ud800"}}`,
		"{\"name\":\"\xff\"}", `[{"edition_isbn":"978\u00000306406157"}]`}
	seen := 0
	for _, r := range c.v.e.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/") || strings.Contains(r.Path, "*") {
			continue
		}
		for k, h := range hostile {
			segs := strings.Split(r.Path, "/")
			hasParam := false
			for i, s := range segs {
				if strings.HasPrefix(s, ":") {
					segs[i], hasParam = h, true
				}
			}
			path := strings.Join(segs, "/")
			if !hasParam {
				path += "?query=" + h
			}
			var body any
			if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
				body = `{"name":"ok"}`
			}
			for _, who := range []string{"admin", "anonymous"} {
				rec := c.v.do(r.Method, path, c.tokens[who], body)
				if rec.Code != http.StatusUnprocessableEntity {
					t.Errorf("%s %s as %s: %d, want 422: %.200s", r.Method, path, who, rec.Code, rec.Body)
				}
				seen++
			}
			if body != nil { // a clean path with a hostile body
				clean := strings.ReplaceAll(r.Path, ":", "p")
				rec := c.v.do(r.Method, clean, c.tokens["admin"], bodies[k])
				if rec.Code != http.StatusUnprocessableEntity {
					t.Errorf("%s %s with body %q: %d, want 422: %.200s", r.Method, clean, bodies[k], rec.Code, rec.Body)
				}
				seen++
			}
		}
	}
	if seen < 300 {
		t.Fatalf("only %d requests tried", seen)
	}
	// the public routes the issue names, and nothing stored
	for _, p := range []string{"/v1/public-list/%00", "/v1/public-list/%C0%80"} {
		wantStatus(t, c.v.do(http.MethodGet, p, "", nil), http.StatusUnprocessableEntity)
	}
	for _, p := range []string{"/v1/auth/class-code", "/v1/auth/register-student"} {
		wantStatus(t, c.v.do(http.MethodPost, p, "", `{"class_joining_code":"\u0000","username":"a","first_name":"a","last_name_initial":"b"}`),
			http.StatusUnprocessableEntity)
	}
	before := c.v.scalar(`SELECT count(*) FROM book_lists`).(int64)
	rec := c.v.do(http.MethodPost, "/v1/list", c.tokens["educator A"],
		`{"name":"Notes","type":"PERSONAL","items":[{"work_id":1,"info":{"note":"bad \u0000 note"}}]}`)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if got := decode[map[string]any](t, rec)["detail"].([]any)[0].(map[string]any); got["loc"].([]any)[0] != "body" {
		t.Fatalf("422 detail %v", got)
	}
	if after := c.v.scalar(`SELECT count(*) FROM book_lists`).(int64); after != before {
		t.Fatal("a list was stored")
	}
}

// classCodeFrom posts a class-code sign-in from a connecting address, with
// extra headers (a client's own X-Forwarded-For, say).
func classCodeFrom(v *env, remote string, hdr map[string]string, username, code string) int {
	return postFrom(v, "/v1/auth/class-code", remote, hdr, `{"username":"`+username+`","class_joining_code":"`+code+`"}`)
}

func postFrom(v *env, path, remote string, hdr map[string]string, body string) int {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = remote + ":40000"
	for k, val := range hdr {
		req.Header.Set(k, val)
	}
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec.Code
}

// R2 (issue 12): the class-code limiter counts failures only, per connecting
// address and per username. A client's own X-Forwarded-For / X-Real-IP does
// not reset it; a class of 25 behind one school address signs in at 9:00;
// with a trusted proxy, clients behind it are told apart by the address it
// forwards, and a header a client adds before the proxy is not believed.
func TestHardening_R2_ClassCodeLimiter(t *testing.T) {
	t.Parallel()
	v := newEnv(t, func(o *apiOptions) { o.ClassCodeRate = 0 }) // production limits: 30 per address, 10 per username
	sch := v.school("Nine O'Clock School", "ACTIVE")
	class := v.class(sch, "Room 1")
	v.exec(`UPDATE class_groups SET join_code = 'BCDFGH' WHERE id = $1`, class)
	var names []string
	for i := range 25 {
		id := v.user("Kid"+string(rune('A'+i)), "STUDENT", &sch)
		v.exec(`UPDATE students SET class_group_id = $2 WHERE id = $1`, id, class)
		names = append(names, "Kid"+string(rune('A'+i))+"42")
	}
	// 9:00: 25 children, one address, a few typos among them
	for i, n := range names {
		if i%5 == 0 {
			if got := classCodeFrom(v, "203.0.113.7", nil, n, "BCDFGX"); got != http.StatusUnauthorized {
				t.Fatalf("typo: %d", got)
			}
		}
		if got := classCodeFrom(v, "203.0.113.7", nil, n, "BCDFGH"); got != http.StatusOK {
			t.Fatalf("child %d of the class: %d", i+1, got)
		}
	}
	// a guesser rotating X-Forwarded-For / X-Real-IP is still one address
	codes := map[int]int{}
	for i := range 40 {
		hdr := map[string]string{"X-Forwarded-For": "198.51.100." + string(rune('0'+i%10)), "X-Real-IP": "192.0.2." + string(rune('0'+i%10))}
		codes[classCodeFrom(v, "198.18.0.1", hdr, "guess"+string(rune('a'+i%26)), "QQQQQQ")]++
	}
	if codes[http.StatusTooManyRequests] != 10 || codes[http.StatusUnauthorized] != 30 {
		t.Fatalf("guesser behind spoofed headers: %v, want 30 × 401 then 429", codes)
	}
	// one username guessed from many addresses stops after 10 failures
	codes = map[int]int{}
	for i := range 15 {
		codes[classCodeFrom(v, "100.64.0."+string(rune('1'+i%9)), nil, names[1], "ZZZZZ"+string(rune('A'+i)))]++
	}
	if codes[http.StatusTooManyRequests] != 5 {
		t.Fatalf("distributed guesses of one username: %v", codes)
	}
	if got := classCodeFrom(v, "100.64.1.1", nil, names[1], "BCDFGH"); got != http.StatusTooManyRequests {
		t.Fatalf("the guessed username during its window: %d, want 429", got)
	}
	if got := classCodeFrom(v, "100.64.1.1", nil, names[2], "BCDFGH"); got != http.StatusOK {
		t.Fatalf("another child after the guessing: %d", got)
	}

	// registration (it creates accounts) counts failures per address the same way
	codes = map[int]int{}
	for range 32 {
		codes[postFrom(v, "/v1/auth/register-student", "192.0.2.200", map[string]string{"X-Forwarded-For": "192.0.2.9"},
			`{"first_name":"Al","last_name_initial":"B","school_id":"`+sch.WID.String()+`","class_joining_code":"ZZZZZZ"}`)]++
	}
	if codes[http.StatusUnauthorized] != 30 || codes[http.StatusTooManyRequests] != 2 {
		t.Fatalf("failed registrations: %v, want 30 × 401 then 429", codes)
	}

	// behind a trusted proxy: the forwarded client address is the key
	_, proxy, _ := net.ParseCIDR("10.0.0.0/8")
	pv := newEnvOn(t, v, v.db.Pool(t, "huey_api"), func(o *apiOptions) { o.TrustedProxies = []*net.IPNet{proxy}; o.ClassCodeRate = 3 })
	for range 3 {
		if got := classCodeFrom(pv, "10.1.2.3", map[string]string{"X-Forwarded-For": "198.51.100.20"}, "x", "QQQQQQ"); got != http.StatusUnauthorized {
			t.Fatalf("first failures behind the proxy: %d", got)
		}
	}
	if got := classCodeFrom(pv, "10.1.2.3", map[string]string{"X-Forwarded-For": "198.51.100.20"}, "y", "QQQQQQ"); got != http.StatusTooManyRequests {
		t.Fatalf("the same client behind the proxy: %d, want 429", got)
	}
	if got := classCodeFrom(pv, "10.1.2.3", map[string]string{"X-Forwarded-For": "198.51.100.21"}, "z", "QQQQQQ"); got != http.StatusUnauthorized {
		t.Fatalf("another client behind the proxy: %d, want its own count", got)
	}
	// a client that prepends its own X-Forwarded-For before the proxy is still keyed by its real address
	if got := classCodeFrom(pv, "10.1.2.3", map[string]string{"X-Forwarded-For": "1.1.1.1, 198.51.100.20"}, "w", "QQQQQQ"); got != http.StatusTooManyRequests {
		t.Fatalf("a spoofed first hop: %d, want 429", got)
	}
}

// R6/R7 (issue 12): integers past their column's 32 bits are 422 — not stored
// wrapped (2³¹+1 as −2147483647, 2³³+3 as 3), never a 500 — and nothing is
// written.
func TestHardening_R6_R7_IntegersPast32BitsAre422(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	coll := c.v.collection(&c.a, nil, "A's books")
	w := blWork(t, c.v, "Counted")
	for name, tc := range map[string]struct {
		method, path, who string
		body              string
	}{
		"copies 2^31+1":      {http.MethodPatch, "/v1/collection/" + coll.String(), "schooladmin A", `{"items":[{"action":"add","edition_isbn":"9780306406157","copies_total":2147483649}]}`},
		"copies 2^33+3":      {http.MethodPatch, "/v1/collection/" + coll.String(), "schooladmin A", `{"items":[{"action":"add","edition_isbn":"9780306406157","copies_available":8589934595}]}`},
		"update copies":      {http.MethodPatch, "/v1/collection/" + coll.String(), "schooladmin A", `{"items":[{"action":"update","edition_isbn":"9780306406157","copies_total":4294967296}]}`},
		"item id 2^31":       {http.MethodPatch, "/v1/collection/" + coll.String(), "schooladmin A", `{"items":[{"action":"remove","id":2147483648}]}`},
		"put items":          {http.MethodPut, "/v1/collection/" + coll.String() + "/items", "schooladmin A", `[{"edition_isbn":"9780306406157","copies_total":2147483648}]`},
		"list work_id 2^31":  {http.MethodPost, "/v1/list", "educator A", `{"name":"L","type":"PERSONAL","items":[{"work_id":2147483648}]}`},
		"list order_id 2^31": {http.MethodPost, "/v1/list", "educator A", `{"name":"L","type":"PERSONAL","items":[{"work_id":` + itoa(w) + `,"order_id":2147483648}]}`},
		"recommend age":      {http.MethodPost, "/v1/recommend", "educator A", `{"age":2147483648}`},
		"recommend age 2^40": {http.MethodPost, "/v1/recommend", "educator A", `{"age":1099511627776}`},
	} {
		rec := c.v.do(tc.method, tc.path, c.tokens[tc.who], tc.body)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422: %.300s", name, rec.Code, rec.Body)
		}
	}
	if n := c.v.scalar(`SELECT count(*) FROM collection_items WHERE collection_id = $1`, coll).(int64); n != 0 {
		t.Fatalf("%d items stored", n)
	}
	if n := c.v.scalar(`SELECT count(*) FROM book_lists WHERE name = 'L'`).(int64); n != 0 {
		t.Fatalf("%d lists stored", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// R1 (issue 12): a reading log naming another school's (or family's) item is
// refused when posted, so background work never records activity on it or
// mails its title; the reader's own school's item is accepted.
func TestHardening_R1_ReadingLogOfAnotherTenantsItemIsRefused(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	c.v.exec(`INSERT INTO editions (isbn, title) VALUES ('9780306406157', 'Secret B title'), ('9780804429573', 'A title')`)
	collA, collB := c.v.collection(&c.a, nil, "A"), c.v.collection(&c.b, nil, "B")
	item := func(coll uuid.UUID, isbn string) int64 {
		var id int64
		if err := c.v.super.QueryRow(context.Background(), `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available)
			VALUES ($1, $2, 1, 1) RETURNING id`, coll, isbn).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	foreign, own := item(collB, "9780306406157"), item(collA, "9780804429573")
	post := func(info map[string]any) *httptest.ResponseRecorder {
		return c.v.do(http.MethodPost, "/v1/events", c.tokens["student A"],
			map[string]any{"title": "Reader timeline event: Reading logged", "level": "normal", "info": info})
	}
	for _, info := range []map[string]any{
		{"collection_item_id": foreign, "emoji": "x"},
		{"reading_logged": map[string]any{"collection_item_id": foreign}},
		{"collection_item_id": 99999999},
	} {
		rec := post(info)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if !strings.Contains(rec.Body.String(), `"collection_item_id"]`) {
			t.Fatalf("422 not about the item: %s", rec.Body)
		}
	}
	if n := c.v.scalar(`SELECT count(*) FROM task_queue WHERE kind = 'process-event'`).(int64); n != 0 {
		t.Fatalf("%d process-event tasks queued for refused logs", n)
	}
	wantStatus(t, post(map[string]any{"collection_item_id": own, "emoji": "x"}), http.StatusOK)
	if n := c.v.scalar(`SELECT count(*) FROM task_queue WHERE kind = 'process-event'`).(int64); n != 1 {
		t.Fatalf("%d process-event tasks for the reader's own school's item", n)
	}
}
