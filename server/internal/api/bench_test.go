package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
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

// benchLogger is the production logger (JSON, info level) writing to
// /dev/null, so the benchmarks pay for request logging (and its write
// system calls) as production does.
func benchLogger(o *apiOptions) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		panic(err)
	}
	o.Logger = slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// editionBench is one edition with a work and an author, and the path that reads it.
func editionBench(b *testing.B, v *env) string {
	b.Helper()
	w := v.work("The Bench Book")
	isbn := newISBN()
	v.edition(isbn, w, nil)
	v.author("Bea", "Bencher", w)
	return "/v1/edition/" + isbn
}

// BenchmarkGetEdition is one full GET /v1/edition/{isbn} (the read
// (a)) as a school's educator: routing, token verification, cached principals,
// the route policy, one batched round trip and the JSON, with request logging.
// Run: go test -run xxx -bench GetEdition -benchmem ./server/internal/api/
func BenchmarkGetEdition(b *testing.B) {
	v := newEnv(b, benchLogger)
	a := v.school("School A", "ACTIVE")
	tok := v.userToken(v.user("Ed Educator", "EDUCATOR", &a))
	path := editionBench(b, v)
	rec := v.do(http.MethodGet, path, tok, nil)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := v.do(http.MethodGet, path, tok, nil); rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkGetEditionParallel is the same from GOMAXPROCS goroutines, each
// request from one of 50 accounts in turn.
func BenchmarkGetEditionParallel(b *testing.B) {
	v := newEnv(b, benchLogger)
	a := v.school("School A", "ACTIVE")
	toks := make([]string, 50)
	for i := range toks {
		toks[i] = v.userToken(v.user(fmt.Sprintf("Ed Educator %d", i), "EDUCATOR", &a))
	}
	path := editionBench(b, v)
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
			r.Header.Set(echo.HeaderAuthorization, "Bearer "+toks[n.Add(1)%int64(len(toks))])
			rec := httptest.NewRecorder()
			v.e.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
