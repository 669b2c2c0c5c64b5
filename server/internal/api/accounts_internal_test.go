package api

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/auth"
)

func TestAccountCacheRules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	identity := func() *Identity {
		id := uuid.New()
		return identityFor(Account{Kind: string(auth.KindUser), ID: id, IsActive: true}, auth.Token{Subject: auth.Subject{Kind: auth.KindUser, ID: id}})
	}
	a, b := identity(), identity()
	cached := func(c *AccountCache, id uuid.UUID, at time.Time) bool { _, ok := c.get(id, at); return ok }

	c := NewAccountCache(time.Hour)
	// Not listening: the fallback TTL.
	c.put(a, c.generation(), now)
	if !cached(c, a.Account.ID, now.Add(FallbackPrincipalTTL-time.Millisecond)) || cached(c, a.Account.ID, now.Add(FallbackPrincipalTTL)) {
		t.Error("without a listener an entry should live FallbackPrincipalTTL")
	}
	// Listening: the full TTL; connecting flushed what was there.
	c.flush(true)
	if cached(c, a.Account.ID, now) {
		t.Error("connecting the listener should flush the cache")
	}
	c.put(a, c.generation(), now)
	c.put(b, c.generation(), now)
	if !cached(c, a.Account.ID, now.Add(time.Hour-time.Millisecond)) || cached(c, a.Account.ID, now.Add(time.Hour)) {
		t.Error("with a listener an entry should live the full TTL")
	}
	// A notification drops that account only; "*" and garbage drop all.
	c.notified(a.Account.ID.String())
	if cached(c, a.Account.ID, now) || !cached(c, b.Account.ID, now) {
		t.Error("a notification should drop exactly its account")
	}
	c.put(a, c.generation(), now)
	c.notified("*")
	if cached(c, a.Account.ID, now) || cached(c, b.Account.ID, now) || !c.Listening() {
		t.Error(`"*" should drop every account and keep listening`)
	}
	c.put(a, c.generation(), now)
	c.notified("not-a-uuid")
	if cached(c, a.Account.ID, now) {
		t.Error("an unreadable payload should drop every account")
	}
	// A load that raced an invalidation (of any account) is not stored.
	gen := c.generation()
	c.forget(b.Account.ID)
	c.put(a, gen, now)
	if cached(c, a.Account.ID, now) {
		t.Error("an account loaded before an invalidation was stored")
	}
	gen = c.generation()
	c.flush(false) // the listener lost its connection mid-load
	c.put(a, gen, now)
	if cached(c, a.Account.ID, now) || c.Listening() {
		t.Error("an account loaded before the listener's loss was stored")
	}
	// TTL 0: no caching at all.
	off := NewAccountCache(0)
	off.flush(true)
	off.put(a, off.generation(), now)
	if cached(off, a.Account.ID, now) {
		t.Error("TTL 0 should disable the cache")
	}
}
