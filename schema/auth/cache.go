package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// VerifyCache remembers tokens that verified, so a token presented again
// skips parsing and signature verification (jwx costs ~15 µs and ~180
// allocations a token; the HMAC itself is a small part of it).
//
// Invariants:
//   - only a successful verification is stored; a failure is never cached, so
//     a refused token is verified (and refused) again every time;
//   - the key is the SHA-256 of the exact token string: any change to header,
//     payload or signature is another key, verified afresh;
//   - an entry is served only from the time it verified until min(the token's
//     exp, that time + ttl), so an expired token falls through to the
//     verifier, which refuses it;
//   - at most max entries: inserting into a full cache evicts the oldest entry.
//
// What a verification depends on besides the token is the key set, fixed for
// the verifier's life, and the clock, which the expiry bound covers (iat only
// moves further into the past).
type VerifyCache struct {
	next Verifier
	ttl  time.Duration

	mu      sync.Mutex
	entries map[[sha256.Size]byte]verified
	ring    [][sha256.Size]byte // insertion order, for eviction
	head    int                 // next slot of ring to fill (and evict)
}

type verified struct {
	tok   Token
	from  time.Time // when it verified: an earlier clock (a test's, a step back) verifies afresh
	until time.Time
}

var _ Verifier = (*VerifyCache)(nil)

// NewVerifyCache caches next's successful verifications for at most ttl each,
// holding at most maxEntries tokens. A ttl or maxEntries ≤ 0 disables caching.
func NewVerifyCache(next Verifier, ttl time.Duration, maxEntries int) *VerifyCache {
	if maxEntries < 0 {
		maxEntries = 0
	}
	return &VerifyCache{
		next: next, ttl: ttl,
		entries: make(map[[sha256.Size]byte]verified, maxEntries),
		ring:    make([][sha256.Size]byte, maxEntries),
	}
}

// Verify answers a cached verification of raw when one is still valid at
// now, else verifies raw with the underlying verifier and caches a success.
func (c *VerifyCache) Verify(raw string, now time.Time) (Token, error) {
	if c.ttl <= 0 || len(c.ring) == 0 {
		return c.next.Verify(raw, now)
	}
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && !now.Before(e.from) && now.Before(e.until) {
		return e.tok, nil
	}
	tok, err := c.next.Verify(raw, now)
	if err != nil {
		return Token{}, err
	}
	until := now.Add(c.ttl)
	if tok.Expiry.Before(until) {
		until = tok.Expiry
	}
	if now.Before(until) {
		c.put(key, verified{tok: tok, from: now, until: until})
	}
	return tok, nil
}

func (c *VerifyCache) put(key [sha256.Size]byte, v verified) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok { // refresh in place (a stale entry verified again)
		c.entries[key] = v
		return
	}
	if len(c.entries) >= len(c.ring) { // full: evict the oldest
		delete(c.entries, c.ring[c.head])
	}
	c.ring[c.head] = key
	c.entries[key] = v
	c.head = (c.head + 1) % len(c.ring)
}

// Len reports how many verified tokens are cached.
func (c *VerifyCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
