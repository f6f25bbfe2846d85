package agent

import (
	"sync"
	"time"

	"github.com/davyproject/davy/internal/host"
)

// Ancestors are looked up on every exec, and under process churn they are
// the same few (a shell, a container's init, the runtime's shim): each is
// read once and kept until its exit event, or for ancestorTTL in case that
// event was lost.
const (
	ancestorTTL    = 10 * time.Second
	maxAncestorMem = 16384
)

type ancestorCache struct {
	procFS string
	mu     sync.Mutex
	m      map[int]ancestorEntry
}

type ancestorEntry struct {
	a  host.Ancestor
	at time.Time
}

func newAncestorCache(procFS string) *ancestorCache {
	return &ancestorCache{procFS: procFS, m: map[int]ancestorEntry{}}
}

// lineage returns up to depth ancestors starting at ppid, parent first.
func (c *ancestorCache) lineage(ppid, depth int) []host.Ancestor {
	return host.Lineage(ppid, depth, c.get)
}

func (c *ancestorCache) get(pid int) (host.Ancestor, bool) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[pid]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < ancestorTTL {
		return e.a, true
	}
	a, ok := host.ReadAncestor(c.procFS, pid)
	if !ok {
		return host.Ancestor{}, false
	}
	c.mu.Lock()
	if len(c.m) >= maxAncestorMem {
		clear(c.m)
	}
	c.m[pid] = ancestorEntry{a: a, at: now}
	c.mu.Unlock()
	return a, true
}

// forget drops pid, which exited.
func (c *ancestorCache) forget(pid int) {
	c.mu.Lock()
	delete(c.m, pid)
	c.mu.Unlock()
}
