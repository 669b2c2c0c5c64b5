package api

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// AccountChannel is the channel on which Postgres announces account changes
// (migration 20261127000013_account_change_notify.sql): the payload is the
// changed account's id, or "*" for every account.
const AccountChannel = "huey_account_changed"

// FallbackPrincipalTTL is the most an account stays cached while no change
// listener is connected (not yet, or its connection was lost): the old
// within-5-seconds promise, kept when changes cannot be heard.
const FallbackPrincipalTTL = 5 * time.Second

// Listener timing: a silent connection is pinged after listenHeartbeat; a
// lost one is reconnected after a backoff doubling from listenMinBackoff to
// listenMaxBackoff.
const (
	listenHeartbeat   = 10 * time.Second
	listenPingTimeout = 5 * time.Second
	listenMinBackoff  = 100 * time.Millisecond
	listenMaxBackoff  = 30 * time.Second
)

// maxCachedAccounts bounds the principal cache.
const maxCachedAccounts = 50_000

// AccountCache keeps account id → the account's identity (the account, its
// principals and claims, derived once), so a warm read is one database round
// trip (DECISIONS §4) and principals are not rebuilt per request.
//
// Invariants: an entry is never served once a change to its account could
// have been missed.
//   - A write to an account in this process drops it at once (forget).
//   - While Listen holds a LISTEN connection, a change committed anywhere drops
//     the account here when its notification arrives, so entries live for
//     the full TTL (PRINCIPAL_CACHE_TTL).
//   - While no listener is connected, entries live at most
//     FallbackPrincipalTTL. The cache is flushed when the listener connects
//     (what was loaded before may have missed a change) and when it loses its
//     connection (changes are no longer heard).
//   - A load that raced an invalidation is not stored: put stores only when no
//     invalidation happened since the generation the loader read before it
//     queried the database.
type AccountCache struct {
	ttl time.Duration

	mu        sync.Mutex
	entries   map[uuid.UUID]cachedAccount
	listening bool
	gen       uint64 // bumped by every invalidation
	connects  int    // listener connections made, for tests and logs
}

type cachedAccount struct {
	ident   *Identity // shared read-only; without a token
	expires time.Time
}

// NewAccountCache caches accounts for ttl while a listener is connected
// (min(ttl, FallbackPrincipalTTL) otherwise); ttl 0 disables caching.
func NewAccountCache(ttl time.Duration) *AccountCache {
	return &AccountCache{ttl: ttl, entries: make(map[uuid.UUID]cachedAccount)}
}

func (c *AccountCache) get(id uuid.UUID, now time.Time) (*Identity, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.ident, true
}

// generation is read before loading an account, and handed to put.
func (c *AccountCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores the identity of an account loaded after generation gen was
// read, unless an invalidation happened since (the load may predate that
// change). ident is shared read-only from then on.
func (c *AccountCache) put(ident *Identity, gen uint64, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	ttl := c.ttl
	if !c.listening {
		ttl = min(ttl, FallbackPrincipalTTL)
	}
	if len(c.entries) >= maxCachedAccounts {
		for k, e := range c.entries { // drop expired entries, or any one when none has expired
			if !now.Before(e.expires) || len(c.entries) >= maxCachedAccounts {
				delete(c.entries, k)
			}
			if len(c.entries) < maxCachedAccounts/2 {
				break
			}
		}
	}
	c.entries[ident.Account.ID] = cachedAccount{ident: ident, expires: now.Add(ttl)}
}

// forget drops an account after a change to it.
func (c *AccountCache) forget(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, id)
}

// flush drops every account and records whether changes are now heard.
func (c *AccountCache) flush(listening bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
	c.listening = listening
	if listening {
		c.connects++
	}
}

// Listening reports whether a change listener is connected (entries then
// live for the full TTL).
func (c *AccountCache) Listening() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listening
}

// Connects reports how many times the listener has connected.
func (c *AccountCache) Connects() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connects
}

func (c *AccountCache) notified(payload string) {
	if payload == "*" {
		c.flush(true)
		return
	}
	id, err := uuid.Parse(payload)
	if err != nil { // not ours to interpret: drop everything rather than guess
		c.flush(true)
		return
	}
	c.forget(id)
}

// Listen holds one connection (cfg: the API login) listening on
// AccountChannel and drops each notified account, until ctx ends. When the
// connection cannot be made or is lost it flushes the cache, falls back to
// FallbackPrincipalTTL and reconnects with backoff.
//
// This connection is the one use of the database outside db.Read/db.InTx. It
// is safe: it runs LISTEN and pings only, reads no table and sets no claims
// (the API login holds no table privileges of its own), and nothing it
// receives reaches a response: a notification can only drop cache entries.
func (c *AccountCache) Listen(ctx context.Context, cfg *pgx.ConnConfig, logger *slog.Logger) {
	backoff := listenMinBackoff
	for {
		connected, err := c.listenOnce(ctx, cfg)
		c.flush(false)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = listenMinBackoff
		}
		logger.Warn("account change listener disconnected; principal cache falls back to a short TTL",
			slog.String("error", err.Error()), slog.Duration("retry_in", backoff),
			slog.Duration("fallback_ttl", FallbackPrincipalTTL))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listenOnce connects, listens and handles notifications until the
// connection fails or ctx ends; connected reports whether LISTEN succeeded.
func (c *AccountCache) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+AccountChannel); err != nil {
		return false, err
	}
	c.flush(true) // from here every change is heard; what was cached before may have missed one
	for {
		wctx, cancel := context.WithTimeout(ctx, listenHeartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			c.notified(n.Payload)
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Quiet: make sure the connection still works, so a silently
			// broken one is noticed within listenHeartbeat + listenPingTimeout.
			pctx, cancel := context.WithTimeout(ctx, listenPingTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}
