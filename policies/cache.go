package policies

import (
	"hash/maphash"
	"sync"
)

// cacheShards splits the decision cache so concurrent decisions rarely contend on one lock.
const cacheShards = 16

// decisionCache is a bounded, sharded LRU of decisions keyed by cacheKey. The policies are
// compiled into the Engine and never change, and the key holds everything a decision reads, so
// an entry never goes stale; the bound only limits memory.
type decisionCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

// cacheShard is one mutex-protected LRU: a map into a doubly linked list, most recent first.
type cacheShard struct {
	mu      sync.Mutex
	cap     int
	entries map[string]*cacheEntry
	head    *cacheEntry // most recently used
	tail    *cacheEntry // least recently used, evicted first
}

type cacheEntry struct {
	key        string
	allowed    bool
	prev, next *cacheEntry
}

// newDecisionCache returns a cache holding about size decisions (at least one per shard).
func newDecisionCache(size int) *decisionCache {
	per := max((size+cacheShards-1)/cacheShards, 1)
	c := &decisionCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].cap = per
		c.shards[i].entries = make(map[string]*cacheEntry, per)
	}
	return c
}

func (c *decisionCache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// get returns the cached decision for key, if any, and marks it recently used.
func (c *decisionCache) get(key string) (allowed, ok bool) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok {
		return false, false
	}
	s.moveToFront(e)
	return e.allowed, true
}

// put records the decision for key, evicting the least recently used entry when full.
func (c *decisionCache) put(key string, allowed bool) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok {
		e.allowed = allowed
		s.moveToFront(e)
		return
	}
	var e *cacheEntry
	if len(s.entries) >= s.cap {
		e = s.tail // reuse the evicted entry
		s.unlink(e)
		delete(s.entries, e.key)
		*e = cacheEntry{}
	} else {
		e = &cacheEntry{}
	}
	e.key, e.allowed = key, allowed
	s.pushFront(e)
	s.entries[key] = e
}

// len returns the number of cached decisions.
func (c *decisionCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

func (s *cacheShard) moveToFront(e *cacheEntry) {
	if s.head == e {
		return
	}
	s.unlink(e)
	s.pushFront(e)
}

func (s *cacheShard) pushFront(e *cacheEntry) {
	e.prev, e.next = nil, s.head
	if s.head != nil {
		s.head.prev = e
	}
	s.head = e
	if s.tail == nil {
		s.tail = e
	}
}

func (s *cacheShard) unlink(e *cacheEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
