package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestLaxCoercion_HTTP: bodies the original accepted by coercion are
// accepted end to end (no refusal by the document's validation nor by the
// handler) and stored coerced; what lax mode refuses is still a 422 with
// pydantic's entry; the 32-bit range checks apply after coercion.
func TestLaxCoercion_HTTP(t *testing.T) {
	t.Parallel()
	c := newCast(t)

	t.Run("a child's age as a string", func(t *testing.T) {
		rec := c.v.do(http.MethodPost, "/v1/user", c.tokens["admin"], `{"type": "parent", "name": "Pat Lax",
			"email": "pat.lax@example.org", "newsletter": "true",
			"children": [{"name": "Kid Lax", "huey_attributes": {"age": "10", "goals": [5]}}]}`)
		wantStatus(t, rec, http.StatusOK)
		got := decode[map[string]any](t, rec)
		if got["newsletter"] != true {
			t.Errorf("newsletter %v, want true", got["newsletter"])
		}
		var age, typ, goals string
		if err := c.v.super.QueryRow(t.Context(), `SELECT r.huey_attributes->>'age', jsonb_typeof(r.huey_attributes->'age'),
			(r.huey_attributes->'goals')::text FROM readers r JOIN users u ON u.id = r.id WHERE u.name = 'Kid Lax'`).Scan(&age, &typ, &goals); err != nil {
			t.Fatal(err)
		}
		if age != "10" || typ != "number" || goals != `["5"]` {
			t.Errorf("stored age %s (%s), goals %s; want the number 10 and [\"5\"]", age, typ, goals)
		}
	})

	t.Run("LMS copies as strings", func(t *testing.T) {
		coll := c.v.collection(&c.a, nil, "A lax books")
		item := c.v.item(coll, "9780141321288", 1, 1, `{"title": "Keep"}`)
		rec := c.v.do(http.MethodPatch, "/v1/collection/"+coll.String(), c.tokens["lms linked A"],
			fmt.Sprintf(`{"items": [{"action": "update", "id": "%d", "copies_total": "3", "copies_available": 2.0},
				{"action": "add", "edition_isbn": 9780747532699, "copies_total": " 4 ", "copies_available": "+1"}]}`, item))
		wantStatus(t, rec, http.StatusOK)
		for isbn, want := range map[string]string{"9780141321288": "3/2", "9780747532699": "4/1"} {
			if got := c.v.scalar(`SELECT copies_total || '/' || copies_available FROM collection_items
				WHERE collection_id = $1 AND edition_isbn = $2`, coll, isbn); got != want {
				t.Errorf("%s: copies %v, want %s", isbn, got, want)
			}
		}
	})

	t.Run("booklist work_id as a string", func(t *testing.T) {
		w := blWork(t, c.v, "Lax Work")
		rec := c.v.do(http.MethodPost, "/v1/list", c.tokens["educator A"],
			fmt.Sprintf(`{"name": "Lax list", "type": "PERSONAL", "items": [{"work_id": "%d", "order_id": "0"}]}`, w))
		wantStatus(t, rec, http.StatusOK)
		if n := c.v.scalar(`SELECT count(*) FROM book_list_works b JOIN book_lists l ON l.id = b.booklist_id
			WHERE l.name = 'Lax list' AND b.work_id = $1`, w).(int64); n != 1 {
			t.Errorf("%d list items for work %d, want 1", n, w)
		}
	})

	t.Run("a boolean as a string, a string as a number", func(t *testing.T) {
		id := c.ids["public reader"]
		rec := c.v.do(http.MethodPatch, "/v1/user/"+id.String(), c.tokens["public reader"],
			`{"newsletter": "yes", "first_name": 42, "huey_attributes": {"age": "9.0"}}`)
		wantStatus(t, rec, http.StatusOK)
		got := decode[map[string]any](t, rec)
		if got["newsletter"] != true || got["first_name"] != "42" || got["huey_attributes"].(map[string]any)["age"] != 9.0 {
			t.Errorf("newsletter %v, first_name %v, huey_attributes %v", got["newsletter"], got["first_name"], got["huey_attributes"])
		}
		rec = c.v.do(http.MethodPost, "/v1/school/"+c.a.WID.String()+"/class", c.tokens["schooladmin A"], `{"name": 7}`)
		wantStatus(t, rec, http.StatusOK)
		if got := decode[map[string]any](t, rec)["name"]; got != "7" {
			t.Errorf("class name %v, want \"7\"", got)
		}
	})

	t.Run("refusals keep pydantic's entries", func(t *testing.T) {
		coll := c.v.collection(&c.a, nil, "A refused")
		patch := "/v1/collection/" + coll.String()
		for _, tc := range []struct {
			name, method, path, who, body string
			typ                           string
			loc                           []any
			input                         any
		}{
			{"ten", http.MethodPatch, patch, "lms linked A",
				`{"items": [{"action": "add", "edition_isbn": "9780141321288", "copies_total": "ten"}]}`,
				"int_parsing", []any{"body", "items", 0.0, "copies_total"}, "ten"},
			{"fraction", http.MethodPatch, patch, "lms linked A",
				`{"items": [{"action": "add", "edition_isbn": "9780141321288", "copies_total": 10.5}]}`,
				"int_from_float", []any{"body", "items", 0.0, "copies_total"}, 10.5},
			{"list", http.MethodPatch, patch, "lms linked A",
				`{"items": [{"action": "add", "edition_isbn": "9780141321288", "copies_total": [1]}]}`,
				"int_type", []any{"body", "items", 0.0, "copies_total"}, nil},
			{"age", http.MethodPost, "/v1/user", "admin",
				`{"name": "Kid Refused", "huey_attributes": {"age": "ten"}}`,
				"int_parsing", []any{"body", "huey_attributes", "age"}, "ten"},
			{"maybe", http.MethodPost, "/v1/user", "admin", `{"name": "Kid Maybe", "newsletter": "maybe"}`,
				"bool_parsing", []any{"body", "newsletter"}, "maybe"},
			{"two", http.MethodPost, "/v1/user", "admin", `{"name": "Kid Two", "newsletter": 2}`,
				"bool_parsing", []any{"body", "newsletter"}, 2.0},
			{"bool for a string", http.MethodPost, "/v1/user", "admin", `{"name": true}`,
				"string_type", []any{"body", "name"}, true},
			{"recommend age", http.MethodPost, "/v1/recommend", "educator A", `{"age": "8.5"}`,
				"int_parsing", []any{"body", "age"}, "8.5"},
		} {
			rec := c.v.do(tc.method, tc.path, c.tokens[tc.who], tc.body)
			entries := detailOf(t, rec)
			if !hasEntry(entries, tc.typ, tc.loc, tc.input) {
				t.Errorf("%s: no {%s %v %v} in %s", tc.name, tc.typ, tc.loc, tc.input, rec.Body)
			}
			for _, e := range entries {
				if reflect.DeepEqual(e["loc"], tc.loc) && e["type"] == tc.typ && !strings.HasPrefix(e["msg"].(string), "Input should be a valid") {
					t.Errorf("%s: message %q", tc.name, e["msg"])
				}
			}
		}
		if n := c.v.scalar(`SELECT count(*) FROM collection_items WHERE collection_id = $1`, coll).(int64); n != 0 {
			t.Errorf("%d items stored by refused requests", n)
		}
	})

	t.Run("32-bit range checks after coercion", func(t *testing.T) {
		coll := c.v.collection(&c.a, nil, "A ranged")
		for _, v := range []string{`2147483648`, `"2147483648"`, `" 2147483648 "`, `"2_147_483_648"`, `2147483648.0`} {
			for _, tc := range []struct{ method, path, who, body string }{
				{http.MethodPatch, "/v1/collection/" + coll.String(), "schooladmin A", `{"items":[{"action":"add","edition_isbn":"9780306406157","copies_total":` + v + `}]}`},
				{http.MethodPut, "/v1/collection/" + coll.String() + "/items", "schooladmin A", `[{"edition_isbn":"9780306406157","copies_total":` + v + `}]`},
				{http.MethodPost, "/v1/list", "educator A", `{"name":"L2","type":"PERSONAL","items":[{"work_id":` + v + `}]}`},
				{http.MethodPost, "/v1/recommend", "educator A", `{"age":` + v + `}`},
			} {
				if rec := c.v.do(tc.method, tc.path, c.tokens[tc.who], tc.body); rec.Code != http.StatusUnprocessableEntity {
					t.Errorf("%s %s %s: %d, want 422: %.300s", tc.method, tc.path, v, rec.Code, rec.Body)
				}
			}
		}
		if n := c.v.scalar(`SELECT count(*) FROM collection_items WHERE collection_id = $1`, coll).(int64); n != 0 {
			t.Errorf("%d items stored", n)
		}
	})
}
