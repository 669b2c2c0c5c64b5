package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"google.golang.org/api/option"

	"github.com/wriveted/huey-api/server/internal/api"
	"github.com/wriveted/huey-api/server/internal/fbemu"
)

// The Admin SDK reads FIREBASE_AUTH_EMULATOR_HOST once, when app.Auth builds
// the client. The variable is set once per process and never unset (tests
// run in parallel), and the emulator clients are built once; the emulator's
// host is fixed by scripts/firebase-emulator/firebase.json, so they stay
// valid when the emulator is restarted (go test -count=2). The RS256 test
// (firebase_rs256_test.go) builds its own client with the variable cleared.
var emulatorClients struct {
	once    sync.Once
	byProj  map[string]*auth.Client
	initErr error
}

// emulatorVerifier is a real *auth.Client talking to the emulator, for
// project (the emulator's own, or another one to test the audience check).
func emulatorVerifier(t *testing.T, emu *fbemu.Emulator, project string) *auth.Client {
	t.Helper()
	c := &emulatorClients
	c.once.Do(func() {
		if err := os.Setenv("FIREBASE_AUTH_EMULATOR_HOST", emu.Host()); err != nil {
			c.initErr = err
			return
		}
		c.byProj = map[string]*auth.Client{}
		for _, p := range []string{emu.ProjectID(), "demo-other"} {
			ctx := context.Background()
			app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: p}, option.WithoutAuthentication())
			if err != nil {
				c.initErr = err
				return
			}
			if c.byProj[p], err = app.Auth(ctx); err != nil {
				c.initErr = err
				return
			}
		}
	})
	if c.initErr != nil {
		t.Fatalf("firebase client for the emulator: %v", c.initErr)
	}
	client, ok := c.byProj[project]
	if !ok {
		t.Fatalf("no emulator client for project %q", project)
	}
	return client
}

// fbUniqueEmail keeps accounts apart: the emulator is shared by every test
// (and test process) of the run, and nothing clears it between tests.
func fbUniqueEmail(prefix string) string {
	return prefix + "-" + uuid.NewString()[:8] + "@example.org"
}

type fbMe struct {
	AccountType string    `json:"account_type"`
	TokenExpiry time.Time `json:"token_expiry"`
	User        struct {
		ID              uuid.UUID      `json:"id"`
		Type            string         `json:"type"`
		Name            string         `json:"name"`
		Email           string         `json:"email"`
		IsActive        bool           `json:"is_active"`
		LastLoginAt     *string        `json:"last_login_at"`
		FirstName       *string        `json:"first_name"`
		LastNameInitial *string        `json:"last_name_initial"`
		Info            map[string]any `json:"info"`
	} `json:"user"`
}

// fbExchange calls GET /v1/auth/firebase with a Firebase ID token ("" sends
// no Authorization header).
func fbExchange(t *testing.T, v *env, query, idToken string) *httptest.ResponseRecorder {
	t.Helper()
	return v.do(http.MethodGet, "/v1/auth/firebase"+query, idToken, nil)
}

// fbLogin exchanges idToken, expecting a user token, and returns /auth/me.
func fbLogin(t *testing.T, v *env, idToken string) fbMe {
	t.Helper()
	rec := fbExchange(t, v, "", idToken)
	wantStatus(t, rec, http.StatusOK)
	tok := decode[struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}](t, rec)
	if tok.TokenType != "bearer" || tok.AccessToken == "" {
		t.Fatalf("token body %s", rec.Body)
	}
	me := v.do(http.MethodGet, "/v1/auth/me", tok.AccessToken, nil)
	wantStatus(t, me, http.StatusOK)
	return decode[fbMe](t, me)
}

func fbWantDetail(t *testing.T, rec *httptest.ResponseRecorder, status int, detail string) {
	t.Helper()
	wantStatus(t, rec, status)
	got := decode[struct {
		Detail any `json:"detail"`
	}](t, rec)
	if got.Detail != detail {
		t.Fatalf("detail %q, want %q", got.Detail, detail)
	}
}

// fbWithClaims re-encodes an (unsigned) emulator token with its payload changed.
func fbWithClaims(t *testing.T, idToken string, change func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", idToken)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	change(claims)
	out, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(out) + "." + parts[2]
}

// TestFirebaseExchangeEmulator drives GET /v1/auth/firebase (api.md §2.2,
// §3.1) with ID tokens issued by the Firebase Auth emulator and verified by
// the real Admin SDK. The emulator is shared with the other test processes
// and released when this test (and its subtests) end.
func TestFirebaseExchangeEmulator(t *testing.T) {
	t.Parallel()
	emu := fbemu.ForTest(t)
	client := emulatorVerifier(t, emu, emu.ProjectID())
	withFirebase := func(o *api.Options) { o.Firebase = client }
	ctx := context.Background()
	const password = "secret-pw-1"

	t.Run("FirstLoginCreatesAPublicReaderAndSecondReusesIt", func(t *testing.T) {
		t.Parallel()
		v := newEnv(t, withFirebase)
		email := fbUniqueEmail("ana")
		idToken, uid, err := emu.CreateUser(ctx, email, password, "Ana Reader", true)
		if err != nil {
			t.Fatal(err)
		}
		me := fbLogin(t, v, idToken)
		u := me.User
		if me.AccountType != "user" || u.Type != "public" || u.Name != "Ana Reader" || u.Email != email || !u.IsActive {
			t.Fatalf("/auth/me after the first login: %+v", me)
		}
		if d := time.Until(me.TokenExpiry); d < 8*24*time.Hour-time.Minute || d > 8*24*time.Hour+time.Minute {
			t.Fatalf("token_expiry %s: the user token should last 8 days", me.TokenExpiry)
		}
		if u.Info["sign_in_provider"] != "password" || u.LastLoginAt == nil {
			t.Fatalf("info %v, last_login_at %v", u.Info, u.LastLoginAt)
		}
		if u.FirstName == nil || *u.FirstName != "Ana" || u.LastNameInitial == nil || *u.LastNameInitial != "R" {
			t.Fatalf("first_name %v, last_name_initial %v", u.FirstName, u.LastNameInitial)
		}
		if n := v.scalar(`SELECT count(*) FROM events WHERE user_id = $1 AND title = 'User account created' AND level = 'NORMAL'`, u.ID); n != int64(1) {
			t.Fatalf("%v 'User account created' events, want 1", n)
		}
		if n := v.scalar(`SELECT count(*) FROM public_readers WHERE id = $1`, u.ID); n != int64(1) {
			t.Fatalf("public_readers rows: %v", n)
		}

		// Second login, with a fresh token carrying a picture now: same account.
		if err := emu.UpdateUser(ctx, uid, map[string]any{"photoUrl": "https://lh3.example.com/a.jpg"}); err != nil {
			t.Fatal(err)
		}
		idToken2, _, err := emu.SignIn(ctx, email, password)
		if err != nil {
			t.Fatal(err)
		}
		me2 := fbLogin(t, v, idToken2)
		if me2.User.ID != u.ID {
			t.Fatalf("second login gave user %s, first %s", me2.User.ID, u.ID)
		}
		if me2.User.Info["picture"] != "https://lh3.example.com/a.jpg" || me2.User.Info["sign_in_provider"] != "password" {
			t.Fatalf("info after the second login: %v", me2.User.Info)
		}
		if n := v.scalar(`SELECT count(*) FROM users WHERE email = $1`, email); n != int64(1) {
			t.Fatalf("%v users with %s, want 1", n, email)
		}
		if n := v.scalar(`SELECT count(*) FROM events WHERE user_id = $1 AND title = 'User logged in' AND level = 'DEBUG'`, u.ID); n != int64(1) {
			t.Fatalf("%v 'User logged in' events, want 1", n)
		}
		if n := v.scalar(`SELECT count(*) FROM events WHERE user_id = $1 AND title = 'User account created'`, u.ID); n != int64(1) {
			t.Fatalf("%v 'User account created' events after the second login, want 1", n)
		}
	})

	t.Run("NameDefaultsToTheEmail", func(t *testing.T) {
		t.Parallel()
		v := newEnv(t, withFirebase)
		email := fbUniqueEmail("noname")
		idToken, _, err := emu.CreateUser(ctx, email, password, "", true)
		if err != nil {
			t.Fatal(err)
		}
		if me := fbLogin(t, v, idToken); me.User.Name != email {
			t.Fatalf("name %q, want the e-mail %q", me.User.Name, email)
		}
	})

	t.Run("CreateFalse", func(t *testing.T) {
		t.Parallel()
		v := newEnv(t, withFirebase)
		email := fbUniqueEmail("nobody")
		idToken, _, err := emu.CreateUser(ctx, email, password, "No Body", true)
		if err != nil {
			t.Fatal(err)
		}
		fbWantDetail(t, fbExchange(t, v, "?create=false", idToken), http.StatusUnauthorized, "No account")
		if n := v.scalar(`SELECT count(*) FROM users WHERE email = $1`, email); n != int64(0) {
			t.Fatalf("create=false created %v users", n)
		}
		// Once the account exists, create=false logs in.
		me := fbLogin(t, v, idToken)
		rec := fbExchange(t, v, "?create=false", idToken)
		wantStatus(t, rec, http.StatusOK)
		if n := v.scalar(`SELECT count(*) FROM events WHERE user_id = $1 AND title = 'User logged in'`, me.User.ID); n != int64(1) {
			t.Fatalf("%v 'User logged in' events, want 1", n)
		}
	})

	t.Run("UnverifiedEmail", func(t *testing.T) {
		t.Parallel()
		v := newEnv(t, withFirebase)
		email := fbUniqueEmail("unverified")
		idToken, _, err := emu.CreateUser(ctx, email, password, "Un Verified", false)
		if err != nil {
			t.Fatal(err)
		}
		rec := fbExchange(t, v, "", idToken)
		wantStatus(t, rec, http.StatusUnauthorized) // the original answers 500 [defect]
		if n := v.scalar(`SELECT count(*) FROM users WHERE email = $1`, email); n != int64(0) {
			t.Fatalf("an unverified e-mail created %v users", n)
		}
	})

	t.Run("InactiveUser", func(t *testing.T) {
		t.Parallel()
		v := newEnv(t, withFirebase)
		name := "Ina Active" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
		id := v.user(name, "PUBLIC", nil) // e-mail: ina.active<suffix>@example.org
		v.exec(`UPDATE users SET is_active = false WHERE id = $1`, id)
		email := v.scalar(`SELECT email FROM users WHERE id = $1`, id).(string)
		idToken, _, err := emu.CreateUser(ctx, email, password, name, true)
		if err != nil {
			t.Fatal(err)
		}
		fbWantDetail(t, fbExchange(t, v, "", idToken), http.StatusUnauthorized, "Inactive user")
		// Nothing of the login is kept (api.md §2.2 steps 3–5).
		if n := v.scalar(`SELECT count(*) FROM events WHERE user_id = $1`, id); n != int64(0) {
			t.Fatalf("%v events recorded for an inactive user", n)
		}
		if at := v.scalar(`SELECT last_login_at FROM users WHERE id = $1`, id); at != nil {
			t.Fatalf("last_login_at set to %v for an inactive user", at)
		}
	})

	t.Run("MissingHeader", func(t *testing.T) {
		t.Parallel()
		v := newEnv(t, withFirebase)
		rec := fbExchange(t, v, "", "")
		fbWantDetail(t, rec, http.StatusUnauthorized, "Not authenticated")
		if got := rec.Header().Get(echo.HeaderWWWAuthenticate); got != "Bearer" {
			t.Errorf("WWW-Authenticate %q", got)
		}
	})

	t.Run("GarbageToken", func(t *testing.T) {
		t.Parallel()
		v := newEnv(t, withFirebase)
		for _, tok := range []string{"garbage", "a.b.c", "eyJhbGciOiJub25lIn0.bm90IGpzb24."} {
			fbWantDetail(t, fbExchange(t, v, "", tok), http.StatusUnauthorized, "Not verified")
		}
	})

	t.Run("DisabledFirebaseAccount", func(t *testing.T) {
		t.Parallel()
		v := newEnv(t, withFirebase)
		email := fbUniqueEmail("disabled")
		idToken, uid, err := emu.CreateUser(ctx, email, password, "Dis Abled", true)
		if err != nil {
			t.Fatal(err)
		}
		if err := emu.UpdateUser(ctx, uid, map[string]any{"disableUser": true}); err != nil {
			t.Fatal(err)
		}
		fbWantDetail(t, fbExchange(t, v, "", idToken), http.StatusUnauthorized, "Not verified")
	})

	t.Run("TokenFromAnotherProject", func(t *testing.T) {
		t.Parallel()
		email := fbUniqueEmail("elsewhere")
		idToken, _, err := emu.CreateUser(ctx, email, password, "Else Where", true)
		if err != nil {
			t.Fatal(err)
		}
		// A demo-huey token presented to an API configured for demo-other.
		other := newEnv(t, func(o *api.Options) { o.Firebase = emulatorVerifier(t, emu, "demo-other") })
		fbWantDetail(t, fbExchange(t, other, "", idToken), http.StatusUnauthorized, "Not verified")
		// A token whose audience and issuer name another project.
		v := newEnv(t, withFirebase)
		foreign := fbWithClaims(t, idToken, func(c map[string]any) {
			c["aud"] = "demo-other"
			c["iss"] = "https://securetoken.google.com/demo-other"
		})
		fbWantDetail(t, fbExchange(t, v, "", foreign), http.StatusUnauthorized, "Not verified")
		if n := v.scalar(`SELECT count(*) FROM users WHERE email = $1`, email); n != int64(0) {
			t.Fatalf("a foreign token created %v users", n)
		}
	})
}
