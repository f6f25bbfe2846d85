package admission

import (
	"container/list"
	"strings"
	"sync"
	"time"

	"github.com/davyproject/davy/internal/finding"
)

// ImageVerdict is what a scan said about one image.
type ImageVerdict struct {
	// Ref is the reference scanned; Digest the manifest it resolved to.
	Ref      string
	Digest   string
	Verdict  finding.Verdict
	Score    int
	Complete bool
	// Evidence is a short account for messages: the strongest findings'
	// IDs and paths.
	Evidence []string
	// Err is set when the scan failed; Verdict is then empty.
	Err string
	At  time.Time
}

// VerdictCache holds image verdicts by key: a canonical reference
// ("registry/repo:tag", "registry/repo@sha256:...") or a bare digest
// ("sha256:...").
type VerdictCache interface {
	Get(key string) (ImageVerdict, bool)
	Add(v ImageVerdict, keys ...string)
	Len() int
}

// LRUOptions bound an LRU cache.
type LRUOptions struct {
	// MaxEntries is the number of keys kept (default 4096).
	MaxEntries int
	// TagTTL is how long a verdict found through a tag stays: tags move.
	// Digest keys name fixed content and go only when evicted. Default 1h.
	TagTTL time.Duration
	// ErrorTTL is how long a failed scan is remembered, so a broken image
	// is not pulled on every request. Default 1m.
	ErrorTTL time.Duration
}

// LRU is an in-memory VerdictCache, bounded by entry count, least recently
// used first out.
type LRU struct {
	opts  LRUOptions
	mu    sync.Mutex
	order *list.List // front: most recent; of *lruEntry
	index map[string]*list.Element
	now   func() time.Time
}

type lruEntry struct {
	key     string
	v       ImageVerdict
	expires time.Time // zero: never
}

// NewLRU makes an LRU with defaults filled in.
func NewLRU(o LRUOptions) *LRU {
	if o.MaxEntries <= 0 {
		o.MaxEntries = 4096
	}
	if o.TagTTL <= 0 {
		o.TagTTL = time.Hour
	}
	if o.ErrorTTL <= 0 {
		o.ErrorTTL = time.Minute
	}
	return &LRU{opts: o, order: list.New(), index: map[string]*list.Element{}, now: time.Now}
}

// Get returns a live entry and marks it recently used.
func (c *LRU) Get(key string) (ImageVerdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[key]
	if !ok {
		return ImageVerdict{}, false
	}
	e := el.Value.(*lruEntry)
	if !e.expires.IsZero() && c.now().After(e.expires) {
		c.order.Remove(el)
		delete(c.index, key)
		return ImageVerdict{}, false
	}
	c.order.MoveToFront(el)
	return e.v, true
}

// Add stores v under every key, evicting the least recently used entries.
func (c *LRU) Add(v ImageVerdict, keys ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, k := range keys {
		if k == "" {
			continue
		}
		var exp time.Time
		switch {
		case v.Err != "":
			exp = now.Add(c.opts.ErrorTTL)
		case !isDigestKey(k):
			exp = now.Add(c.opts.TagTTL)
		}
		if el, ok := c.index[k]; ok {
			e := el.Value.(*lruEntry)
			e.v, e.expires = v, exp
			c.order.MoveToFront(el)
			continue
		}
		c.index[k] = c.order.PushFront(&lruEntry{key: k, v: v, expires: exp})
		for c.order.Len() > c.opts.MaxEntries {
			last := c.order.Back()
			c.order.Remove(last)
			delete(c.index, last.Value.(*lruEntry).key)
		}
	}
}

// Len is the number of keys held, expired ones included until touched.
func (c *LRU) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// isDigestKey reports whether a key names content: a bare digest or a
// reference by digest.
func isDigestKey(k string) bool {
	return strings.HasPrefix(k, "sha256:") || strings.Contains(k, "@sha256:")
}
