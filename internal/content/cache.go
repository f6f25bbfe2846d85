package content

import (
	"container/list"
	"errors"
	"fmt"
	"io"
	"sync"
)

// DefaultCacheEntries bounds the scan cache; a node runs far fewer distinct
// executables than this.
const DefaultCacheEntries = 4096

// CacheKey identifies a file's content well enough to reuse a scan: the same
// device, inode, size and modification time. Its fields match host.FileID so
// a caller can convert one into the other.
type CacheKey struct {
	Dev, Inode  uint64
	Size, Mtime int64
}

// cache is an LRU of finished scans plus the scans in flight, so that many
// processes of one executable cost one read.
type cache struct {
	mu       sync.Mutex
	max      int
	order    *list.List // front = most recently used; values are *cacheEntry
	items    map[CacheKey]*list.Element
	inflight map[CacheKey]*call
}

type cacheEntry struct {
	key CacheKey
	res Result
}

type call struct {
	done chan struct{}
	res  Result
	err  error
}

func newCache(max int) *cache {
	return &cache{max: max, order: list.New(), items: make(map[CacheKey]*list.Element), inflight: make(map[CacheKey]*call)}
}

// ScanCached returns the cached result for key, or opens and scans the file
// and caches the result. hit is true when no scan was done for this call
// (a cached result, or one shared with a concurrent call for the same key).
// Failed scans are not cached.
func (s *Scanner) ScanCached(key CacheKey, open func() (io.ReadCloser, error)) (Result, bool, error) {
	c := s.cache
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		res := el.Value.(*cacheEntry).res
		c.mu.Unlock()
		return res, true, nil
	}
	if cl, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-cl.done
		return cl.res, cl.err == nil, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[key] = cl
	c.mu.Unlock()

	s.fill(key, cl, open)
	return cl.res, false, cl.err
}

// fill runs the scan for cl and publishes it; the deferred part runs even if
// open panics, so callers waiting on the same key are never stranded.
func (s *Scanner) fill(key CacheKey, cl *call, open func() (io.ReadCloser, error)) {
	c := s.cache
	cl.err = errScanAborted
	defer func() {
		c.mu.Lock()
		delete(c.inflight, key)
		if cl.err == nil {
			c.items[key] = c.order.PushFront(&cacheEntry{key: key, res: cl.res})
			for c.order.Len() > c.max {
				old := c.order.Back()
				c.order.Remove(old)
				delete(c.items, old.Value.(*cacheEntry).key)
			}
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	cl.res, cl.err = s.scanOpen(open)
}

var errScanAborted = errors.New("content: scan aborted")

func (s *Scanner) scanOpen(open func() (io.ReadCloser, error)) (Result, error) {
	rc, err := open()
	if err != nil {
		return Result{}, fmt.Errorf("content: open: %w", err)
	}
	res, err := s.Scan(rc)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("content: close: %w", cerr)
	}
	return res, err
}

// CacheLen returns how many results the cache holds.
func (s *Scanner) CacheLen() int {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	return s.cache.order.Len()
}
