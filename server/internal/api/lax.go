package api

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// Lax input coercion, as the original's validation (pydantic v2, lax mode)
// does for a JSON body (issue 14): "10" where an integer is expected is 10,
// "true" or 1 where a boolean is expected is true, 10 where a string is
// expected is "10". The request body is rewritten once, after
// authentication and before the route's guards, the OpenAPI validation and
// the handler, by walking it alongside the operation's request-body schema
// in the embedded document; every later reader sees the coerced body, so
// no layer refuses what the original accepted ("no double refusal"). A
// value that cannot be coerced is left as sent: the validation refuses it
// with the entry pydantic gives (laxIssueFor). Free-form parts of a body
// (an object schema without properties, a field without a type) are never
// rewritten.
//
// The conversions are pydantic-core's for JSON input (input_json.rs,
// shared.rs: lax_int, lax_float, lax_bool, str_as_int, str_as_float,
// str_as_bool, float_as_int), plus numbers to strings for string fields
// (the original's models coerced them; pydantic's coerce_numbers_to_str).

// laxIssue is pydantic's refusal of a value: its error type and message.
type laxIssue struct{ Type, Msg string }

var (
	issueIntType      = &laxIssue{"int_type", "Input should be a valid integer"}
	issueIntParsing   = &laxIssue{"int_parsing", "Input should be a valid integer, unable to parse string as an integer"}
	issueIntFromFloat = &laxIssue{"int_from_float", "Input should be a valid integer, got a number with a fractional part"}
	issueIntSize      = &laxIssue{"int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size"}
	issueFinite       = &laxIssue{"finite_number", "Input should be a finite number"}
	issueFloatType    = &laxIssue{"float_type", "Input should be a valid number"}
	issueFloatParsing = &laxIssue{"float_parsing", "Input should be a valid number, unable to parse string as a number"}
	issueBoolType     = &laxIssue{"bool_type", "Input should be a valid boolean"}
	issueBoolParsing  = &laxIssue{"bool_parsing", "Input should be a valid boolean, unable to interpret input"}
	issueStringType   = &laxIssue{"string_type", "Input should be a valid string"}
)

// asNumber is a JSON number as its text: json.Number as decoded with
// UseNumber, or float64 as decoded without it.
func asNumber(v any) (json.Number, bool) {
	switch n := v.(type) {
	case json.Number:
		return n, true
	case float64:
		if math.IsInf(n, 0) || math.IsNaN(n) {
			return "", false
		}
		return json.Number(strconv.FormatFloat(n, 'g', -1, 64)), true
	case int:
		return json.Number(strconv.Itoa(n)), true
	case int64:
		return json.Number(strconv.FormatInt(n, 10)), true
	}
	return "", false
}

// isIntLiteral: JSON number text without a fraction or an exponent.
func isIntLiteral(n json.Number) bool { return !strings.ContainsAny(string(n), ".eE") }

// laxInt coerces v to an integer (a json.Number of digits): an integer; a
// number with no fractional part (10.0); a boolean (1, 0); a string of an
// integer (see strAsInt).
func laxInt(v any) (json.Number, *laxIssue) {
	if b, ok := v.(bool); ok {
		if b {
			return "1", nil
		}
		return "0", nil
	}
	if n, ok := asNumber(v); ok {
		if isIntLiteral(n) {
			return n, nil
		}
		return floatAsInt(n)
	}
	if s, ok := v.(string); ok {
		return strAsInt(s)
	}
	return "", issueIntType
}

// floatAsInt is pydantic's float_as_int: exact integers within 64 bits.
func floatAsInt(n json.Number) (json.Number, *laxIssue) {
	f, err := strconv.ParseFloat(string(n), 64)
	switch {
	case err != nil || math.IsInf(f, 0) || math.IsNaN(f):
		return "", issueFinite
	case f != math.Trunc(f):
		return "", issueIntFromFloat
	case f <= math.MinInt64 || f >= math.MaxInt64:
		return "", issueIntSize
	}
	return json.Number(strconv.FormatInt(int64(f), 10)), nil
}

// strAsInt is pydantic's str_as_int: surrounding whitespace, a leading "+",
// leading zeros, a ".0…" fraction and underscores between digits are
// accepted ("  +1_000.00 " is 1000); anything else is int_parsing. Digits
// past 64 bits stay exact (the range checks refuse them later, as they do
// a number).
func strAsInt(s string) (json.Number, *laxIssue) {
	if len(s) > 4300 {
		return "", issueIntSize
	}
	t := strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(t, "+"); ok {
		if strings.HasPrefix(rest, "-") {
			return "", issueIntParsing
		}
		t = rest
	}
	neg := false
	if rest, ok := strings.CutPrefix(t, "-"); ok {
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return "", issueIntParsing
		}
		t, neg = rest, true
	}
	if i := strings.IndexByte(t, '.'); i >= 0 {
		if frac := t[i+1:]; frac != "" && strings.Trim(frac, "0") == "" {
			t = t[:i]
		}
	}
	if strings.Contains(t, "_") {
		if strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.Contains(t, "__") {
			return "", issueIntParsing
		}
		t = strings.ReplaceAll(t, "_", "")
	}
	if t == "" {
		return "", issueIntParsing
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return "", issueIntParsing
		}
	}
	var n big.Int
	if _, ok := n.SetString(t, 10); !ok {
		return "", issueIntParsing
	}
	if neg {
		n.Neg(&n)
	}
	return json.Number(n.String()), nil
}

// laxFloat coerces v to a number: a number; a boolean (1, 0); a string of
// a finite number ("1.5", " 1e3 ", "1_000.5"). "inf" and "nan", which
// pydantic accepts, cannot be carried in JSON and are finite_number.
func laxFloat(v any) (json.Number, *laxIssue) {
	if b, ok := v.(bool); ok {
		if b {
			return "1", nil
		}
		return "0", nil
	}
	if n, ok := asNumber(v); ok {
		return n, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", issueFloatType
	}
	t := strings.TrimSpace(s)
	if strings.Contains(t, "_") {
		if strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.Contains(t, "__") {
			return "", issueFloatParsing
		}
		t = strings.ReplaceAll(t, "_", "")
	}
	low := strings.ToLower(strings.TrimLeft(t, "+-"))
	if strings.HasPrefix(low, "0x") || low == "" { // Go's hex floats are not Python's
		return "", issueFloatParsing
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !math.IsInf(f, 0) {
		return "", issueFloatParsing
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "", issueFinite
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
}

// laxBool coerces v to a boolean: a boolean; 0 or 1 (also 0.0, 1.0); one of
// pydantic's strings, case-insensitive: true/false, t/f, yes/no, y/n,
// on/off, 1/0.
func laxBool(v any) (bool, *laxIssue) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		switch strings.ToLower(t) {
		case "0", "f", "n", "no", "off", "false":
			return false, nil
		case "1", "t", "y", "on", "yes", "true":
			return true, nil
		}
		return false, issueBoolParsing
	}
	n, ok := asNumber(v)
	if !ok {
		return false, issueBoolType
	}
	if !isIntLiteral(n) {
		i, issue := floatAsInt(n)
		if issue != nil {
			return false, issueBoolType
		}
		n = i
	}
	switch i, err := strconv.ParseInt(string(n), 10, 64); {
	case err != nil:
		return false, issueBoolType
	case i == 0:
		return false, nil
	case i == 1:
		return true, nil
	}
	return false, issueBoolParsing
}

// laxString coerces v to a string: a string; a number, written as pydantic
// writes it (an integer's digits; a float's shortest decimal, 1.50 → "1.5",
// 1e3 → "1000"). A boolean, a list or an object is string_type.
func laxString(v any) (string, *laxIssue) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	n, ok := asNumber(v)
	if !ok {
		return "", issueStringType
	}
	if isIntLiteral(n) {
		var i big.Int
		if _, ok := i.SetString(string(n), 10); ok {
			return i.String(), nil
		}
		return string(n), nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return "", issueStringType
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

// laxIssueFor is pydantic's refusal of input where a value of the OpenAPI
// type typ is expected (nil when lax mode would accept it).
func laxIssueFor(typ string, input any) *laxIssue {
	var issue *laxIssue
	switch typ {
	case openapi3.TypeInteger:
		_, issue = laxInt(input)
	case openapi3.TypeNumber:
		_, issue = laxFloat(input)
	case openapi3.TypeBoolean:
		_, issue = laxBool(input)
	case openapi3.TypeString:
		_, issue = laxString(input)
	}
	return issue
}

// ---------------------------------------------------------------------------
// The schema walk.

// laxCoerce rewrites the leaves of v that schema types as integer, number,
// boolean or string, where lax mode converts them; changed reports whether
// anything was rewritten. v is decoded with UseNumber.
func laxCoerce(schema *openapi3.SchemaRef, v any) (out any, changed bool) {
	if schema == nil {
		return v, false
	}
	w := laxWalker{}
	out = w.walk(schema.Value, v, 0)
	return out, w.changed
}

type laxWalker struct{ changed bool }

// maxLaxDepth bounds the walk (a recursive schema such as UserCreateIn's
// children, a deeply nested body).
const maxLaxDepth = 64

func (w *laxWalker) walk(s *openapi3.Schema, v any, depth int) any {
	if s == nil || v == nil || depth > maxLaxDepth {
		return v
	}
	parts := flattenAllOf(s, nil, 0)
	alts := alternatives(parts)
	switch t := v.(type) {
	case map[string]any:
		for _, p := range append(parts, alts...) {
			if !admitsKind(p, openapi3.TypeObject) {
				continue
			}
			if len(p.Properties) == 0 && (p.AdditionalProperties.Schema == nil) {
				continue
			}
			for k, x := range t {
				if child := propertySchema(parts, alts, k); child != nil {
					t[k] = w.walk(child, x, depth+1)
				}
			}
			break
		}
		return t
	case []any:
		for _, p := range append(parts, alts...) {
			if p.Items != nil && p.Items.Value != nil && admitsKind(p, openapi3.TypeArray) {
				for i, x := range t {
					t[i] = w.walk(p.Items.Value, x, depth+1)
				}
				break
			}
		}
		return t
	}
	types := scalarTypes(parts)
	if len(types) == 0 {
		for _, a := range alts {
			types = append(types, scalarTypes(flattenAllOf(a, nil, 0))...)
		}
	}
	if len(types) == 0 {
		return v // free-form: kept as sent
	}
	for _, typ := range types {
		if matchesType(typ, v) {
			return v
		}
	}
	format := ""
	for _, p := range parts {
		if p.Format != "" {
			format = p.Format
			break
		}
	}
	for _, typ := range types {
		if out, ok := coerceTo(typ, format, v); ok {
			w.changed = true
			return out
		}
	}
	return v
}

// flattenAllOf is s and its allOf members, recursively.
func flattenAllOf(s *openapi3.Schema, out []*openapi3.Schema, depth int) []*openapi3.Schema {
	if s == nil || depth > maxLaxDepth {
		return out
	}
	out = append(out, s)
	for _, r := range s.AllOf {
		if r != nil {
			out = flattenAllOf(r.Value, out, depth+1)
		}
	}
	return out
}

// alternatives are the anyOf and oneOf members of parts, allOf flattened.
func alternatives(parts []*openapi3.Schema) []*openapi3.Schema {
	var out []*openapi3.Schema
	for _, p := range parts {
		for _, r := range append(append([]*openapi3.SchemaRef(nil), p.AnyOf...), p.OneOf...) {
			if r != nil {
				out = flattenAllOf(r.Value, out, 0)
			}
		}
	}
	return out
}

// admitsKind: s declares kind, or declares no type but describes one
// (properties for an object, items for an array).
func admitsKind(s *openapi3.Schema, kind string) bool {
	if s.Type != nil && len(s.Type.Slice()) > 0 {
		return s.Type.Is(kind)
	}
	switch kind {
	case openapi3.TypeObject:
		return len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil
	case openapi3.TypeArray:
		return s.Items != nil
	}
	return false
}

// propertySchema is the schema of an object's property k: declared in one
// of the parts (then the alternatives), else their additionalProperties.
func propertySchema(parts, alts []*openapi3.Schema, k string) *openapi3.Schema {
	for _, group := range [][]*openapi3.Schema{parts, alts} {
		for _, p := range group {
			if r := p.Properties[k]; r != nil && r.Value != nil {
				return r.Value
			}
		}
		for _, p := range group {
			if r := p.AdditionalProperties.Schema; r != nil && r.Value != nil {
				return r.Value
			}
		}
	}
	return nil
}

// scalarTypes are the scalar types the parts declare, in order.
func scalarTypes(parts []*openapi3.Schema) []string {
	var out []string
	for _, p := range parts {
		if p.Type == nil {
			continue
		}
		for _, t := range p.Type.Slice() {
			switch t {
			case openapi3.TypeInteger, openapi3.TypeNumber, openapi3.TypeBoolean, openapi3.TypeString:
				out = append(out, t)
			}
		}
	}
	return out
}

// matchesType: v is already what typ asks for. An integer wants an integer
// literal (10.0 is rewritten to 10: the handlers decode Go integers).
func matchesType(typ string, v any) bool {
	switch typ {
	case openapi3.TypeString:
		_, ok := v.(string)
		return ok
	case openapi3.TypeBoolean:
		_, ok := v.(bool)
		return ok
	case openapi3.TypeNumber:
		_, ok := v.(json.Number)
		return ok
	case openapi3.TypeInteger:
		n, ok := v.(json.Number)
		return ok && isIntLiteral(n)
	}
	return false
}

// coerceTo converts v to typ, if lax mode does. A number is not written as
// a string where the string is a UUID (pydantic's UUID takes only strings).
func coerceTo(typ, format string, v any) (any, bool) {
	switch typ {
	case openapi3.TypeInteger:
		n, issue := laxInt(v)
		return n, issue == nil
	case openapi3.TypeNumber:
		n, issue := laxFloat(v)
		return n, issue == nil
	case openapi3.TypeBoolean:
		b, issue := laxBool(v)
		return b, issue == nil
	case openapi3.TypeString:
		if format == "uuid" {
			return nil, false
		}
		s, issue := laxString(v)
		return s, issue == nil
	}
	return nil, false
}

// laxBody coerces a JSON body against schema: the rewritten body, or b
// itself when nothing changed (or b is not JSON: the validation refuses it).
func laxBody(schema *openapi3.SchemaRef, b []byte) []byte {
	if schema == nil || len(bytes.TrimSpace(b)) == 0 {
		return b
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return b
	}
	out, changed := laxCoerce(schema, v)
	if !changed {
		return b
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return b
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// bufferedBody is a request body read whole by rejectHostileInput.
type bufferedBody struct {
	*bytes.Reader
	b []byte
}

func (*bufferedBody) Close() error { return nil }

func newBufferedBody(b []byte) *bufferedBody { return &bufferedBody{Reader: bytes.NewReader(b), b: b} }

// coerceBody rewrites c's request body by lax coercion against its
// operation's request-body schema. It runs in the authentication step, once
// the caller is known (a stranger's body is not decoded), and only on a
// body rejectHostileInput read whole (an anonymous body over its scan
// limit is left as sent). Nothing is answered here: a body that is not
// JSON, or a route without a document entry, is left to the validation.
func coerceBody(c echo.Context) {
	r := c.Request()
	bb, ok := r.Body.(*bufferedBody)
	if !ok || bb.Len() != len(bb.b) || len(bb.b) == 0 {
		return
	}
	oa, err := loadedOpenAPI()
	if err != nil || c.Path() == "" {
		return
	}
	route, ok := oa.routes[r.Method+" "+c.Path()]
	if !ok || route.Operation == nil || route.Operation.RequestBody == nil || route.Operation.RequestBody.Value == nil {
		return
	}
	mt := route.Operation.RequestBody.Value.Content.Get(echo.MIMEApplicationJSON)
	if mt == nil || mt.Schema == nil {
		return
	}
	out := laxBody(mt.Schema, bb.b)
	if len(out) == len(bb.b) && bytes.Equal(out, bb.b) {
		return
	}
	r.Body = newBufferedBody(out)
	r.ContentLength = int64(len(out))
	if r.Header.Get(echo.HeaderContentLength) != "" {
		r.Header.Set(echo.HeaderContentLength, strconv.Itoa(len(out)))
	}
}
