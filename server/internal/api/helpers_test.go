package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/dbtest"
	"github.com/wriveted/huey-api/server/internal/api"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

const testSecret = "test-secret-key-of-at-least-32-bytes!!"

// env is one test's API over its own database, with a superuser pool for
// fixtures (never for the code under test).
type env struct {
	t      testing.TB
	e      *echo.Echo
	super  *pgxpool.Pool
	tokens *auth.Keys
	db     *dbtest.DB
}

// testEngine is compiled once per test binary.
var testEngine = func() *policies.Engine {
	e, err := policies.New(context.Background())
	if err != nil {
		panic(err)
	}
	return e
}()

type envOption func(*api.Options)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	d := dbtest.NewDB(t)
	tokens, err := auth.NewKeys([]byte(testSecret), "")
	if err != nil {
		t.Fatal(err)
	}
	o := api.Options{
		Pool:     d.Pool(t, dbtest.RoleAPI),
		Logger:   slog.New(slog.NewJSONHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError})),
		Policies: testEngine, Tokens: tokens, PrincipalCacheTTL: 5 * time.Second,
		Version: "1.2.3", Commit: "abc123", CloudRunRevision: "Unknown",
		CORSOrigins: []string{"http://localhost:3000"}, ClassCodeRate: 600,
	}
	for _, f := range opts {
		f(&o)
	}
	return &env{t: t, e: api.New(o), super: d.SuperPool(t), tokens: tokens, db: d}
}

// exec runs fixture SQL as a superuser.
func (v *env) exec(sql string, args ...any) {
	v.t.Helper()
	if _, err := v.super.Exec(context.Background(), sql, args...); err != nil {
		v.t.Fatalf("fixture %q: %v", sql, err)
	}
}

func (v *env) scalar(sql string, args ...any) any {
	v.t.Helper()
	var out any
	if err := v.super.QueryRow(context.Background(), sql, args...).Scan(&out); err != nil {
		v.t.Fatalf("query %q: %v", sql, err)
	}
	return out
}

type school struct {
	ID  int64
	WID uuid.UUID
}

func (v *env) school(name, state string) school {
	v.t.Helper()
	var s school
	err := v.super.QueryRow(context.Background(), `INSERT INTO schools (name, state, country_code, official_identifier, info)
		VALUES ($1, $2, 'NZL', $3, '{"location": {"state": "Auckland", "postcode": "1010"}, "experiments": {"no-jokes": false}}')
		RETURNING id, wriveted_identifier`, name, state, "OFF-"+name).Scan(&s.ID, &s.WID)
	if err != nil {
		v.t.Fatal(err)
	}
	return s
}

// user creates an account of type typ (DB label); school may be nil.
func (v *env) user(name, typ string, sch *school) uuid.UUID {
	v.t.Helper()
	id := uuid.New()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"
	v.exec(`INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
		VALUES ($1, true, $2, $3, '{}', now(), now(), $4)`, id, email, name, typ)
	switch typ {
	case "PUBLIC":
		v.exec(`INSERT INTO readers (id, huey_attributes, first_name, last_name_initial) VALUES ($1, '{}', 'Pat', 'R')`, id)
		v.exec(`INSERT INTO public_readers (id, reader_info) VALUES ($1, '{}')`, id)
	case "STUDENT":
		cls := v.class(*sch, "Class of "+name)
		v.exec(`INSERT INTO readers (id, huey_attributes, first_name, last_name_initial) VALUES ($1, '{}', 'Sam', 'S')`, id)
		v.exec(`INSERT INTO students (id, school_id, student_info, class_group_id, username) VALUES ($1, $2, '{}', $3, $4)`,
			id, sch.ID, cls, strings.ReplaceAll(name, " ", "")+"42")
	case "EDUCATOR":
		v.exec(`INSERT INTO educators (id, school_id, educator_info) VALUES ($1, $2, '{}')`, id, sch.ID)
	case "SCHOOL_ADMIN":
		v.exec(`INSERT INTO educators (id, school_id, educator_info) VALUES ($1, $2, '{}')`, id, sch.ID)
		v.exec(`INSERT INTO school_admins (id, school_admin_info) VALUES ($1, '{}')`, id)
	case "WRIVETED":
		v.exec(`INSERT INTO wriveted_admins (id, wriveted_admin_info) VALUES ($1, '{}')`, id)
	case "PARENT":
		v.exec(`INSERT INTO parents (id, parent_info) VALUES ($1, '{}')`, id)
	case "SUPPORTER":
		v.exec(`INSERT INTO supporters (id, supporter_info) VALUES ($1, '{}')`, id)
	}
	return id
}

func (v *env) class(sch school, name string) uuid.UUID {
	v.t.Helper()
	var id uuid.UUID
	code := strings.ToUpper(uuid.NewString()[:6])
	if err := v.super.QueryRow(context.Background(), `INSERT INTO class_groups (school_id, name, join_code)
		VALUES ($1, $2, $3) RETURNING id`, sch.WID, name, code).Scan(&id); err != nil {
		v.t.Fatal(err)
	}
	return id
}

// serviceAccount creates a service account of type typ linked to schools.
func (v *env) serviceAccount(name, typ string, schools ...school) uuid.UUID {
	v.t.Helper()
	id := uuid.New()
	v.exec(`INSERT INTO service_accounts (id, name, is_active, type, info, created_at, updated_at)
		VALUES ($1, $2, true, $3, '{}', now(), now())`, id, name, typ)
	for _, s := range schools {
		v.exec(`INSERT INTO service_account_school_association (service_account_id, school_id) VALUES ($1, $2)`, id, s.ID)
	}
	return id
}

func (v *env) userToken(id uuid.UUID) string {
	v.t.Helper()
	t, err := v.tokens.Sign(auth.Subject{Kind: auth.KindUser, ID: id}, time.Hour, time.Now())
	if err != nil {
		v.t.Fatal(err)
	}
	return t
}

func (v *env) saToken(id uuid.UUID) string {
	v.t.Helper()
	t, err := v.tokens.Sign(auth.Subject{Kind: auth.KindServiceAccount, ID: id}, time.Hour, time.Now())
	if err != nil {
		v.t.Fatal(err)
	}
	return t
}

// do sends a request; token "" sends none; body is JSON-encoded unless it is a string.
func (v *env) do(method, path, token string, body any) *httptest.ResponseRecorder {
	v.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			v.t.Fatal(err)
		}
		r = bytes.NewReader(buf)
	}
	req := httptest.NewRequestWithContext(context.Background(), method, path, r)
	if body != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	if token != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var out T
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return out
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
	}
}

var _ = http.MethodGet

// testLog sends the server's error logs to the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	if strings.Contains(string(b), `"msg":"decision_not_taken"`) {
		// A handler answered 2xx without taking its route's declared decision.
		l.t.Errorf("route answered without its declared decision: %s", b)
	}
	return len(b), nil
}

type apiOptions = api.Options

// newEnvOn rebuilds v's API over another pool of the same database.
func newEnvOn(t testing.TB, v *env, pool *pgxpool.Pool, opts ...envOption) *env {
	t.Helper()
	o := api.Options{
		Pool:     pool,
		Logger:   slog.New(slog.NewJSONHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError})),
		Policies: testEngine, Tokens: v.tokens, PrincipalCacheTTL: 5 * time.Second, ClassCodeRate: 600,
	}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return &env{t: t, e: api.New(o), super: v.super, tokens: v.tokens, db: v.db}
}
