package agent

import "sync"

// maxTracked bounds the processes remembered between exec and exit: a
// node has tens of thousands of processes at most, and an exit event that
// was lost must not leak.
const maxTracked = 65536

// procCache maps a PID to what its exec showed.
type procCache struct {
	mu  sync.Mutex
	max int
	m   map[int]*procInfo
}

func newProcCache(max int) *procCache { return &procCache{max: max, m: map[int]*procInfo{}} }

func (c *procCache) put(pid int, info *procInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[pid]; !ok && len(c.m) >= c.max {
		for k := range c.m { // full: forget any one (exits were lost)
			delete(c.m, k)
			break
		}
	}
	c.m[pid] = info
}

func (c *procCache) get(pid int) *procInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[pid]
}

func (c *procCache) take(pid int) *procInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	info := c.m[pid]
	delete(c.m, pid)
	return info
}

func (c *procCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
