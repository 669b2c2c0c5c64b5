package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Input Postgres cannot store (issue 12 R4/R5): a NUL character (text and
// json columns refuse it, jsonb refuses \u0000), bytes that are not UTF-8,
// and in JSON a \u escape of a lone UTF-16 surrogate (jsonb refuses it).
// Each reached Postgres from some route and came back as a 500 — or, stored
// in a json column, made a later read fail for every reader. They are
// refused once, here, for the path, the query string and the body of every
// route, with 422 in the original's validation shape; nothing is read from
// or written to the database first.

// rejectHostileInput answers 422 for such input. It runs after the body
// limit, so reading the body here is bounded; the body is restored for the
// handler.
func rejectHostileInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !cleanText(r.URL.Path) {
			return hostileInput([]any{"path"}, r.URL.Path)
		}
		if r.URL.RawQuery != "" {
			for k, vs := range r.URL.Query() {
				if !cleanText(k) {
					return hostileInput([]any{"query"}, k)
				}
				for _, v := range vs {
					if !cleanText(v) {
						return hostileInput([]any{"query", k}, v)
					}
				}
			}
		}
		if r.Body != nil && r.Body != http.NoBody {
			// Without credentials only a small body is read here (the public
			// routes take small bodies): a large one from a stranger is left
			// for authentication to refuse, not read in full.
			limit := int64(-1)
			if r.Header.Get(echo.HeaderAuthorization) == "" {
				limit = anonymousBodyScan
			}
			b, rest, err := readUpTo(r.Body, limit)
			if err != nil {
				return err // over the body limit: 413
			}
			if rest != nil {
				r.Body = struct {
					io.Reader
					io.Closer
				}{io.MultiReader(bytes.NewReader(b), rest), r.Body}
				return next(c)
			}
			r.Body = newBufferedBody(b) // read whole: coerceBody may rewrite it
			if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 || !cleanJSONEscapes(b) {
				return hostileInput(hostileBodyLoc(b), nil)
			}
		}
		return next(c)
	}
}

// anonymousBodyScan is how much of a body without credentials is read to
// check it (the class-code bodies are a few hundred bytes).
const anonymousBodyScan = 64 << 10

// readUpTo reads r whole (limit < 0) or up to limit bytes; when more
// remains, rest reads it (after the bytes returned).
func readUpTo(r io.Reader, limit int64) (b []byte, rest io.Reader, err error) {
	if limit < 0 {
		b, err = io.ReadAll(r)
		return b, nil, err
	}
	b, err = io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil || int64(len(b)) <= limit {
		return b, nil, err
	}
	return b, r, nil
}

func hostileInput(loc []any, input any) error {
	if s, ok := input.(string); ok { // echo it back only as valid, NUL-free text
		input = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
	}
	return errValidation(validationError{Type: "value_error", Loc: loc, Msg: msgHostileInput.detail, Input: input})
}

// hostileBodyLoc locates a NUL in a JSON body as the original's validation
// would: ["body", <top-level field or index>] of the first string or key
// holding one; ["body"] when it cannot tell (bytes that are not UTF-8, a lone
// surrogate, a body that is not JSON). Only a refused body is decoded here.
func hostileBodyLoc(b []byte) []any {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return []any{"body"}
	}
	hasNUL := func(x any) bool {
		found := false
		var walk func(any)
		walk = func(x any) {
			switch t := x.(type) {
			case string:
				found = found || strings.IndexByte(t, 0) >= 0
			case []any:
				for _, e := range t {
					walk(e)
				}
			case map[string]any:
				for k, e := range t {
					found = found || strings.IndexByte(k, 0) >= 0
					walk(e)
				}
			}
		}
		walk(x)
		return found
	}
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.IndexByte(k, 0) >= 0 {
				return []any{"body"}
			}
			if hasNUL(t[k]) {
				return []any{"body", k}
			}
		}
	case []any:
		for i, e := range t {
			if hasNUL(e) {
				return []any{"body", i}
			}
		}
	}
	return []any{"body"}
}

// cleanText: valid UTF-8 without NUL.
func cleanText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// cleanJSONEscapes reports whether b has no \u0000 escape and no \u escape of
// an unpaired surrogate. An escape is a backslash preceded by an even number
// of backslashes (`\\u0000` is the text "\u0000", which is fine).
func cleanJSONEscapes(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 >= len(b) {
			return true
		}
		if b[i+1] != 'u' {
			i++ // skip the escaped character (it may be a backslash)
			continue
		}
		r, ok := hex4(b, i+2)
		if !ok {
			return true // not JSON; the decoder refuses it
		}
		switch {
		case r == 0:
			return false
		case r >= 0xDC00 && r <= 0xDFFF: // a low surrogate without a high one
			return false
		case r >= 0xD800 && r <= 0xDBFF: // a high surrogate must be followed by \u<low>
			if i+11 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
				return false
			}
			lo, ok := hex4(b, i+8)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 11
		default:
			i += 5
		}
	}
	return true
}

// hex4 reads four hex digits at b[at:].
func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
