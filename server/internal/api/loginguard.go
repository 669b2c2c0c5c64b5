package api

import (
	"net"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// loginGuard limits guessing on the unauthenticated class-code routes (F12,
// issue 12 R2). It counts failures only — a wrong code, an unknown username —
// per connecting address and per username, in fixed windows; a success never
// counts, so a class of children signing in behind one school address at 9:00
// is never refused because of each other. An address or a username that has
// failed too often in the window is answered 429 until the window ends.
//
// The address is the connecting peer's, or — only when the request came
// through a configured trusted proxy (TRUSTED_PROXIES) — the client address
// that proxy put in X-Forwarded-For: a client's own X-Forwarded-For or
// X-Real-IP never changes its key.
type loginGuard struct {
	perAddress  int           // failures per address per window
	perUsername int           // failures per username per window
	window      time.Duration // the window
	now         func() time.Time

	mu     sync.Mutex
	counts map[string]*failures
}

type failures struct {
	n     int
	since time.Time
}

func newLoginGuard(perAddress, perUsername int, window time.Duration, now func() time.Time) *loginGuard {
	return &loginGuard{perAddress: perAddress, perUsername: perUsername, window: window, now: now,
		counts: map[string]*failures{}}
}

func addressKey(ip string) string    { return "addr:" + ip }
func usernameKey(name string) string { return "user:" + strings.ToLower(strings.TrimSpace(name)) }
func (g *loginGuard) limit(k string) int {
	if strings.HasPrefix(k, "user:") {
		return g.perUsername
	}
	return g.perAddress
}

// blocked reports whether any of keys has used up its failures.
func (g *loginGuard) blocked(keys ...string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	for _, k := range keys {
		if f := g.counts[k]; f != nil && now.Sub(f.since) < g.window && f.n >= g.limit(k) {
			return true
		}
	}
	return false
}

// fail counts one failure against each of keys.
func (g *loginGuard) fail(keys ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if len(g.counts) > 100_000 { // drop windows that have ended; bounded memory under a flood
		for k, f := range g.counts {
			if now.Sub(f.since) >= g.window {
				delete(g.counts, k)
			}
		}
	}
	for _, k := range keys {
		f := g.counts[k]
		if f == nil || now.Sub(f.since) >= g.window {
			f = &failures{since: now}
			g.counts[k] = f
		}
		f.n++
	}
}

// ipExtractor is the connecting address, or with trusted proxies the client
// address they forwarded (X-Forwarded-For, read right to left, skipping only
// addresses of the trusted ranges). Echo's defaults trust loopback and private
// ranges; here nothing is trusted unless configured.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
