package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/server/internal/api/docsui"
)

// A tag's URL attributes: <script src>, <link href>, <img src>, ….
var docsURLAttr = regexp.MustCompile(`(?i)<(script|link|img|iframe|source)\b[^>]*?\s(?:src|href)\s*=\s*["']([^"']*)["']`)

// The documentation pages load every script and style sheet from the server
// itself (embedded assets), so they work offline; each asset is served with
// a JS/CSS content type and a long cache lifetime.
func TestDocsPagesLoadOnlyEmbeddedAssets(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	for page, want := range map[string][]string{
		"/v1/docs":  {"swagger-ui-bundle.js", "swagger-ui.css"},
		"/v1/redoc": {"redoc.standalone.js"},
	} {
		rec := v.do(http.MethodGet, page, "", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", page, rec.Code)
		}
		html := rec.Body.String()
		if strings.Contains(html, "http://") || strings.Contains(html, "https://") {
			t.Errorf("%s names another origin:\n%s", page, html)
		}
		var loaded []string
		for _, m := range docsURLAttr.FindAllStringSubmatch(html, -1) {
			tag, ref := strings.ToLower(m[1]), m[2]
			u, err := url.Parse(ref)
			if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/v1/docs/assets/") {
				t.Errorf("%s: <%s> loads %q, not an embedded asset", page, tag, ref)
				continue
			}
			name := path.Base(u.Path)
			loaded = append(loaded, name)
			a := docsui.Lookup(name)
			if a == nil {
				t.Errorf("%s: %q is not embedded", page, name)
				continue
			}
			if u.Query().Get("h") != a.Hash {
				t.Errorf("%s: %q has hash %q, want %q", page, ref, u.Query().Get("h"), a.Hash)
			}
			wantType := map[string]string{"script": "text/javascript", "link": "text/css"}[tag]
			got := v.do(http.MethodGet, ref, "", nil)
			ct := got.Header().Get(echo.HeaderContentType)
			switch {
			case got.Code != http.StatusOK:
				t.Errorf("GET %s = %d %.200s", ref, got.Code, got.Body)
			case got.Body.Len() < 10_000 || !bytes.Equal(got.Body.Bytes(), a.Body):
				t.Errorf("GET %s: %d bytes, not the embedded %d", ref, got.Body.Len(), len(a.Body))
			case wantType == "" || !strings.HasPrefix(ct, wantType):
				t.Errorf("GET %s (from <%s>): Content-Type %q, want %s", ref, tag, ct, wantType)
			case got.Header().Get(echo.HeaderCacheControl) != "public, max-age=31536000, immutable" ||
				got.Header().Get("ETag") != `"`+a.Hash+`"` || got.Header().Get("X-Content-Type-Options") != "nosniff":
				t.Errorf("GET %s: headers %v", ref, got.Header())
			}
		}
		for _, w := range want {
			found := false
			for _, l := range loaded {
				found = found || l == w
			}
			if !found {
				t.Errorf("%s does not load %s (it loads %v)", page, w, loaded)
			}
		}
	}
}

// Every embedded file is served, with its ETag honoured; nothing else under
// the assets path is.
func TestDocsAssetsServeTheEmbeddedFilesOnly(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	names := docsui.Names()
	if len(names) != 5 {
		t.Errorf("embedded assets: %v", names)
	}
	for _, name := range names {
		a := docsui.Lookup(name)
		rec := v.do(http.MethodGet, "/v1/docs/assets/"+name, "", nil)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 || !bytes.Equal(rec.Body.Bytes(), a.Body) ||
			rec.Header().Get(echo.HeaderContentType) != a.ContentType {
			t.Errorf("GET %s = %d, %d bytes, %q", name, rec.Code, rec.Body.Len(), rec.Header().Get(echo.HeaderContentType))
		}
		// A bundle's first line names its license file, relative to itself.
		if strings.HasSuffix(name, ".js") && !bytes.Contains(a.Body[:200], []byte(name+".LICENSE.txt")) {
			t.Errorf("%s does not start by naming %s.LICENSE.txt", name, name)
		}
		if strings.HasSuffix(name, ".js") && docsui.Lookup(name+".LICENSE.txt") == nil {
			t.Errorf("%s.LICENSE.txt is not embedded", name)
		}

		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/v1/docs/assets/"+name+"?h="+a.Hash, nil)
		req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
		cached := httptest.NewRecorder()
		v.e.ServeHTTP(cached, req)
		if cached.Code != http.StatusNotModified || cached.Body.Len() != 0 {
			t.Errorf("GET %s with its ETag = %d, %d bytes; want 304", name, cached.Code, cached.Body.Len())
		}
	}
	for _, p := range []string{
		"/v1/docs/assets/docsui.go", "/v1/docs/assets/README.md", "/v1/docs/assets/LICENSE-redoc",
		"/v1/docs/assets/swagger-ui-bundle.js.map", "/v1/docs/assets/..%2Fopenapi.yaml", "/v1/docs/assets/%2e%2e",
	} {
		rec := v.do(http.MethodGet, p, "", nil)
		if rec.Code != http.StatusNotFound || strings.TrimSpace(rec.Body.String()) != `{"detail":"Not Found"}` {
			t.Errorf("GET %s = %d %.200s, want 404", p, rec.Code, rec.Body)
		}
	}
}
