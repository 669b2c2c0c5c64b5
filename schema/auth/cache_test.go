package auth

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// countingVerifier counts the verifications that reach the real verifier.
type countingVerifier struct {
	next  Verifier
	calls atomic.Int64
}

func (c *countingVerifier) Verify(raw string, now time.Time) (Token, error) {
	c.calls.Add(1)
	return c.next.Verify(raw, now)
}

func cached(t *testing.T, ttl time.Duration, maxEntries int) (*VerifyCache, *countingVerifier) {
	t.Helper()
	inner := &countingVerifier{next: verifier(t)}
	return NewVerifyCache(inner, ttl, maxEntries), inner
}

func userToken(id string, iat, exp time.Time) string {
	return handMade(hsHeader, payload("Wriveted:User-Account:"+id, iat, exp), sha256.New, secret)
}

func TestVerifyCacheSkipsVerificationOfAKnownToken(t *testing.T) {
	t.Parallel()
	c, inner := cached(t, time.Minute, 10)
	raw := userToken("8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e", now.Add(-time.Hour), now.Add(time.Hour))
	first, err := c.Verify(raw, now)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Verify(raw, now.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if first != second || inner.calls.Load() != 1 {
		t.Fatalf("second verification: %+v vs %+v, %d verifications (want 1)", first, second, inner.calls.Load())
	}
	// After the cache's TTL the token is verified again (and cached again).
	if _, err := c.Verify(raw, now.Add(2*time.Minute)); err != nil || inner.calls.Load() != 2 {
		t.Fatalf("after the TTL: %v, %d verifications (want 2)", err, inner.calls.Load())
	}
	if _, err := c.Verify(raw, now.Add(2*time.Minute+time.Second)); err != nil || inner.calls.Load() != 2 {
		t.Fatalf("re-cached: %v, %d verifications (want 2)", err, inner.calls.Load())
	}
	// A clock before the verification (a step back) verifies afresh.
	if _, err := c.Verify(raw, now.Add(-time.Second)); err != nil || inner.calls.Load() != 3 {
		t.Fatalf("earlier clock: %v, %d verifications (want 3)", err, inner.calls.Load())
	}
}

// A cached token expires with its exp, however long the cache's TTL.
func TestVerifyCacheRefusesExpiredTokens(t *testing.T) {
	t.Parallel()
	c, _ := cached(t, time.Hour, 10)
	raw := userToken("8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e", now.Add(-time.Hour), now.Add(time.Minute))
	if _, err := c.Verify(raw, now); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(raw, now.Add(time.Minute+clockSkew+time.Second)); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired cached token: %v, want ErrInvalidToken", err)
	}
	// Within the verifier's clock skew it still verifies, but is not cached
	// past its exp: a later check goes to the verifier again and fails.
	if _, err := c.Verify(raw, now.Add(time.Minute+time.Second)); err != nil {
		t.Fatalf("within the skew: %v", err)
	}
	if _, err := c.Verify(raw, now.Add(time.Minute+clockSkew+2*time.Second)); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired after a verification within the skew: %v", err)
	}
}

// Every rejection of TestRejections is still a rejection through the cache,
// the second time too, and is verified each time (a failure is never cached).
func TestVerifyCacheNeverCachesFailures(t *testing.T) {
	t.Parallel()
	id := "8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e"
	good := payload("Wriveted:User-Account:"+id, now.Add(-time.Hour), now.Add(time.Hour))
	cases := map[string]string{
		"alg none":           handMade(`{"alg":"none","typ":"JWT"}`, good, nil, ""),
		"HS512 switch":       handMade(`{"alg":"HS512","typ":"JWT"}`, good, sha512.New, secret),
		"bad signature":      handMade(hsHeader, good, sha256.New, secret+"x"),
		"expired":            userToken(id, now.Add(-9*24*time.Hour), now.Add(-time.Hour)),
		"any colon (F13)":    handMade(hsHeader, payload("evil:user-account:"+id, now, now.Add(time.Hour)), sha256.New, secret),
		"four parts (F13)":   handMade(hsHeader, payload("wriveted:user-account:"+id+":x", now, now.Add(time.Hour)), sha256.New, secret),
		"no exp":             handMade(hsHeader, fmt.Sprintf(`{"iat":%d,"sub":"Wriveted:User-Account:%s"}`, now.Unix(), id), sha256.New, secret),
		"garbage":            "not.a.token",
		"empty":              "",
		"good with a suffix": handMade(hsHeader, good, sha256.New, secret) + "x",
	}
	c, inner := cached(t, time.Hour, 100)
	// A good token with the same payload is cached first: none of the
	// forgeries may ride on its entry.
	if _, err := c.Verify(handMade(hsHeader, good, sha256.New, secret), now); err != nil {
		t.Fatal(err)
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for i := range 2 {
				if _, err := c.Verify(raw, now); !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("attempt %d: got %v, want ErrInvalidToken", i+1, err)
				}
			}
		})
	}
	t.Cleanup(func() {
		if want := int64(1 + 2*len(cases)); inner.calls.Load() != want || c.Len() != 1 {
			t.Errorf("%d verifications (want %d), %d cached (want 1)", inner.calls.Load(), want, c.Len())
		}
	})
}

func TestVerifyCacheIsBounded(t *testing.T) {
	t.Parallel()
	c, inner := cached(t, time.Hour, 3)
	toks := make([]string, 5)
	for i := range toks {
		toks[i] = userToken(fmt.Sprintf("8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7%d", i), now.Add(-time.Hour), now.Add(time.Hour))
		if _, err := c.Verify(toks[i], now); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 3 || inner.calls.Load() != 5 {
		t.Fatalf("%d cached (want 3), %d verifications (want 5)", c.Len(), inner.calls.Load())
	}
	for _, raw := range toks[2:] { // the three newest are cached
		if _, err := c.Verify(raw, now); err != nil {
			t.Fatal(err)
		}
	}
	if inner.calls.Load() != 5 {
		t.Fatalf("%d verifications, want 5: the newest tokens should be cached", inner.calls.Load())
	}
	if _, err := c.Verify(toks[0], now); err != nil || inner.calls.Load() != 6 || c.Len() != 3 {
		t.Fatalf("evicted token: %v, %d verifications (want 6), %d cached (want 3)", err, inner.calls.Load(), c.Len())
	}
}

func TestVerifyCacheDisabled(t *testing.T) {
	t.Parallel()
	raw := userToken("8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e", now.Add(-time.Hour), now.Add(time.Hour))
	for _, c := range []struct {
		ttl time.Duration
		max int
	}{{0, 10}, {time.Minute, 0}} {
		cache, inner := cached(t, c.ttl, c.max)
		for range 2 {
			if _, err := cache.Verify(raw, now); err != nil {
				t.Fatal(err)
			}
		}
		if inner.calls.Load() != 2 || cache.Len() != 0 {
			t.Errorf("ttl %s, max %d: %d verifications (want 2), %d cached", c.ttl, c.max, inner.calls.Load(), cache.Len())
		}
	}
}

func BenchmarkVerifyCachedHS256(b *testing.B) {
	h, _ := NewHS256([]byte(secret))
	c := NewVerifyCache(h, time.Minute, 1000)
	sub, _ := ParseSubject("wriveted:user-account:8f4c2a1e-5b7d-4c1a-9e0f-2d3b4a5c6d7e")
	raw, _ := h.Sign(sub, UserTokenTTL, now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Verify(raw, now); err != nil {
			b.Fatal(err)
		}
	}
}
