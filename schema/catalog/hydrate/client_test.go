package hydrate_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wriveted/huey-api/schema/catalog/hydrate"
)

const (
	isbn     = "9780143782797"
	password = "s3cret-pa55word"
)

// provider is a fake metadata provider on loopback that answers every request
// with one status and body and remembers the last query it received.
type provider struct {
	*httptest.Server
	mu    sync.Mutex
	query url.Values
}

func newProvider(t testing.TB, status int, body string) *provider {
	t.Helper()
	p := &provider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.query = r.URL.Query()
		p.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *provider) lastQuery() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.query
}

func (p *provider) client(coverURL string) *hydrate.Client {
	return &hydrate.Client{BaseURL: p.URL + "/api", ClientID: "huey", Password: password, CoverURL: coverURL}
}

func fixture(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/record.xml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// response wraps a result code, hits and record fields in the provider's envelope.
func response(code, hits, record string) string {
	return `<?xml version="1.0" encoding="ISO-8859-1"?><NielsenBookDataResponse><resultCode>` + code +
		`</resultCode>` + hits + `<data><data><record>` + record + `</record></data></data></NielsenBookDataResponse>`
}

func TestFetchSendsQueryAndReadsRecord(t *testing.T) {
	t.Parallel()
	p := newProvider(t, http.StatusOK, fixture(t))

	rec, err := p.client("").Fetch(context.Background(), isbn)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"clientId": {"huey"}, "password": {password}, "from": {"0"}, "to": {"1"}, "indexType": {"0"},
		"format": {"7"}, "resultView": {"2"}, "field0": {"1"}, "value0": {isbn},
	}
	if got := p.lastQuery(); !reflect.DeepEqual(got, want) {
		t.Errorf("query = %v, want %v", got, want)
	}
	for k, v := range map[string]string{"ISBN13": isbn, "TL": "13-Storey Treehouse", "NWS": "Book 3", "CR2": "A12", "IMAGFLAG": "N"} {
		if rec[k] != v {
			t.Errorf("rec[%s] = %q, want %q", k, rec[k], v)
		}
	}
	if _, ok := rec["resultCode"]; ok || len(rec) != 46 {
		t.Errorf("record has %d fields (resultCode: %v), want the 46 record children only", len(rec), ok)
	}
}

func TestFetchLatin1Body(t *testing.T) {
	t.Parallel()
	p := newProvider(t, http.StatusOK, response("00", "<hits>1</hits>", "<TL>Caf\xe9</TL>"))

	rec, err := p.client("").Fetch(context.Background(), isbn)
	if err != nil || rec["TL"] != "Café" {
		t.Errorf("Fetch = %q, %v; want TL Café decoded from ISO-8859-1", rec["TL"], err)
	}
}

func TestFetchErrors(t *testing.T) {
	t.Parallel()
	record := "<ISBN13>" + isbn + "</ISBN13>"
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"zero hits", 200, response("00", "<hits>0</hits>", ""), hydrate.ErrNotFound},
		{"no hits element", 200, response("00", "", record), hydrate.ErrNotFound},
		{"unavailable", 200, response("01", "", ""), hydrate.ErrUnavailable},
		{"credentials rejected", 200, response("02", "", ""), hydrate.ErrProvider},
		{"provider server error", 200, response("03", "", ""), hydrate.ErrProvider},
		{"rate limited", 200, response("50", "", ""), hydrate.ErrRateLimited},
		{"unknown code", 200, response("42", "<hits>1</hits>", record), hydrate.ErrProvider},
		{"hits but no record", 200, strings.Replace(response("00", "<hits>1</hits>", ""), "<record></record>", "", 1), hydrate.ErrProvider},
		{"HTTP 500", 500, fixture(t), hydrate.ErrProvider},
		{"garbage body", 200, "<html><body>Bad gateway " + password, hydrate.ErrProvider},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newProvider(t, tc.status, tc.body)
			rec, err := p.client("").Fetch(context.Background(), isbn)
			assertFetchErr(t, rec, err, tc.want)
		})
	}
	t.Run("transport error", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t, 200, "")
		p.Close() // connection refused
		rec, err := p.client("").Fetch(context.Background(), isbn)
		assertFetchErr(t, rec, err, hydrate.ErrProvider)
		if !strings.Contains(err.Error(), p.URL) {
			t.Errorf("error %q should still name the provider host", err)
		}
	})
}

func assertFetchErr(t *testing.T, rec map[string]string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) || rec != nil {
		t.Fatalf("Fetch = %v, %v; want error %v", rec, err, want)
	}
	for _, other := range []error{hydrate.ErrNotFound, hydrate.ErrUnavailable, hydrate.ErrRateLimited, hydrate.ErrProvider} {
		if other != want && errors.Is(err, other) {
			t.Errorf("error %q also matches %v", err, other)
		}
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("error leaks the password: %q", err)
	}
}

func TestMap(t *testing.T) {
	t.Parallel()
	rec, err := newProvider(t, 200, fixture(t)).client("").Fetch(context.Background(), isbn)
	if err != nil {
		t.Fatal(err)
	}
	d := hydrate.Map(rec)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"isbn": isbn, "other_isbns": []any{}, "leading_article": "The", "title": "13-Storey Treehouse",
		"subtitle": "A Treehouse Adventure", "series_name": "Treehouse", "series_number": 3.0,
		"authors": []any{
			map[string]any{"first_name": "Andy", "last_name": "Griffiths"},
			map[string]any{"first_name": nil, "last_name": "Australian Geographic"},
		},
		"illustrators":   []any{map[string]any{"first_name": "Terry", "last_name": "Denton"}},
		"cover_url":      nil,
		"date_published": 20110301.0,
		"info": map[string]any{
			"pages": "256", "country": "Australia",
			"genres": []any{
				map[string]any{"name": "JUVENILE FICTION / Humorous Stories", "source": "BISAC", "code": "JUV019000"},
				map[string]any{"name": "Humorous stories (Children's/Teenage)", "source": "BIC", "code": "YFQ"},
				map[string]any{"name": "Children's / Teenage fiction: Humorous stories", "source": "THEMA", "code": "YFQ"},
				map[string]any{"name": "Tree houses -- Juvenile fiction", "source": "LOCSH", "code": nil},
			},
			"bic_qualifiers": []any{"5AK"}, "thema_qualifiers": []any{"5AJ", "1MBN"},
			"medium_tags": []any{"Text (eye-readable)", "Paperback"},
			"prodcc":      "Y2.1", "prodct": "Children's Fiction", "cbmccode": "C", "cbmctext": "Fiction 7-9",
			"keywords":      "treehouse; humour; Andy Griffiths",
			"summary_short": "Andy and Terry live in a 13-storey treehouse.Café opening soon!",
			"summary_long":  "A much longer synopsis of the book.",
			"interest_age":  "From 7 to 9 years", "reading_age": "From 8 years",
			"image_flag": false, "links": []any{}, "other": nil,
		},
		"labelset": nil, "hydrated_on": nil,
	}
	raw := got["raw"].(map[string]any)
	delete(got, "raw")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Map JSON =\n%s\nwant\n%v", b, want)
	}
	if raw["AUSFLD"] != rec["AUSFLD"] || len(raw) != len(rec) {
		t.Errorf("raw is not the record: %v", raw)
	}
}

func TestHydrate(t *testing.T) {
	t.Parallel()
	const noCoverISBN = "9780000000002"
	var coverHits sync.Map
	covers := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		coverHits.Store(r.URL.Path, true)
		if r.URL.Path == "/b/isbn/"+isbn+"-L.jpg" {
			_, _ = w.Write([]byte("\xff\xd8\xff"))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(covers.Close)
	coverURL := covers.URL + "/b/isbn/%s-L.jpg"

	for _, tc := range []struct {
		name, isbn, imagflag string
		wantCover            *string
		wantLookup           bool
	}{
		{"open cover found", isbn, "N", ptr(covers.URL + "/b/isbn/" + isbn + "-L.jpg"), true},
		{"open cover missing", noCoverISBN, "N", nil, true},
		{"provider image not stored", "9780000000019", "Y", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := strings.Replace(fixture(t), "<IMAGFLAG>N</IMAGFLAG>", "<IMAGFLAG>"+tc.imagflag+"</IMAGFLAG>", 1)
			body = strings.Replace(body, "<ISBN13>"+isbn+"</ISBN13>", "", 1) // the requested ISBN is used
			before := time.Now().UTC()

			d, err := newProvider(t, 200, body).client(coverURL).Hydrate(context.Background(), tc.isbn)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.CoverURL, tc.wantCover) {
				t.Errorf("cover_url = %v, want %v", deref(d.CoverURL), deref(tc.wantCover))
			}
			if _, looked := coverHits.Load("/b/isbn/" + tc.isbn + "-L.jpg"); looked != tc.wantLookup {
				t.Errorf("cover looked up = %v, want %v", looked, tc.wantLookup)
			}
			if d.Info["image_flag"] != (tc.imagflag == "Y") {
				t.Errorf("image_flag = %v", d.Info["image_flag"])
			}
			if d.ISBN != tc.isbn || d.Labelset == nil || d.Labelset.RecommendStatus == nil || d.Raw["TL"] != "13-Storey Treehouse" ||
				d.OtherISBNs == nil || len(d.OtherISBNs) != 0 {
				t.Errorf("Hydrate = %+v: want isbn %s, a labelset, the raw record and no other ISBNs", d, tc.isbn)
			}
			if d.HydratedOn == nil || d.HydratedOn.Location() != time.UTC || d.HydratedOn.Before(before) {
				t.Errorf("hydrated_on = %v, want now in UTC", d.HydratedOn)
			}
		})
	}
}

func TestHydrateError(t *testing.T) {
	t.Parallel()
	p := newProvider(t, 200, response("50", "", ""))
	d, err := p.client("").Hydrate(context.Background(), isbn)
	if !errors.Is(err, hydrate.ErrRateLimited) || d.ISBN != "" {
		t.Errorf("Hydrate = %+v, %v; want ErrRateLimited", d, err)
	}
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
