package api

import (
	"encoding/json"
	"fmt"
)

// The lax coercion's pure functions, for the table tests of lax_test.go.

func laxResult(v any, issue *laxIssue) (string, string) {
	if issue != nil {
		return "", issue.Type
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b), ""
}

// LaxInt, LaxFloat, LaxBool and LaxString coerce v (decoded with
// UseNumber): the result as JSON, or pydantic's error type.
func LaxInt(v any) (string, string)    { return laxResult(laxInt(v)) }
func LaxFloat(v any) (string, string)  { return laxResult(laxFloat(v)) }
func LaxBool(v any) (string, string)   { return laxResult(laxBool(v)) }
func LaxString(v any) (string, string) { return laxResult(laxString(v)) }

// LaxRequestBody is body as coerceBody rewrites it for the operation
// "METHOD /echo/:path".
func LaxRequestBody(route string, body []byte) ([]byte, error) {
	oa, err := loadedOpenAPI()
	if err != nil {
		return nil, err
	}
	r, ok := oa.routes[route]
	if !ok || r.Operation.RequestBody == nil {
		return nil, fmt.Errorf("no request body for %s", route)
	}
	return laxBody(r.Operation.RequestBody.Value.Content.Get("application/json").Schema, body), nil
}
