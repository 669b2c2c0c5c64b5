package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"testing"
	"time"
)

const secret = "an-original-service-secret-key-of-32-bytes+"

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// handMade builds a token the way the original (PyJWT) does, without jwx:
// header and payload JSON, base64url without padding, HMAC over "h.p".
func handMade(header, payload string, mac func() hash.Hash, key string) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	if mac == nil {
		return signing + "."
	}
	m := hmac.New(mac, []byte(key))
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

func payload(sub string, iat, exp time.Time) string {
	return fmt.Sprintf(`{"exp":%d,"iat":%d,"sub":%q}`, exp.Unix(), iat.Unix(), sub)
}

const hsHeader = `{"alg":"HS256","typ":"JWT"}`

func verifier(t *testing.T) *HS256 {
	t.Helper()
	h, err := NewHS256([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestOriginalTokenVerifies(t *testing.T) {
	t.Parallel()
	id := "8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e"
	raw := handMade(hsHeader, payload("Wriveted:User-Account:"+id, now.Add(-time.Hour), now.Add(8*24*time.Hour)), sha256.New, secret)
	tok, err := verifier(t).Verify(raw, now)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Subject.Kind != KindUser || tok.Subject.ID.String() != id || !tok.Expiry.Equal(now.Add(8*24*time.Hour).Truncate(time.Second)) {
		t.Fatalf("got %+v", tok)
	}
	sa := handMade(hsHeader, payload("wriveted:service-account:"+strings.ToUpper(id), now, now.Add(time.Hour)), sha256.New, secret)
	tok, err = verifier(t).Verify(sa, now)
	if err != nil || tok.Subject.Kind != KindServiceAccount {
		t.Fatalf("service account token: %+v %v", tok, err)
	}
}

func TestSignedTokenRoundTripsInTheOriginalFormat(t *testing.T) {
	t.Parallel()
	h := verifier(t)
	sub, _ := ParseSubject("wriveted:user-account:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e")
	raw, err := h.Sign(sub, UserTokenTTL, now)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(raw, ".")
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if !strings.Contains(string(body), `"sub":"Wriveted:User-Account:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e"`) {
		t.Fatalf("payload %s", body)
	}
	head, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if !strings.Contains(string(head), `"alg":"HS256"`) {
		t.Fatalf("header %s", head)
	}
	tok, err := h.Verify(raw, now.Add(time.Minute))
	if err != nil || tok.Subject != sub || !tok.Expiry.Equal(now.Add(UserTokenTTL)) {
		t.Fatalf("round trip: %+v %v", tok, err)
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	id := "8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e"
	good := payload("Wriveted:User-Account:"+id, now.Add(-time.Hour), now.Add(time.Hour))
	cases := map[string]string{
		"alg none":                  handMade(`{"alg":"none","typ":"JWT"}`, good, nil, ""),
		"alg none with sig":         handMade(`{"alg":"none","typ":"JWT"}`, good, sha256.New, secret),
		"HS512 switch":              handMade(`{"alg":"HS512","typ":"JWT"}`, good, sha512.New, secret),
		"RS256 header, HMAC":        handMade(`{"alg":"RS256","typ":"JWT"}`, good, sha256.New, secret),
		"bad signature":             handMade(hsHeader, good, sha256.New, secret+"x"),
		"expired":                   handMade(hsHeader, payload("Wriveted:User-Account:"+id, now.Add(-9*24*time.Hour), now.Add(-time.Hour)), sha256.New, secret),
		"no iat":                    handMade(hsHeader, fmt.Sprintf(`{"exp":%d,"sub":"Wriveted:User-Account:%s"}`, now.Add(time.Hour).Unix(), id), sha256.New, secret),
		"no exp":                    handMade(hsHeader, fmt.Sprintf(`{"iat":%d,"sub":"Wriveted:User-Account:%s"}`, now.Unix(), id), sha256.New, secret),
		"no sub":                    handMade(hsHeader, fmt.Sprintf(`{"iat":%d,"exp":%d}`, now.Unix(), now.Add(time.Hour).Unix()), sha256.New, secret),
		"unknown kind":              handMade(hsHeader, payload("wriveted:school-account:"+id, now, now.Add(time.Hour)), sha256.New, secret),
		"any colon (F13)":           handMade(hsHeader, payload("evil:user-account:"+id, now, now.Add(time.Hour)), sha256.New, secret),
		"four parts (F13)":          handMade(hsHeader, payload("wriveted:user-account:"+id+":x", now, now.Add(time.Hour)), sha256.New, secret),
		"two parts (F13)":           handMade(hsHeader, payload("wriveted:"+id, now, now.Add(time.Hour)), sha256.New, secret),
		"not a uuid":                handMade(hsHeader, payload("wriveted:user-account:42", now, now.Add(time.Hour)), sha256.New, secret),
		"padded signature":          handMade(hsHeader, good, sha256.New, secret) + "=",
		"line break in signature":   lineBreak(handMade(hsHeader, good, sha256.New, secret)),
		"garbage":                   "not.a.token",
		"empty":                     "",
		"three dots of base64":      "eyJ.eyJ.eyJ",
		"future iat (issued later)": handMade(hsHeader, payload("Wriveted:User-Account:"+id, now.Add(time.Hour), now.Add(2*time.Hour)), sha256.New, secret),
	}
	h := verifier(t)
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := h.Verify(raw, now); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("got %v, want ErrInvalidToken", err)
			}
		})
	}
}

// lineBreak puts a line break in a token's signature (base64 decoders skip it).
func lineBreak(raw string) string { return raw[:len(raw)-10] + "\r\n" + raw[len(raw)-10:] }

func TestShortSecretRefused(t *testing.T) {
	t.Parallel()
	if _, err := NewHS256([]byte("short")); err == nil {
		t.Fatal("accepted a short secret")
	}
}

func BenchmarkVerifyHS256(b *testing.B) {
	h, _ := NewHS256([]byte(secret))
	sub, _ := ParseSubject("wriveted:user-account:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e")
	raw, _ := h.Sign(sub, UserTokenTTL, now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Verify(raw, now); err != nil {
			b.Fatal(err)
		}
	}
}
