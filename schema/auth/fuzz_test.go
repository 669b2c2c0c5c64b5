package auth

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

// FuzzVerify: whatever string is presented, Verify answers a token or
// ErrInvalidToken, never panics, and accepts only a token byte-identical to
// one that was signed: a mutated encoding of a valid token (padding, another
// base64 alphabet, trailing bits, inserted line breaks) is refused.
func FuzzVerify(f *testing.F) {
	id := "8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e"
	k, err := NewKeys([]byte(secret), seedOf(7))
	if err != nil {
		f.Fatal(err)
	}
	signed, err := k.Sign(Subject{Kind: KindUser, ID: uuid.MustParse(id)}, time.Hour, now)
	if err != nil {
		f.Fatal(err)
	}
	hs, err := k.hs.Sign(Subject{Kind: KindServiceAccount, ID: uuid.MustParse(id)}, time.Hour, now)
	if err != nil {
		f.Fatal(err)
	}
	original := handMade(hsHeader, payload("Wriveted:User-Account:"+id, now.Add(-time.Minute), now.Add(time.Hour)), sha256.New, secret)
	valid := map[string]bool{signed: true, hs: true, original: true}
	for raw := range valid {
		f.Add(raw)
		f.Add(raw + "=")
		f.Add(raw[:len(raw)-1])
	}
	f.Add("")
	f.Add("not.a.token")
	f.Add("eyJ.eyJ.eyJ")
	f.Add(handMade(`{"alg":"none","typ":"JWT"}`, payload("Wriveted:User-Account:"+id, now, now.Add(time.Hour)), nil, ""))
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := k.Verify(raw, now)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify(%q): %v, want ErrInvalidToken", raw, err)
			}
			return
		}
		if !valid[raw] {
			t.Fatalf("Verify accepted %q (subject %v), which is not a token that was signed", raw, tok.Subject)
		}
	})
}

// FuzzParseSubject: a subject parses only in the accepted form, and its
// rendering parses back to the same subject.
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"wriveted:user-account:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e",
		"Wriveted:Service-Account:8F4C2A1E-5B7D-4C1A-9E0F-2D3B4A5C6D7E", "wriveted:8f4c2a1e", "evil:user-account:x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sub, err := ParseSubject(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("ParseSubject(%q): %v", s, err)
			}
			return
		}
		back, err := ParseSubject(sub.String())
		if err != nil || back != sub {
			t.Fatalf("ParseSubject(%q) = %v; its rendering %q parses to %v, %v", s, sub, sub.String(), back, err)
		}
	})
}
