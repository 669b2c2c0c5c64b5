package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/wriveted/huey-api/schema/demo"
)

// Issue 14: the demo data `make run` seeds works for every kind of account
// through the real API — each demo account's token signs in, the LMS account
// reads the demo collection, the student signs in with the class join code,
// and search finds the collection's books at once. A second seed changes
// nothing.
func TestDemoSeedServesEveryAccountKind(t *testing.T) {
	t.Parallel()
	v := catalogueEnv(t)
	ctx := context.Background()
	r, err := demo.Seed(ctx, v.db.SuperuserURL())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Created || r.BookCount < 200 {
		t.Fatalf("seed: %+v, want a new demo with a few hundred books", r)
	}
	for _, a := range demo.Accounts {
		if a.ServiceAccount {
			wantStatus(t, v.do(http.MethodGet, "/v1/collection/"+demo.CollectionID.String(), v.saToken(a.ID), nil), http.StatusOK)
			continue
		}
		rec := v.do(http.MethodGet, "/v1/auth/me", v.userToken(a.ID), nil)
		wantStatus(t, rec, http.StatusOK)
		if got := decode[map[string]any](t, rec); got["user"] == nil {
			t.Fatalf("%s: /auth/me %v", a.Label, got)
		}
	}
	wantStatus(t, v.do(http.MethodGet, "/v1/school/"+demo.SchoolWID.String(), v.userToken(demo.SchoolAdminID), nil), http.StatusOK)
	rec := v.do(http.MethodPost, "/v1/auth/class-code", "", map[string]any{"username": demo.StudentUsername, "class_joining_code": demo.JoinCode})
	wantStatus(t, rec, http.StatusOK)
	title := v.scalar(`SELECT w.title FROM collection_items ci JOIN editions e ON e.isbn = ci.edition_isbn
		JOIN works w ON w.id = e.work_id WHERE ci.collection_id = $1 ORDER BY ci.id LIMIT 1`, demo.CollectionID).(string)
	rec = v.do(http.MethodGet, "/v1/search?"+url.Values{"query": {title}}.Encode(), v.userToken(demo.ReaderID), nil)
	wantStatus(t, rec, http.StatusOK)
	if got, _ := decode[map[string]any](t, rec)["books"].([]any); len(got) == 0 {
		t.Fatalf("search on the demo finds nothing for %q", title)
	}
	again, err := demo.Seed(ctx, v.db.SuperuserURL())
	if err != nil || again.Created || again.BookCount != r.BookCount {
		t.Fatalf("second seed: %+v %v", again, err)
	}
}
