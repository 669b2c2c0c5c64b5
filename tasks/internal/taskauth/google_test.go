package taskauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

const (
	testAudience = "https://wriveted-api-internal-abc123-ts.a.run.app"
	testEmail    = "background-tasks@wriveted-api.iam.gserviceaccount.com"
)

// jwksServer is a local key-set endpoint whose content tests can swap.
type jwksServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	body    []byte
	status  int
	fetches atomic.Int32
}

func newJWKSServer(t testing.TB, keys ...jwk.Key) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.publish(t, keys...)
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *jwksServer) url() string { return s.srv.URL + "/oauth2/v3/certs" }

// publish replaces the served set with the public halves of keys.
func (s *jwksServer) publish(t testing.TB, keys ...jwk.Key) {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := jwk.PublicKeyOf(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := set.AddKey(pub); err != nil {
			t.Fatal(err)
		}
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

func (s *jwksServer) fail() {
	s.mu.Lock()
	s.status = http.StatusInternalServerError
	s.mu.Unlock()
}

// rsaKey makes an RS256 private key with a kid, as Google publishes them.
func rsaKey(t testing.TB, kid string) jwk.Key {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.RS256, jwk.KeyUsageKey: "sig"} {
		if err := k.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// claims are those of a Cloud Tasks OIDC token, valid now.
func claims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":            "https://accounts.google.com",
		"aud":            testAudience,
		"azp":            "112233445566778899",
		"sub":            "112233445566778899",
		"email":          testEmail,
		"email_verified": true,
		"iat":            now.Add(-time.Minute).Unix(),
		"exp":            now.Add(time.Hour).Unix(),
	}
}

// signRS256 signs claims with key; the key's kid goes into the header.
func signRS256(t testing.TB, key jwk.Key, c map[string]any) string {
	t.Helper()
	b, err := jwt.Sign(token(t, c), jwt.WithKey(jwa.RS256, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func token(t testing.TB, c map[string]any) jwt.Token {
	t.Helper()
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.New()
	if err := json.Unmarshal(raw, tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

// signHS256 makes an HMAC token naming kid, as an attacker would.
func signHS256(t testing.TB, secret []byte, kid string, c map[string]any) string {
	t.Helper()
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	b, err := jwt.Sign(token(t, c), jwt.WithKey(jwa.HS256, secret, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unsigned makes an alg "none" token by hand (jwx refuses to sign one).
func unsigned(t testing.TB, kid string, c map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	head, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeToString(head) + "." + enc.EncodeToString(body) + "."
}

func newGoogle(t testing.TB, s *jwksServer, minRefresh time.Duration) Verifier {
	t.Helper()
	v, err := NewGoogleOIDC(t.Context(), GoogleOIDCOptions{
		Audience:            testAudience,
		ServiceAccountEmail: testEmail,
		JWKSURL:             s.url(),
		HTTPClient:          s.srv.Client(),
		MinRefreshInterval:  minRefresh,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func with(c map[string]any, k string, v any) map[string]any {
	c[k] = v
	return c
}

func without(c map[string]any, k string) map[string]any {
	delete(c, k)
	return c
}

func TestGoogleOIDCVerify(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, "google-key-1")
	stranger := rsaKey(t, "google-key-1") // same kid, key not published
	unpublished := rsaKey(t, "not-in-the-set")
	srv := newJWKSServer(t, key)
	v := newGoogle(t, srv, 0)

	pub, err := jwk.PublicKeyOf(key)
	if err != nil {
		t.Fatal(err)
	}
	var rawPub rsa.PublicKey
	if err := pub.Raw(&rawPub); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&rawPub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pubJSON, _ := json.Marshal(pub)
	now := time.Now()

	tests := []struct {
		name   string
		token  string
		reason string // "" means accepted; else a fragment of the refusal
	}{
		{"valid token", signRS256(t, key, claims()), ""},
		{"bare issuer", signRS256(t, key, with(claims(), "iss", "accounts.google.com")), ""},
		{"audience list containing ours", signRS256(t, key, with(claims(), "aud", []string{"other", testAudience})), ""},
		{"expired within the skew", signRS256(t, key, with(claims(), "exp", now.Add(-10*time.Second).Unix())), ""},

		{"wrong audience", signRS256(t, key, with(claims(), "aud", testAudience+"/v1/generate-labels")), `"aud" not satisfied`},
		{"wrong email", signRS256(t, key, with(claims(), "email", "someone@wriveted-api.iam.gserviceaccount.com")), `"email" not satisfied`},
		{"no email", signRS256(t, key, without(claims(), "email")), `"email" not satisfied`},
		{"email_verified false", signRS256(t, key, with(claims(), "email_verified", false)), `"email_verified" not satisfied`},
		{"email_verified as a string", signRS256(t, key, with(claims(), "email_verified", "true")), `"email_verified" not satisfied`},
		{"no email_verified", signRS256(t, key, without(claims(), "email_verified")), `"email_verified" not satisfied`},
		{"wrong issuer", signRS256(t, key, with(claims(), "iss", "https://evil.example.com")), `"iss" not satisfied`},
		{"no issuer", signRS256(t, key, without(claims(), "iss")), `"iss" not satisfied`},
		{"expired", signRS256(t, key, with(claims(), "exp", now.Add(-time.Minute).Unix())), `"exp" not satisfied`},
		{"no exp", signRS256(t, key, without(claims(), "exp")), `"exp"`},
		{"issued in the future", signRS256(t, key, with(claims(), "iat", now.Add(5*time.Minute).Unix())), `"iat" not satisfied`},
		{"unknown kid", signRS256(t, unpublished, claims()), `unknown kid "not-in-the-set"`},
		{"known kid, other key", signRS256(t, stranger, claims()), "does not verify"},
		{"HS256 with some secret", signHS256(t, []byte("some-shared-secret-of-32-bytes!!"), "google-key-1", claims()), `algorithm "HS256" not accepted`},
		{"HS256 keyed with the public key PEM", signHS256(t, pubPEM, "google-key-1", claims()), `algorithm "HS256" not accepted`},
		{"HS256 keyed with the public JWK", signHS256(t, pubJSON, "google-key-1", claims()), `algorithm "HS256" not accepted`},
		{"alg none with a known kid", unsigned(t, "google-key-1", claims()), `algorithm "none" not accepted`},
		{"no kid", func() string {
			raw, err := jwk.FromRaw(mustRaw(t, key))
			if err != nil {
				t.Fatal(err)
			}
			return signRS256(t, raw, claims())
		}(), "no kid"},
		{"not a JWS", "not-a-token", "not a compact JWS"},
		{"signature stripped", strings.Join(strings.Split(signRS256(t, key, claims()), ".")[:2], ".") + ".", "does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := v.Verify(t.Context(), "Bearer "+tc.token)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("err = %v, want ErrInvalidCredentials", err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("err = %q, want it to mention %q", err, tc.reason)
			}
		})
	}
}

func mustRaw(t testing.TB, k jwk.Key) *rsa.PrivateKey {
	t.Helper()
	var raw rsa.PrivateKey
	if err := k.Raw(&raw); err != nil {
		t.Fatal(err)
	}
	return &raw
}

func TestGoogleOIDCHeaderErrors(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, "k1")
	v := newGoogle(t, newJWKSServer(t, key), 0)
	if err := v.Verify(t.Context(), ""); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("missing header: %v, want ErrNoCredentials", err)
	}
	if err := v.Verify(t.Context(), "Basic "+signRS256(t, key, claims())); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong scheme: %v, want ErrInvalidCredentials", err)
	}
}

// Google rotates its keys: a token signed with a key published after the
// cache's last fetch is accepted, because an unknown kid forces a refresh;
// a retired key is refused once the set no longer lists it.
func TestGoogleOIDCKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := rsaKey(t, "2026-old"), rsaKey(t, "2026-new")
	srv := newJWKSServer(t, oldKey)
	v := newGoogle(t, srv, time.Nanosecond)
	if err := v.Verify(t.Context(), "Bearer "+signRS256(t, oldKey, claims())); err != nil {
		t.Fatalf("old key before rotation: %v", err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches before rotation = %d, want 1 (at construction only)", n)
	}

	srv.publish(t, newKey)
	if err := v.Verify(t.Context(), "Bearer "+signRS256(t, newKey, claims())); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches after rotation = %d, want 2", n)
	}
	if err := v.Verify(t.Context(), "Bearer "+signRS256(t, newKey, claims())); err != nil {
		t.Fatalf("new key again: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("a known kid refetched the set: fetches = %d, want 2", n)
	}

	err := v.Verify(t.Context(), "Bearer "+signRS256(t, oldKey, claims()))
	if !errors.Is(err, ErrInvalidCredentials) || !strings.Contains(err.Error(), "unknown kid") {
		t.Fatalf("retired key: %v, want unknown kid", err)
	}
}

// Tokens with made-up kids cannot make the verifier fetch the set more than
// once per MinRefreshInterval (default one minute).
func TestGoogleOIDCForcedRefreshIsRateLimited(t *testing.T) {
	t.Parallel()
	a, b, c := rsaKey(t, "a"), rsaKey(t, "b"), rsaKey(t, "c")
	srv := newJWKSServer(t, a)
	v := newGoogle(t, srv, 0)

	srv.publish(t, a, b)
	if err := v.Verify(t.Context(), "Bearer "+signRS256(t, b, claims())); err != nil {
		t.Fatalf("first unknown kid should force a refresh: %v", err)
	}
	srv.publish(t, a, b, c)
	for range 5 {
		err := v.Verify(t.Context(), "Bearer "+signRS256(t, c, claims()))
		if !errors.Is(err, ErrInvalidCredentials) || !strings.Contains(err.Error(), "refreshed") {
			t.Fatalf("kid within the interval: %v, want a rate-limited refusal", err)
		}
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (construction and one forced refresh)", n)
	}
	if err := v.Verify(t.Context(), "Bearer "+signRS256(t, a, claims())); err != nil {
		t.Fatalf("known key still accepted: %v", err)
	}
}

// A key set that cannot be fetched is not the caller's fault: the error does
// not wrap ErrInvalidCredentials (Middleware still answers 403, logs at warn).
func TestGoogleOIDCKeySetUnavailable(t *testing.T) {
	t.Parallel()
	a, b := rsaKey(t, "a"), rsaKey(t, "b")
	srv := newJWKSServer(t, a)
	v := newGoogle(t, srv, time.Nanosecond)
	srv.fail()
	if err := v.Verify(t.Context(), "Bearer "+signRS256(t, a, claims())); err != nil {
		t.Fatalf("cached key while the set is down: %v", err)
	}
	err := v.Verify(t.Context(), "Bearer "+signRS256(t, b, claims()))
	if err == nil || errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("unknown kid while the set is down: %v, want a non-credential error", err)
	}
}

func TestNewGoogleOIDCOptions(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, rsaKey(t, "k"))
	dead := httptest.NewTLSServer(http.NotFoundHandler())
	dead.Close()
	notFound := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	ok := GoogleOIDCOptions{Audience: testAudience, ServiceAccountEmail: testEmail, JWKSURL: srv.url(), HTTPClient: srv.srv.Client()}
	tests := []struct {
		name   string
		edit   func(o *GoogleOIDCOptions)
		reason string
	}{
		{"no audience", func(o *GoogleOIDCOptions) { o.Audience = "" }, "audience is required"},
		{"no e-mail", func(o *GoogleOIDCOptions) { o.ServiceAccountEmail = "" }, "e-mail is required"},
		{"plain http JWKS", func(o *GoogleOIDCOptions) { o.JWKSURL = "http://www.googleapis.com/oauth2/v3/certs" }, "must be an https URL"},
		{"unreachable JWKS", func(o *GoogleOIDCOptions) { o.JWKSURL = dead.URL + "/certs" }, "fetch JWKS"},
		{"JWKS answers 404", func(o *GoogleOIDCOptions) { o.JWKSURL = notFound.URL + "/certs"; o.HTTPClient = notFound.Client() }, "fetch JWKS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := ok
			tc.edit(&o)
			v, err := NewGoogleOIDC(t.Context(), o)
			if err == nil || v != nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("NewGoogleOIDC = %v, %v; want an error mentioning %q", v, err, tc.reason)
			}
		})
	}
}
