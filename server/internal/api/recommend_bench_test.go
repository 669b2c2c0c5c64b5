package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// BenchmarkRecommend is one POST /v1/recommend on the sample catalogue by a
// student of school A with its collection (150 editions): the school look-up
// and F9 decision, the candidate query, the event, the commit. Run:
// go test -run xxx -bench 'Recommend|Search' -benchmem ./server/internal/api/
func BenchmarkRecommend(b *testing.B) {
	c := newSearchCast(b)
	tok := c.v.userToken(c.v.user("Student A", "STUDENT", &c.a))
	bodies := map[string]string{
		"catalogue": `{"hues": ["hue05_funny_comic", "hue12_funny_quirky"], "age": 8, "reading_abilities": ["TREEHOUSE"]}`,
		"school":    `{"hues": ["hue05_funny_comic"], "wriveted_identifier": "` + c.a.WID.String() + `"}`,
	}
	for name, body := range bodies {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/recommend?limit=5",
					bytes.NewReader([]byte(body)))
				r.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
				r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
				rec := httptest.NewRecorder()
				c.v.e.ServeHTTP(rec, r)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkSearch is one GET /v1/search on the sample catalogue: a text
// query, and the most-held list.
func BenchmarkSearch(b *testing.B) {
	c := newSearchCast(b)
	tok := c.v.userToken(c.v.user("Reader", "PUBLIC", nil))
	for name, path := range map[string]string{"query": "/v1/search?query=dark%20OR%20dog&limit=20",
		"no-query": "/v1/search?limit=20"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
				r.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
				rec := httptest.NewRecorder()
				c.v.e.ServeHTTP(rec, r)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
