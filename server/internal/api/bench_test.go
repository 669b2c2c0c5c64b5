package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// BenchmarkGetSchool is one full GET /v1/school/{id} as the school's admin:
// routing, token verification, cached principals, one batched database round
// trip (claims, attribute look-up, detail queries), the policy decision and
// the JSON. Run: go test -run xxx -bench GetSchool -benchmem ./server/internal/api/
func BenchmarkGetSchool(b *testing.B) {
	v := newEnv(b)
	a := v.school("School A", "ACTIVE")
	tok := v.userToken(v.user("Sal Admin", "SCHOOL_ADMIN", &a))
	path := "/v1/school/" + a.WID.String()
	req := func() *http.Request {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
		r.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
		return r
	}
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req())
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		v.e.ServeHTTP(rec, req())
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkGetSchoolParallel is the same from several goroutines.
func BenchmarkGetSchoolParallel(b *testing.B) {
	v := newEnv(b)
	a := v.school("School A", "ACTIVE")
	tok := v.userToken(v.user("Sal Admin", "SCHOOL_ADMIN", &a))
	path := "/v1/school/" + a.WID.String()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
			r.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
			rec := httptest.NewRecorder()
			v.e.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
