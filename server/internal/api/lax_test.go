package api_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/wriveted/huey-api/server/internal/api"
)

// Lax input coercion (issue 14): pydantic v2's lax-mode conversions of a
// JSON body, as the original applied them. The unit tables run the pure
// coercers on JSON values (decoded with UseNumber, as the body is); the
// HTTP cases are in lax_http_test.go.

type laxCase struct {
	in   string // a JSON value
	want string // the coerced value as JSON, or "" when refused
	err  string // pydantic's error type when refused
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("test input %s: %v", s, err)
	}
	return v
}

func runLax(t *testing.T, f func(any) (string, string), cases []laxCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, errType := f(jsonValue(t, tc.in))
			if got != tc.want || errType != tc.err {
				t.Errorf("%s: got (%s, %q), want (%s, %q)", tc.in, got, errType, tc.want, tc.err)
			}
		})
	}
}

func TestLaxCoercion_Int(t *testing.T) {
	runLax(t, api.LaxInt, []laxCase{
		{`10`, `10`, ""},
		{`-3`, `-3`, ""},
		{`"10"`, `10`, ""},
		{`" 10 "`, `10`, ""},
		{`"\t10\n"`, `10`, ""},
		{`"+10"`, `10`, ""},
		{`"-3"`, `-3`, ""},
		{`"007"`, `7`, ""},
		{`"-007"`, `-7`, ""},
		{`"10.0"`, `10`, ""},
		{`"10.000"`, `10`, ""},
		{`"1_000"`, `1000`, ""},
		{`"2147483648"`, `2147483648`, ""}, // the range checks refuse it later, as the number
		{`"99999999999999999999"`, `99999999999999999999`, ""},
		{`10.0`, `10`, ""},
		{`1e3`, `1000`, ""},
		{`true`, `1`, ""},
		{`false`, `0`, ""},
		{`"ten"`, ``, "int_parsing"},
		{`""`, ``, "int_parsing"},
		{`" "`, ``, "int_parsing"},
		{`"10."`, ``, "int_parsing"},
		{`"10.5"`, ``, "int_parsing"},
		{`"1e3"`, ``, "int_parsing"},
		{`"0x10"`, ``, "int_parsing"},
		{`"_1"`, ``, "int_parsing"},
		{`"1_"`, ``, "int_parsing"},
		{`"1__0"`, ``, "int_parsing"},
		{`"+-1"`, ``, "int_parsing"},
		{`"--1"`, ``, "int_parsing"},
		{`"-+1"`, ``, "int_parsing"},
		{`"true"`, ``, "int_parsing"},
		{`10.5`, ``, "int_from_float"},
		{`-0.1`, ``, "int_from_float"},
		{`1e300`, ``, "int_parsing_size"},
		{`[]`, ``, "int_type"},
		{`{}`, ``, "int_type"},
		{`[10]`, ``, "int_type"},
	})
}

func TestLaxCoercion_Float(t *testing.T) {
	runLax(t, api.LaxFloat, []laxCase{
		{`1.5`, `1.5`, ""},
		{`3`, `3`, ""},
		{`"1.5"`, `1.5`, ""},
		{`" 2.5 "`, `2.5`, ""},
		{`"-2"`, `-2`, ""},
		{`"+.5"`, `0.5`, ""},
		{`"1e3"`, `1000`, ""},
		{`"1_000.5"`, `1000.5`, ""},
		{`true`, `1`, ""},
		{`false`, `0`, ""},
		{`"abc"`, ``, "float_parsing"},
		{`""`, ``, "float_parsing"},
		{`"1,5"`, ``, "float_parsing"},
		{`"0x1p3"`, ``, "float_parsing"},
		{`"inf"`, ``, "finite_number"},
		{`"nan"`, ``, "finite_number"},
		{`"1e999"`, ``, "finite_number"},
		{`[]`, ``, "float_type"},
		{`{}`, ``, "float_type"},
	})
}

func TestLaxCoercion_Bool(t *testing.T) {
	cases := []laxCase{
		{`true`, `true`, ""},
		{`false`, `false`, ""},
		{`1`, `true`, ""},
		{`0`, `false`, ""},
		{`1.0`, `true`, ""},
		{`0.0`, `false`, ""},
		{`2`, ``, "bool_parsing"},
		{`-1`, ``, "bool_parsing"},
		{`0.5`, ``, "bool_type"},
		{`""`, ``, "bool_parsing"},
		{`"maybe"`, ``, "bool_parsing"},
		{`" true"`, ``, "bool_parsing"},
		{`"2"`, ``, "bool_parsing"},
		{`[]`, ``, "bool_type"},
		{`{}`, ``, "bool_type"},
	}
	for _, s := range []string{"true", "True", "TRUE", "t", "T", "yes", "Yes", "y", "on", "ON", "1"} {
		cases = append(cases, laxCase{`"` + s + `"`, `true`, ""})
	}
	for _, s := range []string{"false", "False", "FALSE", "f", "F", "no", "NO", "n", "off", "Off", "0"} {
		cases = append(cases, laxCase{`"` + s + `"`, `false`, ""})
	}
	runLax(t, api.LaxBool, cases)
}

func TestLaxCoercion_Str(t *testing.T) {
	runLax(t, api.LaxString, []laxCase{
		{`"x"`, `"x"`, ""},
		{`""`, `""`, ""},
		{`" 10 "`, `" 10 "`, ""}, // kept as sent (no stripping)
		{`10`, `"10"`, ""},
		{`-3`, `"-3"`, ""},
		{`9780000000001`, `"9780000000001"`, ""},
		{`99999999999999999999`, `"99999999999999999999"`, ""},
		{`1.5`, `"1.5"`, ""},
		{`1.50`, `"1.5"`, ""},
		{`10.0`, `"10"`, ""},
		{`1e3`, `"1000"`, ""},
		{`true`, ``, "string_type"},
		{`false`, ``, "string_type"},
		{`[]`, ``, "string_type"},
		{`{}`, ``, "string_type"},
	})
}

// TestLaxCoercion_Nested runs the schema walk on whole bodies of real
// operations: nested objects, arrays, $ref, allOf, oneOf and nullable are
// followed; free-form fields (info) and UUIDs are left as sent.
func TestLaxCoercion_Nested(t *testing.T) {
	cases := []struct {
		name, route, in, want string
	}{
		{"user with a child", "POST /v1/user",
			`{"name":"P","type":"parent","newsletter":"yes","info":{"n":"10"},"children":[{"name":"K","type":"public","huey_attributes":{"age":"10","goals":[5],"hues":null}}]}`,
			`{"children":[{"huey_attributes":{"age":10,"goals":["5"],"hues":null},"name":"K","type":"public"}],"info":{"n":"10"},"name":"P","newsletter":true,"type":"parent"}`},
		{"user patch", "PATCH /v1/user/:user_id",
			`{"is_active":"false","newsletter":0,"huey_attributes":{"age":"9.0"},"school_id":"12"}`,
			`{"huey_attributes":{"age":9},"is_active":false,"newsletter":false,"school_id":"12"}`},
		{"collection items", "PATCH /v1/collection/:collection_id",
			`{"name":7,"items":[{"action":"update","id":"7","copies_total":"3","copies_available":2.0,"edition_isbn":9780000000001,"info":{"k":"1"}}]}`,
			`{"items":[{"action":"update","copies_available":2,"copies_total":3,"edition_isbn":"9780000000001","id":7,"info":{"k":"1"}}],"name":"7"}`},
		{"collection batch", "PUT /v1/collection/:collection_id/items",
			`[{"edition_isbn":"9780000000001","copies_total":"3"},{"copies_total":" 4 "}]`,
			`[{"copies_total":3,"edition_isbn":"9780000000001"},{"copies_total":4}]`},
		{"booklist items", "POST /v1/list",
			`{"name":"L","type":"Personal","school_id":5,"items":[{"work_id":"1","order_id":"+2"}]}`,
			`{"items":[{"order_id":2,"work_id":1}],"name":"L","school_id":5,"type":"Personal"}`},
		{"work authors (oneOf)", "POST /v1/work",
			`{"title":"T","authors":["5",{"last_name":9}],"editions":[9780000000001]}`,
			`{"authors":[5,{"last_name":"9"}],"editions":["9780000000001"],"title":"T"}`},
		{"labelset (nullable $ref)", "PATCH /v1/labelsets",
			`[{"isbn":"1","huey_pick":"true","patch_data":{"min_age":"5","checked":"1"}}]`,
			`[{"huey_pick":true,"isbn":"1","patch_data":{"checked":true,"min_age":5}}]`},
		{"recommend filter", "POST /v1/recommend",
			`{"age":"8","recommendable_only":"on","fallback":"off","hues":["hue01_dark_suspense"]}`,
			`{"age":8,"fallback":false,"hues":["hue01_dark_suspense"],"recommendable_only":true}`},
		{"uuid not written from a number", "POST /v1/events",
			`{"title":"t","level":"normal","school_id":5,"info":{"n":"1"}}`,
			`{"title":"t","level":"normal","school_id":5,"info":{"n":"1"}}`},
		{"refused values kept as sent", "PATCH /v1/collection/:collection_id",
			`{"items":[{"copies_total":"ten","copies_available":10.5}]}`,
			`{"items":[{"copies_total":"ten","copies_available":10.5}]}`},
		{"nothing to coerce: bytes untouched", "POST /v1/list",
			`{ "name" : "L",  "type":"Personal", "info": {"b":1, "a":2} }`,
			`{ "name" : "L",  "type":"Personal", "info": {"b":1, "a":2} }`},
		{"not JSON: left to the validation", "POST /v1/list", `{"name":`, `{"name":`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := api.LaxRequestBody(tc.route, []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
