package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wriveted/huey-api/server/internal/api"
)

// benchBody is a PUT items body of n items, copies_total typed or as strings.
func benchBody(n int, typed bool) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		ct := `"3"`
		if typed {
			ct = `3`
		}
		fmt.Fprintf(&b, `{"edition_isbn":"978%010d","copies_total":%s,"copies_available":2,"info":{"title":"Some title %d","author":"A"}}`, i, ct, i)
	}
	b.WriteString("]")
	return []byte(b.String())
}

// BenchmarkLaxBody: the coercion pass on a 10 000-item collection body.
func BenchmarkLaxBody(b *testing.B) {
	for _, typed := range []bool{true, false} {
		body := benchBody(10000, typed)
		b.Run(fmt.Sprintf("typed=%v/%dKB", typed, len(body)/1024), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				if _, err := api.LaxRequestBody("PUT /v1/collection/:collection_id/items", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
