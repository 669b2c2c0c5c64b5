package auth

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

func seedOf(b byte) string {
	s := make([]byte, 32)
	s[0] = b
	return base64.StdEncoding.EncodeToString(s)
}

func header(t *testing.T, raw string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestKeysWithoutEd25519SignHS256AndPublishNothing(t *testing.T) {
	t.Parallel()
	k, err := NewKeys([]byte(secret), "")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := ParseSubject("wriveted:user-account:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e")
	raw, err := k.Sign(sub, time.Hour, now)
	if err != nil || header(t, raw)["alg"] != "HS256" {
		t.Fatalf("sign: %v %v", header(t, raw), err)
	}
	if _, err := k.Verify(raw, now); err != nil {
		t.Fatal(err)
	}
	set, _ := k.JWKS()
	if string(set) != `{"keys":[]}` {
		t.Fatalf("JWKS %s", set)
	}
}

func TestKeysEdDSA(t *testing.T) {
	t.Parallel()
	k, err := NewKeys([]byte(secret), seedOf(7))
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := ParseSubject("wriveted:service-account:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e")
	raw, err := k.Sign(sub, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	h := header(t, raw)
	if h["alg"] != "EdDSA" || h["kid"] != k.kid || k.kid == "" {
		t.Fatalf("header %v", h)
	}
	tok, err := k.Verify(raw, now)
	if err != nil || tok.Subject != sub {
		t.Fatalf("verify: %+v %v", tok, err)
	}
	// The original's HS256 tokens stay valid.
	hs := handMade(hsHeader, payload("Wriveted:User-Account:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e", now, now.Add(time.Hour)), sha256.New, secret)
	if _, err := k.Verify(hs, now); err != nil {
		t.Fatalf("HS256 after EdDSA configured: %v", err)
	}
	// JWKS publishes the public key, pinned to EdDSA.
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	b, _ := k.JWKS()
	if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s", b)
	}
	if key := set.Keys[0]; key["kty"] != "OKP" || key["crv"] != "Ed25519" || key["kid"] != k.kid || key["alg"] != "EdDSA" || key["d"] != nil {
		t.Fatalf("JWK %v", key)
	}
}

func TestKeysRejections(t *testing.T) {
	t.Parallel()
	k, _ := NewKeys([]byte(secret), seedOf(7))
	other, _ := NewKeys([]byte(secret), seedOf(9))
	hsOnly, _ := NewKeys([]byte(secret), "")
	sub, _ := ParseSubject("wriveted:user-account:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e")
	signEd := func(priv ed25519.PrivateKey, kid string) string {
		tok, _ := jwt.NewBuilder().Subject(sub.String()).IssuedAt(now).Expiration(now.Add(time.Hour)).Build()
		hdr := jws.NewHeaders()
		if kid != "" {
			_ = hdr.Set(jws.KeyIDKey, kid)
		}
		b, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA, priv, jws.WithProtectedHeaders(hdr)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	otherRaw, _ := other.Sign(sub, time.Hour, now)
	pubBytes := []byte(k.ed.Public().(ed25519.PublicKey))
	confused := handMade(`{"alg":"HS256","typ":"JWT","kid":"`+k.kid+`"}`,
		payload(sub.String(), now, now.Add(time.Hour)), sha256.New, string(pubBytes))
	cases := map[string]string{
		"another key's token":              otherRaw,
		"our kid, another key":             signEd(other.ed, k.kid),
		"no kid":                           signEd(k.ed, ""),
		"HS256 signed with the public key": confused,
		"alg none":                         handMade(`{"alg":"none","kid":"`+k.kid+`"}`, payload(sub.String(), now, now.Add(time.Hour)), nil, ""),
	}
	for name, raw := range cases {
		if _, err := k.Verify(raw, now); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	ours, _ := k.Sign(sub, time.Hour, now)
	if _, err := hsOnly.Verify(ours, now); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("an EdDSA token verified without an Ed25519 key configured: %v", err)
	}
	if _, err := k.Verify(ours, now.Add(2*time.Hour)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("expired EdDSA token: %v", err)
	}
	if _, err := NewKeys([]byte(secret), "not base64!"); err == nil {
		t.Error("accepted a bad seed")
	}
}
