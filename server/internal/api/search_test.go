package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

type searchOut struct {
	Input struct {
		Query    *string `json:"query"`
		AuthorID *int64  `json:"author_id"`
	} `json:"input"`
	Books []struct {
		ID             string  `json:"id"`
		Type           string  `json:"type"`
		LeadingArticle *string `json:"leading_article"`
		Title          string  `json:"title"`
		Subtitle       *string `json:"subtitle"`
		Authors        []struct {
			ID        string  `json:"id"`
			FirstName *string `json:"first_name"`
			LastName  string  `json:"last_name"`
		} `json:"authors"`
	} `json:"books"`
}

func (s searchOut) ids() []string {
	out := []string{}
	for _, b := range s.Books {
		out = append(out, b.ID)
	}
	return out
}

// superStrings runs a superuser query returning one text column.
func (v *env) superStrings(sql string, args ...any) []string {
	v.t.Helper()
	rows, err := v.super.Query(context.Background(), sql, args...)
	if err != nil {
		v.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		v.t.Fatal(err)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

const dingoISBN = "9781743837856" // Dingo in the Dark, Sally Morgan (sample data)

// searchCast is the sample catalogue with school A holding 150 editions with
// 1–7 copies each (Dingo in the Dark among them, 7 copies) and school B 50
// others; work_collection_frequency refreshed.
type searchCast struct {
	v      *env
	a, b   school
	aISBNs []string
	bISBNs []string
}

func newSearchCast(t testing.TB) *searchCast {
	t.Helper()
	v := catalogueEnv(t)
	c := &searchCast{v: v, a: v.school("School A", "ACTIVE"), b: v.school("School B", "ACTIVE")}
	all := v.superStrings(`SELECT isbn FROM editions WHERE cover_url IS NOT NULL AND isbn <> $1 ORDER BY md5(isbn)`, dingoISBN)
	c.aISBNs = append([]string{dingoISBN}, all[:149]...)
	c.bISBNs = all[149:199]
	copies := make([]int, len(c.aISBNs))
	copies[0] = 7
	for i := 1; i < len(copies); i++ {
		copies[i] = i%7 + 1
	}
	v.schoolCollection(c.a, c.aISBNs, copies)
	v.schoolCollection(c.b, c.bISBNs, nil)
	return c
}

func TestSearch(t *testing.T) {
	t.Parallel()
	c := newSearchCast(t)
	v := c.v
	tok := v.userToken(v.user("Reader", "PUBLIC", nil))
	rc := newResponseChecker(t, v)
	search := func(q url.Values) searchOut {
		t.Helper()
		return decode[searchOut](t, rc.do(http.MethodGet, "/v1/search?"+q.Encode(), tok, nil, http.StatusOK))
	}
	dingoWork := fmt.Sprint(v.scalar(`SELECT work_id FROM editions WHERE isbn = $1`, dingoISBN))

	t.Run("title word, highlighted", func(t *testing.T) {
		got := search(url.Values{"query": {"dingo"}})
		if len(got.Books) == 0 || got.Books[0].ID != dingoWork {
			t.Fatalf("dingo: %+v", got.Books)
		}
		b := got.Books[0]
		if b.Title != "<b>Dingo</b> in the Dark" || b.Type != "book" || b.Subtitle == nil || *b.Subtitle != "" {
			t.Errorf("title %q type %q subtitle %v", b.Title, b.Type, b.Subtitle)
		}
		if len(b.Authors) != 1 || b.Authors[0].LastName != "Morgan" || *b.Authors[0].FirstName != "Sally" {
			t.Errorf("authors %+v", b.Authors)
		}
		if got.Input.Query == nil || *got.Input.Query != "dingo" || got.Input.AuthorID != nil {
			t.Errorf("input %+v", got.Input)
		}
	})

	t.Run("author name, highlighted", func(t *testing.T) {
		got := search(url.Values{"query": {"Sally Morgan"}})
		i := slices.Index(got.ids(), dingoWork)
		if i < 0 {
			t.Fatalf("Sally Morgan: %v", got.ids())
		}
		a := got.Books[i].Authors[0]
		if *a.FirstName != "<b>Sally</b>" || a.LastName != "<b>Morgan</b>" || got.Books[i].Title != "Dingo in the Dark" {
			t.Errorf("author %q %q title %q", *a.FirstName, a.LastName, got.Books[i].Title)
		}
	})

	t.Run("matches ranked by text rank times log10(1+copies)", func(t *testing.T) {
		// Every match is a work held by a collection; the order is the SQL's.
		want := v.superStrings(`
			SELECT sv.work_id::text FROM search_view_v1 sv JOIN work_collection_frequency cf ON cf.work_id = sv.work_id
			WHERE sv.document @@ websearch_to_tsquery('english', 'dark OR dog')
			ORDER BY ts_rank(sv.document, websearch_to_tsquery('english', 'dark OR dog')) * log(1 + cf.collection_frequency) DESC,
			         sv.work_id`)
		got := search(url.Values{"query": {"dark OR dog"}, "limit": {"1000"}})
		if len(want) < 3 || !slices.Equal(got.ids(), want) {
			t.Errorf("dark OR dog:\n got %v\nwant %v", got.ids(), want)
		}
		for _, b := range got.Books {
			plain := strings.NewReplacer("<b>", "", "</b>", "").Replace(b.Title)
			if strings.Contains(strings.ToLower(plain), "dark") && !strings.Contains(b.Title, "<b>") {
				t.Errorf("%s %q: no highlight", b.ID, b.Title)
			}
		}
	})

	t.Run("works in no collection are never found", func(t *testing.T) {
		title := v.superStrings(`SELECT w.title FROM works w WHERE NOT EXISTS (SELECT FROM work_collection_frequency f WHERE f.work_id = w.id)
			AND w.title ~ '^[A-Za-z]{6,}$' ORDER BY w.id LIMIT 1`)
		if len(title) == 0 {
			t.Fatal("no uncollected work with a one-word title")
		}
		got := search(url.Values{"query": {title[0]}})
		held := v.superStrings(`SELECT work_id::text FROM work_collection_frequency`)
		for _, id := range got.ids() {
			if !slices.Contains(held, id) {
				t.Errorf("%q found work %s, held by no collection", title[0], id)
			}
		}
	})

	t.Run("no query: most held first, paged", func(t *testing.T) {
		want := v.superStrings(`SELECT cf.work_id::text FROM work_collection_frequency cf
			WHERE EXISTS (SELECT FROM search_view_v1 sv WHERE sv.work_id = cf.work_id)
			ORDER BY cf.collection_frequency DESC, cf.work_id`)
		got := search(url.Values{"limit": {"1000"}})
		if len(want) < 150 || !slices.Equal(got.ids(), want) {
			t.Fatalf("all: got %d works, want %d (%v…)", len(got.Books), len(want), got.ids()[:min(5, len(got.Books))])
		}
		page2 := search(url.Values{"skip": {"5"}, "limit": {"5"}})
		if !slices.Equal(page2.ids(), want[5:10]) {
			t.Errorf("page 2: %v, want %v", page2.ids(), want[5:10])
		}
		if got.Input.Query != nil {
			t.Errorf("input %+v", got.Input)
		}
	})

	t.Run("author_id", func(t *testing.T) {
		author := v.superStrings(`SELECT a.id::text FROM authors a JOIN author_work_association awa ON awa.author_id = a.id
			JOIN work_collection_frequency f ON f.work_id = awa.work_id
			GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1`)[0]
		want := v.superStrings(`SELECT f.work_id::text FROM work_collection_frequency f
			JOIN author_work_association awa ON awa.work_id = f.work_id AND awa.author_id = $1::integer
			WHERE EXISTS (SELECT FROM search_view_v1 sv WHERE sv.work_id = f.work_id)
			ORDER BY f.collection_frequency DESC, f.work_id`, author)
		got := search(url.Values{"author_id": {author}})
		if len(want) < 2 || !slices.Equal(got.ids(), want) {
			t.Errorf("author %s: got %v want %v", author, got.ids(), want)
		}
		for _, b := range got.Books {
			if !slices.ContainsFunc(b.Authors, func(a struct {
				ID        string  `json:"id"`
				FirstName *string `json:"first_name"`
				LastName  string  `json:"last_name"`
			}) bool {
				return a.ID == author
			}) {
				t.Errorf("work %s lacks author %s", b.ID, author)
			}
		}
		n, _ := strconv.ParseInt(author, 10, 64)
		if got.Input.AuthorID == nil || *got.Input.AuthorID != n {
			t.Errorf("input %+v", got.Input)
		}
		// With a query too.
		got = search(url.Values{"author_id": {author}, "query": {"dingo"}})
		if author != "" && slices.Contains(got.ids(), dingoWork) && !slices.Contains(want, dingoWork) {
			t.Errorf("author filter ignored with a query: %v", got.ids())
		}
	})

	t.Run("errors", func(t *testing.T) {
		rc.do(http.MethodGet, "/v1/search?query=dingo", "", nil, http.StatusUnauthorized)
		rc.do(http.MethodGet, "/v1/search?author_id=x", tok, nil, http.StatusUnprocessableEntity)
		rc.do(http.MethodGet, "/v1/search?limit=-1", tok, nil, http.StatusUnprocessableEntity)
		// A service account searches too.
		rc.do(http.MethodGet, "/v1/search?query=dingo", v.saToken(v.serviceAccount("Kiosk", "KIOSK")), nil, http.StatusOK)
	})
}
