package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/auth"
)

// originalToken builds a token exactly as the original service does (PyJWT,
// HS256, sub/iat/exp), without our signer.
func originalToken(sub string, exp time.Time) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body := enc.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d,"iat":%d,"sub":%q}`, exp.Unix(), time.Now().Add(-time.Minute).Unix(), sub)))
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(head + "." + body))
	return head + "." + body + "." + enc.EncodeToString(m.Sum(nil))
}

func TestAuthenticationFailures(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	sch := v.school("School A", "ACTIVE")
	user := v.user("Eddie Educator", "EDUCATOR", &sch)
	inactive := v.user("Ina Active", "PUBLIC", nil)
	v.exec(`UPDATE users SET is_active = false WHERE id = $1`, inactive)
	orphan := v.user("Orphan Student", "PUBLIC", nil)
	v.exec(`DELETE FROM public_readers WHERE id = $1`, orphan) // subtype row missing: no account
	sa := v.serviceAccount("Retired LMS", "LMS")
	v.exec(`UPDATE service_accounts SET is_active = false WHERE id = $1`, sa)
	missing := uuid.New()

	cases := []struct {
		name, header string
		status       int
		detail       string
	}{
		{"no header", "", 401, "Could not validate credentials"},
		{"basic scheme", "Basic dXNlcjpwdw==", 401, "Could not validate credentials"},
		{"empty bearer", "Bearer ", 401, "Could not validate credentials"},
		{"garbage", "Bearer not-a-token", 403, "Could not validate credentials"},
		{"bad signature", "Bearer " + originalToken("Wriveted:User-Account:"+user.String(), time.Now().Add(time.Hour)) + "x", 403, "Could not validate credentials"},
		{"expired", "Bearer " + originalToken("Wriveted:User-Account:"+user.String(), time.Now().Add(-time.Minute)), 403, "Could not validate credentials"},
		{"F13 any colon", "Bearer " + originalToken("x:user-account:"+user.String(), time.Now().Add(time.Hour)), 403, "Could not validate credentials"},
		{"F13 four parts", "Bearer " + originalToken("wriveted:user-account:"+user.String()+":x", time.Now().Add(time.Hour)), 403, "Could not validate credentials"},
		{"unknown user", "Bearer " + originalToken("Wriveted:User-Account:"+missing.String(), time.Now().Add(time.Hour)), 404, "User not found"},
		{"orphaned user", "Bearer " + originalToken("Wriveted:User-Account:"+orphan.String(), time.Now().Add(time.Hour)), 404, "User not found"},
		{"unknown service account", "Bearer " + originalToken("wriveted:service-account:"+missing.String(), time.Now().Add(time.Hour)), 404,
			"ServiceAccount with id " + missing.String() + " not found."},
		{"user id as service account", "Bearer " + originalToken("wriveted:service-account:"+user.String(), time.Now().Add(time.Hour)), 404,
			"ServiceAccount with id " + user.String() + " not found."},
		{"inactive user", "Bearer " + originalToken("Wriveted:User-Account:"+inactive.String(), time.Now().Add(time.Hour)), 400, "Inactive account"},
		{"inactive service account", "Bearer " + originalToken("wriveted:service-account:"+sa.String(), time.Now().Add(time.Hour)), 400, "Inactive account"},
		{"original token", "Bearer " + originalToken("Wriveted:User-Account:"+strings.ToUpper(user.String()), time.Now().Add(time.Hour)), 200, ""},
		{"lower-case scheme", "bearer " + originalToken("wriveted:user-account:"+user.String(), time.Now().Add(time.Hour)), 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := map[string]string{}
			if tc.header != "" {
				req["Authorization"] = tc.header
			}
			rec := do(t, v.e, http.MethodGet, "/v1/auth/me", req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.detail != "" {
				if d := decode[map[string]any](t, rec)["detail"]; d != tc.detail {
					t.Errorf("detail %v, want %q", d, tc.detail)
				}
			}
			if tc.status == 401 && rec.Header().Get("WWW-Authenticate") != "Bearer" {
				t.Error("401 without WWW-Authenticate: Bearer")
			}
		})
	}
}

func TestF20AuthMeForEveryAccountKind(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	sch := v.school("School A", "ACTIVE")
	parent := v.user("Paula Parent", "PARENT", nil)
	child := v.user("Charlie Child", "PUBLIC", nil)
	v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, parent, child)
	v.exec(`INSERT INTO book_lists (name, type, user_id) VALUES ('Books To Read Now', 'PERSONAL', $1)`, child)
	ids := map[string]uuid.UUID{
		"student": v.user("Stu Dent", "STUDENT", &sch), "educator": v.user("Ed U", "EDUCATOR", &sch),
		"school_admin": v.user("Sal Admin", "SCHOOL_ADMIN", &sch), "wriveted": v.user("Wri Admin", "WRIVETED", nil),
		"parent": parent, "public": child, "supporter": v.user("Sue Porter", "SUPPORTER", nil),
	}
	for typ, id := range ids {
		rec := v.do(http.MethodGet, "/v1/auth/me", v.userToken(id), nil)
		wantStatus(t, rec, http.StatusOK) // F20: supporters too
		got := decode[map[string]any](t, rec)
		u := got["user"].(map[string]any)
		if got["account_type"] != "user" || u["type"] != typ || u["id"] != id.String() || got["service_account"] != nil {
			t.Errorf("%s: %v", typ, got)
		}
		if _, err := time.Parse(time.RFC3339, got["token_expiry"].(string)); err != nil || !strings.HasSuffix(got["token_expiry"].(string), "Z") {
			t.Errorf("%s: token_expiry %v", typ, got["token_expiry"])
		}
		switch typ {
		case "student":
			if u["username"] != "StuDent42" || u["school"].(map[string]any)["wriveted_identifier"] != sch.WID.String() {
				t.Errorf("student: %v", u)
			}
		case "public":
			if u["parent"].(map[string]any)["id"] != parent.String() ||
				u["reading_path"].(map[string]any)["read_now"].(map[string]any)["name"] != "Books To Read Now" {
				t.Errorf("public reader: %v", u)
			}
			if _, ok := u["huey_attributes"].(map[string]any)["hues"]; !ok {
				t.Errorf("huey_attributes lacks hues: %v", u["huey_attributes"])
			}
		case "parent":
			ch := u["children"].([]any)
			if len(ch) != 1 || ch[0].(map[string]any)["id"] != child.String() {
				t.Errorf("parent children: %v", u["children"])
			}
		case "educator", "school_admin":
			if u["school"].(map[string]any)["name"] != "School A" {
				t.Errorf("%s school: %v", typ, u["school"])
			}
		}
	}
	sa := v.serviceAccount("Backend", "BACKEND")
	got := decode[map[string]any](t, v.do(http.MethodGet, "/v1/auth/me", v.saToken(sa), nil))
	if got["account_type"] != "service_account" || got["service_account"].(map[string]any)["type"] != "backend" || got["user"] != nil {
		t.Errorf("service account: %v", got)
	}
}

func TestF12ClassCodeLoginAndRegistration(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	active := v.school("Active School", "ACTIVE")
	inactive := v.school("Inactive School", "INACTIVE")
	v.exec(`INSERT INTO class_groups (school_id, name, join_code) VALUES ($1, 'Room 1', 'BCDFGH'), ($2, 'Room 9', 'XYWVTR')`,
		active.WID, inactive.WID)

	// Registration: unknown school 404, unknown code / other school / inactive school 401 (F12).
	reg := func(school uuid.UUID, code string) map[string]any {
		return map[string]any{"first_name": "Tama", "last_name_initial": "K", "school_id": school, "class_joining_code": code}
	}
	wantStatus(t, v.do(http.MethodPost, "/v1/auth/register-student", "", reg(uuid.New(), "BCDFGH")), http.StatusNotFound)
	wantStatus(t, v.do(http.MethodPost, "/v1/auth/register-student", "", reg(active.WID, "ZZZZZZ")), http.StatusUnauthorized)
	wantStatus(t, v.do(http.MethodPost, "/v1/auth/register-student", "", reg(active.WID, "XYWVTR")), http.StatusUnauthorized)
	wantStatus(t, v.do(http.MethodPost, "/v1/auth/register-student", "", reg(inactive.WID, "XYWVTR")), http.StatusUnauthorized)
	wantStatus(t, v.do(http.MethodPost, "/v1/auth/register-student", "", map[string]any{"school_id": active.WID}), http.StatusUnprocessableEntity)
	rec := v.do(http.MethodPost, "/v1/auth/register-student", "", reg(active.WID, "BCDFGH"))
	wantStatus(t, rec, http.StatusOK)
	student := decode[map[string]any](t, rec)
	username := student["username"].(string)
	if !strings.HasPrefix(username, "TamaK") || len(username) != 7 || student["type"] != "student" ||
		student["school"].(map[string]any)["name"] != "Active School" {
		t.Fatalf("registered: %v", student)
	}
	if n := v.scalar(`SELECT count(*) FROM events WHERE title = 'Student account created' AND user_id = $1`, student["id"]).(int64); n != 1 {
		t.Errorf("registration events: %d", n)
	}

	// Sign-in: any case of the username, with the class code.
	login := func(username, code string) *map[string]any {
		rec := v.do(http.MethodPost, "/v1/auth/class-code", "", map[string]any{"username": username, "class_joining_code": code})
		if rec.Code != http.StatusOK {
			return nil
		}
		out := decode[map[string]any](t, rec)
		return &out
	}
	tok := login(strings.ToLower(username), "BCDFGH")
	if tok == nil {
		t.Fatal("student could not sign in")
	}
	me := decode[map[string]any](t, v.do(http.MethodGet, "/v1/auth/me", (*tok)["access_token"].(string), nil))
	if me["user"].(map[string]any)["id"] != student["id"] || me["user"].(map[string]any)["last_login_at"] == nil {
		t.Errorf("me after class-code login: %v", me)
	}
	for name, c := range map[string][2]string{
		"unknown code": {username, "QQQQQQ"}, "unknown user": {"Nobody10", "BCDFGH"},
		"other school's code": {username, "XYWVTR"},
	} {
		rec := v.do(http.MethodPost, "/v1/auth/class-code", "", map[string]any{"username": c[0], "class_joining_code": c[1]})
		if rec.Code != http.StatusUnauthorized || decode[map[string]any](t, rec)["detail"] != "Unauthorized" {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	v.exec(`UPDATE schools SET state = 'INACTIVE' WHERE id = $1`, active.ID)
	if login(username, "BCDFGH") != nil {
		t.Error("a student of an inactive school signed in")
	}
	wantStatus(t, v.do(http.MethodPost, "/v1/auth/class-code", "", map[string]any{"username": "x"}), http.StatusUnprocessableEntity)
}

// F12: the class-code routes are rate-limited per client address.
func TestF12ClassCodeRateLimit(t *testing.T) {
	t.Parallel()
	v := newEnv(t, func(o *apiOptions) { o.ClassCodeRate = 6 }) // burst 3
	codes := map[int]int{}
	for range 8 {
		rec := v.do(http.MethodPost, "/v1/auth/class-code", "", map[string]any{"username": "a", "class_joining_code": "BBBBBB"})
		codes[rec.Code]++
	}
	if codes[http.StatusTooManyRequests] == 0 || codes[http.StatusUnauthorized] == 0 {
		t.Fatalf("statuses %v, want some 401 then 429", codes)
	}
}

// F10: a 90-day magic-link token only for admins and for oneself.
func TestF10MagicLink(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	target := c.ids["student A"]
	parentOfTarget := c.v.user("Parent Of A", "PARENT", nil)
	c.v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, parentOfTarget, target)
	c.tokens["parent"] = c.v.userToken(parentOfTarget) // a parent of the target
	want := statuses(http.StatusForbidden, map[string]int{
		"anonymous": 401, "admin": 200, "student A": 200, // not "backend": R11
	})
	c.run(t, http.MethodPost, func() string { return "/v1/user/" + target.String() + "/auth-token" }, nil, want)
	rec := c.v.do(http.MethodPost, "/v1/user/"+target.String()+"/auth-token", c.tokens["admin"], nil)
	tok := decode[map[string]string](t, rec)
	verified, err := c.v.tokens.Verify(tok["access_token"], time.Now())
	if err != nil || verified.Subject.ID != target || verified.Expiry.Sub(verified.IssuedAt) != auth.MagicLinkTTL {
		t.Fatalf("magic link token: %+v %v", verified, err)
	}
	wantStatus(t, c.v.do(http.MethodPost, "/v1/user/"+uuid.NewString()+"/auth-token", c.tokens["admin"], nil), http.StatusNotFound)
}

// R11 (issue 12): a backend service account holds role:admin but is no user:
// it mints no magic link, least of all for a Wriveted admin (whose link would
// then pass user-only guards). An admin user may, for anyone.
func TestHardening_R11_ServiceAccountsMintNoMagicLinks(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	for _, target := range []string{"admin", "student A", "educator A"} {
		path := "/v1/user/" + c.ids[target].String() + "/auth-token"
		for _, who := range []string{"backend", "lms linked A", "school sa A", "kiosk"} {
			rec := c.v.do(http.MethodPost, path, c.tokens[who], nil)
			wantStatus(t, rec, http.StatusForbidden)
		}
		wantStatus(t, c.v.do(http.MethodPost, path, c.tokens["admin"], nil), http.StatusOK)
	}
	second := c.v.user("Second Admin", "WRIVETED", nil)
	wantStatus(t, c.v.do(http.MethodPost, "/v1/user/"+second.String()+"/auth-token", c.tokens["admin"], nil), http.StatusOK)
}

// A deactivation in this process takes effect at once, not after the cache TTL.
func TestPrincipalCacheDropsWrittenAccounts(t *testing.T) {
	t.Parallel()
	c := newCast(t)
	tok := c.tokens["schooladmin B"]
	wantStatus(t, c.v.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK) // cached now
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/school/"+c.a.WID.String(), c.tokens["admin"], nil), http.StatusConflict)
	c.v.exec(`DELETE FROM service_account_school_association`)
	wantStatus(t, c.v.do(http.MethodDelete, "/v1/school/"+c.b.WID.String(), c.tokens["admin"], nil), http.StatusOK)
	wantStatus(t, c.v.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusBadRequest)
}

// A token verified once is remembered (schema/auth.VerifyCache), but never
// past its exp: on a clock past it the same token is refused again.
func TestRememberedTokenStillExpires(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	start := time.Now()
	clock.Store(start.UnixNano())
	v := newEnv(t, func(o *apiOptions) { o.Now = func() time.Time { return time.Unix(0, clock.Load()) } })
	sch := v.school("School A", "ACTIVE")
	user := v.user("Eddie Educator", "EDUCATOR", &sch)
	tok := originalToken("Wriveted:User-Account:"+user.String(), start.Add(2*time.Minute))
	for range 2 {
		wantStatus(t, v.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
	}
	clock.Store(start.Add(3 * time.Minute).UnixNano()) // past exp and its 30 s skew
	wantStatus(t, v.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusForbidden)
	// A forged signature on the same payload is refused though the payload's
	// token is remembered.
	clock.Store(start.UnixNano())
	wantStatus(t, v.do(http.MethodGet, "/v1/auth/me", tok, nil), http.StatusOK)
	head, body, _ := strings.Cut(tok, ".")
	body, _, _ = strings.Cut(body, ".")
	wantStatus(t, v.do(http.MethodGet, "/v1/auth/me", head+"."+body+".AAAA", nil), http.StatusForbidden)
}
