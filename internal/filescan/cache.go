package filescan

import (
	"container/list"
	"errors"
	"fmt"
	"io"
	"sync"
)

// CacheKey identifies a file's content well enough to reuse a scan: the
// same device, inode, size and modification time. Its fields match
// host.FileID so a caller can convert one into the other.
type CacheKey struct {
	Dev, Inode  uint64
	Size, Mtime int64
}

// DefaultCacheEntries bounds the in-memory cache; a node runs far fewer
// distinct executables than this.
const DefaultCacheEntries = 4096

// exeCache is an LRU of executable results plus the scans in flight, so
// that many processes of one executable cost one read.
type exeCache struct {
	mu       sync.Mutex
	max      int
	order    *list.List // front = most recently used; values are *cacheEntry
	items    map[CacheKey]*list.Element
	inflight map[CacheKey]*cacheCall
}

type cacheEntry struct {
	key CacheKey
	res ExeResult
}

type cacheCall struct {
	done chan struct{}
	res  ExeResult
	err  error
}

func newExeCache(max int) *exeCache {
	return &exeCache{max: max, order: list.New(), items: map[CacheKey]*list.Element{}, inflight: map[CacheKey]*cacheCall{}}
}

var errScanAborted = errors.New("filescan: scan aborted")

// ScanExecutableCached returns the cached result for key, or opens and scans
// the file and caches the result. hit is true when this call did no scan (a
// cached result, or one shared with a concurrent call for the same key).
// Failed scans are not cached.
func (e *Engine) ScanExecutableCached(key CacheKey, open func() (io.ReadCloser, error)) (res ExeResult, hit bool, err error) {
	c := e.cache
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
	cl := &cacheCall{done: make(chan struct{}), err: errScanAborted}
	c.inflight[key] = cl
	c.mu.Unlock()

	// The deferred part runs even if open panics, so callers waiting on
	// the same key are never stranded.
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
	cl.res, cl.err = e.scanOpen(open)
	return cl.res, false, cl.err
}

func (e *Engine) scanOpen(open func() (io.ReadCloser, error)) (ExeResult, error) {
	rc, err := open()
	if err != nil {
		return ExeResult{}, fmt.Errorf("filescan: open: %w", err)
	}
	res, err := e.ScanExecutable(rc)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("filescan: close: %w", cerr)
	}
	return res, err
}

// CacheLen returns how many results the in-memory cache holds.
func (e *Engine) CacheLen() int {
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	return e.cache.order.Len()
}
