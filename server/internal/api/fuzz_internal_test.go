package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Fuzz targets for the standalone parsers (issue 12): no database, fast.
// The HTTP-level targets (every body route, path and query parameters,
// the bearer token) are in fuzz_test.go.

// ctxWith is an echo context for a request with the given raw query and body.
func ctxWith(rawQuery string, body string) echo.Context {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.URL.RawQuery = rawQuery
	return echo.New().NewContext(req, httptest.NewRecorder())
}

// want422 fails unless err is nil or a 422 in the original's shape whose
// entries start their loc with where, and whose body encodes as JSON.
func want422(t *testing.T, what string, err error, where string) {
	t.Helper()
	if err == nil {
		return
	}
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity {
		t.Fatalf("%s: %v (%T), want nil or a 422", what, err, err)
	}
	entries, ok := ae.Detail.([]validationError)
	if !ok || len(entries) == 0 {
		t.Fatalf("%s: detail %#v, want validation entries", what, ae.Detail)
	}
	for _, e := range entries {
		if len(e.Loc) == 0 || e.Loc[0] != where || e.Type == "" || e.Msg == "" {
			t.Fatalf("%s: entry %#v, want loc [%q, …], a type and a message", what, e, where)
		}
	}
	if _, err := json.Marshal(detail{Detail: ae.Detail}); err != nil {
		t.Fatalf("%s: the 422 body does not encode: %v", what, err)
	}
}

// FuzzQueryParsers: every query parser answers a value or a 422 for any
// value, and the values it answers are within their bounds.
func FuzzQueryParsers(f *testing.F) {
	for _, s := range []string{"", "0", "10", "-1", "2147483647", "2147483648", "1e3", " 1", "+5", "0x10",
		"true", "FALSE", "yes", "off", "maybe", "2026-11-27T10:11:12+02:00", "2026-11-27T10:11:12 02:00",
		"2026-11-27", "1700000000.5", "-1e11", "NaN", "Inf", "1e400", "héllo", "\xff", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q := url.Values{}
		for _, k := range []string{"n", "skip", "limit"} {
			q.Set(k, raw)
		}
		c := ctxWith(q.Encode(), "")
		n, err := queryInt(c, "n", 7, -5, 500)
		want422(t, "queryInt", err, "query")
		if err == nil && (n < -5 || n > 500) {
			t.Fatalf("queryInt(%q) = %d, outside [-5, 500]", raw, n)
		}
		if err == nil && raw == "" && n != 7 {
			t.Fatalf("queryInt(\"\") = %d, want the default", n)
		}
		skip, limit, err := page(c)
		want422(t, "page", err, "query")
		if err == nil && (skip < 0 || limit < 0 || limit > maxLimit) {
			t.Fatalf("page(%q) = %d, %d", raw, skip, limit)
		}
		o, err := queryOptInt(c, "n")
		want422(t, "queryOptInt", err, "query")
		if err == nil && raw != "" && (o == nil || *o < -1<<31 || *o > 1<<31-1) {
			t.Fatalf("queryOptInt(%q) = %v", raw, o)
		}
		_, err = queryBool(c, "n")
		want422(t, "queryBool", err, "query")
		s, err := queryString(c, "n", 10)
		want422(t, "queryString", err, "query")
		if err == nil && (s == nil || utf8.RuneCountInString(*s) > 10) {
			t.Fatalf("queryString(%q) = %v", raw, s)
		}
		d, err := queryDateTime(c, "n")
		want422(t, "queryDateTime", err, "query")
		if err == nil && raw != "" && (d == nil || d.Location().String() != "UTC") {
			t.Fatalf("queryDateTime(%q) = %v, want a UTC time", raw, d)
		}
	})
}

// FuzzPathUUID: a path UUID parses or is a 422.
func FuzzPathUUID(f *testing.F) {
	for _, s := range []string{"8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e", "8F4C2A1E5B7D4C1A9E0F2D3B4A5C6D7E",
		"{8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e}", "urn:uuid:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e", "", "42", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c := ctxWith("", "")
		c.SetParamNames("id")
		c.SetParamValues(raw)
		_, err := pathUUID(c, "id")
		want422(t, "pathUUID", err, "path")
	})
}

// bodyTargets are the handlers' body types, each decoded by decodeBody.
var bodyTargets = map[string]func() any{
	"classCodeIn": func() any { return new(classCodeIn) }, "registerStudentIn": func() any { return new(registerStudentIn) },
	"booklistCreateIn": func() any { return new(booklistCreateIn) }, "booklistUpdateIn": func() any { return new(booklistUpdateIn) },
	"isbns": func() any { return new([]*string) }, "editionCreateIn": func() any { return new(editionCreateIn) },
	"editionUpdateIn": func() any { return new(editionUpdateIn) }, "workCreateIn": func() any { return new(workCreateIn) },
	"workUpdateIn": func() any { return new(workUpdateIn) }, "classGroupCreateIn": func() any { return new(classGroupCreateIn) },
	"classGroupUpdateIn": func() any { return new(classGroupUpdateIn) }, "collectionCreateIn": func() any { return new(collectionCreateIn) },
	"collectionItems": func() any { return new([]collectionItemIn) }, "collectionUpdateIn": func() any { return new(collectionUpdateIn) },
	"collectionItemAndStatusIn": func() any { return new(collectionItemAndStatusIn) },
	"collectionItemActivityIn":  func() any { return new(collectionItemActivityIn) },
	"eventCreateIn":             func() any { return new(eventCreateIn) }, "readingFeedbackIn": func() any { return new(readingFeedbackIn) },
	"schoolCreateIn": func() any { return new(schoolCreateIn) }, "schoolPatchIn": func() any { return new(schoolPatchIn) },
	"serviceAccountCreateIn": func() any { return new(serviceAccountCreateIn) },
	"serviceAccountUpdateIn": func() any { return new(serviceAccountUpdateIn) }, "userCreateIn": func() any { return new(userCreateIn) },
	"userUpdateIn": func() any { return new(userUpdateIn) }, "hydrate isbns": func() any { return new([]string) },
}

// FuzzDecodeBody: every handler's body type decodes any bytes into a value
// or a 422 in the original's shape (never another error, never a panic).
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{``, ` `, `{}`, `[]`, `null`, `{"name":"x","type":"personal","items":[{"edition_isbn":"0-7475-3269-9"}]}`,
		`{"info":{"location":{"state":"Auckland","postcode":"1010"}},"country_code":"NZL","name":"S"}`,
		`{"age":2147483648}`, `{"copies_total":"3"}`, `{"school_id":12}`, `[{"isbn":"9780143782797","title":1}]`,
		`{"a":`, `{"a":1}x`, `"\ud83d"`, `{"type":"student","first_name":"Bo","school_id":"x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for name, target := range bodyTargets {
			err := decodeBody(ctxWith("", body), target())
			want422(t, name, err, "body")
		}
		_, err := decodeList[labelSetPatchIn](ctxWith("", body))
		want422(t, "decodeList[labelSetPatchIn]", err, "body")
		l, err := decodeList[editionCreateIn](ctxWith("", body))
		want422(t, "decodeList[editionCreateIn]", err, "body")
		if err == nil && l == nil {
			t.Fatalf("decodeList(%q) = nil without an error", body)
		}
	})
}

// FuzzHostileInput: the input guard's JSON escape check agrees with the
// encoder (a string encodes to clean escapes exactly when it holds no NUL),
// and locating a refused body's fault never panics and names the body.
func FuzzHostileInput(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":"\u0000"}`, `{"a":"\\u0000"}`, `{"a":"\ud83d\ude00"}`,
		`{"a":"\ud83d"}`, `{"a":"\ude00"}`, `\`, `"\u12"`, `{"info":{"n":["ok","\u0000"]}}`, "a\x00b", "\xff", `[1,"\u0000"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		_ = cleanJSONEscapes(b)
		if loc := hostileBodyLoc(b); len(loc) == 0 || len(loc) > 2 || loc[0] != "body" {
			t.Fatalf("hostileBodyLoc(%q) = %v", s, loc)
		}
		if utf8.ValidString(s) {
			enc, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := cleanJSONEscapes(enc), strings.IndexByte(s, 0) < 0; got != want {
				t.Fatalf("cleanJSONEscapes(%s) = %v, want %v", enc, got, want)
			}
		}
		if err := hostileInput([]any{"query", "x"}, s); err != nil {
			want422(t, "hostileInput", err, "query")
			var ae *apiError
			errors.As(err, &ae)
			if in := ae.Detail.([]validationError)[0].Input.(string); !cleanText(in) {
				t.Fatalf("hostileInput echoes %q", in)
			}
		}
	})
}

// FuzzBearer: the Authorization header parser finds a non-empty token
// without surrounding spaces, taken from the header, only after "Bearer".
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer  x ", "Basic abc", "Bearer", "Bearer ", " BEARER\tx", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := bearer(h)
		if !ok {
			if tok != "" {
				t.Fatalf("bearer(%q) = %q without a token", h, tok)
			}
			return
		}
		if tok == "" || tok != strings.TrimSpace(tok) || !strings.Contains(h, tok) ||
			!strings.HasPrefix(strings.ToLower(strings.TrimSpace(h)), "bearer ") {
			t.Fatalf("bearer(%q) = %q", h, tok)
		}
	})
}

// FuzzValidURL: an accepted URL is http(s) with a host, and normalising it
// again changes nothing.
func FuzzValidURL(f *testing.F) {
	for _, s := range []string{"https://example.org", "http://a.b/c?d#e", "ftp://x", "https://", "//x", "https://[::1]:80", "https://x/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := validURL(s)
		if !ok {
			return
		}
		again, ok := validURL(out)
		if !ok || again != out || !(strings.HasPrefix(out, "http://") || strings.HasPrefix(out, "https://")) {
			t.Fatalf("validURL(%q) = %q; again %q, %v", s, out, again, ok)
		}
	})
}

// FuzzLikePattern: the escaped pattern is "%<s>%" with every LIKE
// metacharacter of s escaped, so it matches s literally.
func FuzzLikePattern(f *testing.F) {
	for _, s := range []string{"", "a", `50%_off\`, `\\%%__`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := likePattern(s)
		if !strings.HasPrefix(p, "%") || !strings.HasSuffix(p, "%") || len(p) < 2 {
			t.Fatalf("likePattern(%q) = %q", s, p)
		}
		var b strings.Builder
		inner := p[1 : len(p)-1]
		for i := 0; i < len(inner); i++ {
			switch c := inner[i]; {
			case c == '\\' && i+1 < len(inner) && strings.IndexByte(`\%_`, inner[i+1]) >= 0:
				b.WriteByte(inner[i+1])
				i++
			case c == '\\' || c == '%' || c == '_':
				t.Fatalf("likePattern(%q) = %q: unescaped %q", s, p, c)
			default:
				b.WriteByte(c)
			}
		}
		if b.String() != s {
			t.Fatalf("likePattern(%q) = %q unescapes to %q", s, p, b.String())
		}
	})
}
