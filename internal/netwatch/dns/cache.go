package dns

import (
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for CacheOptions' zero values.
const (
	// DefaultMinTTL keeps an answer with a TTL of 0 or a few seconds
	// long enough for the connection that follows it to be attributed.
	DefaultMinTTL = time.Minute
	// DefaultMaxTTL bounds how long an answer is believed, whatever it
	// claims.
	DefaultMaxTTL       = 6 * time.Hour
	DefaultMaxWorkloads = 1024
	DefaultMaxAddrs     = 4096
	DefaultMaxNames     = 16
)

// CacheOptions configure a Cache. The zero value is usable.
type CacheOptions struct {
	// MinTTL and MaxTTL clamp each answer's TTL.
	MinTTL, MaxTTL time.Duration
	// MaxWorkloads bounds the workloads kept, MaxAddrs the addresses per
	// workload and MaxNames the names per address; beyond them the least
	// recently answered one is dropped (counted).
	MaxWorkloads, MaxAddrs, MaxNames int
	// Now is the clock Names reads, nil for time.Now. Answers carry their
	// own time (the packet's), which must be on the same clock.
	Now func() time.Time
}

func (o CacheOptions) withDefaults() CacheOptions {
	if o.MinTTL <= 0 {
		o.MinTTL = DefaultMinTTL
	}
	if o.MaxTTL <= 0 {
		o.MaxTTL = DefaultMaxTTL
	}
	o.MaxTTL = max(o.MaxTTL, o.MinTTL)
	if o.Now == nil {
		o.Now = time.Now
	}
	for _, v := range []struct {
		p *int
		d int
	}{{&o.MaxWorkloads, DefaultMaxWorkloads}, {&o.MaxAddrs, DefaultMaxAddrs}, {&o.MaxNames, DefaultMaxNames}} {
		if *v.p <= 0 {
			*v.p = v.d
		}
	}
	return o
}

// CacheStats counts a cache's work.
type CacheStats struct {
	// Answers were added; Errors could not be decoded (or were queries,
	// or had no single question) and were not.
	Answers, Errors uint64
	// Mappings is the number of address-to-chain mappings added.
	Mappings uint64
	// EvictedWorkloads, EvictedAddrs and EvictedNames were dropped for
	// room before their TTL ran out.
	EvictedWorkloads, EvictedAddrs, EvictedNames uint64
}

// Cache maps, per workload, addresses to the names they were given for.
// A workload key is the caller's: the network namespace's inode, a
// container ID, a client address. Its methods may be called from any
// goroutine.
type Cache struct {
	opts CacheOptions

	mu        sync.Mutex
	workloads map[string]*workload
	clock     uint64 // increments at each answer: the recency of entries

	answers, errs, mappings, evW, evA, evN atomic.Uint64
}

type workload struct {
	addrs  map[netip.Addr]*addrEntry
	used   uint64
	purged time.Time // when expired entries were last dropped
}

// purgeEvery spaces out the scans for expired entries that a full
// workload makes before evicting, so that a workload flooding answers
// pays one scan per answer, not two.
const purgeEvery = time.Minute

// addrEntry holds an address's names, the most recently answered first.
type addrEntry struct {
	names []nameEntry
	used  uint64
}

type nameEntry struct {
	name    string
	expires time.Time
}

// NewCache makes a cache.
func NewCache(opts CacheOptions) *Cache {
	return &Cache{opts: opts.withDefaults(), workloads: map[string]*workload{}}
}

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	return CacheStats{
		Answers: c.answers.Load(), Errors: c.errs.Load(), Mappings: c.mappings.Load(),
		EvictedWorkloads: c.evW.Load(), EvictedAddrs: c.evA.Load(), EvictedNames: c.evN.Load(),
	}
}

// AddUDP decodes a UDP payload from port 53 and adds the answer it holds,
// seen at now, to workload's entries.
func (c *Cache) AddUDP(workload string, payload []byte, now time.Time) error {
	return c.addMessage(workload, payload, now)
}

// addMessage decodes one message and adds its answer, counting failures.
func (c *Cache) addMessage(workload string, msg []byte, now time.Time) error {
	r, err := Parse(msg)
	if err != nil {
		c.errs.Add(1)
		return err
	}
	c.Add(workload, r, now)
	return nil
}

// AddTCP decodes the complete messages at the start of a DNS-over-TCP
// stream from port 53 (the server's side of the connection, such as the
// flow tracker's first bytes, or one segment's payload when it holds
// whole messages) and adds their answers. It returns the bytes it used;
// the rest is an incomplete message.
func (c *Cache) AddTCP(workload string, stream []byte, now time.Time) (int, error) {
	msgs, used := SplitTCP(stream)
	var errs []error
	for _, m := range msgs {
		if err := c.addMessage(workload, m, now); err != nil {
			errs = append(errs, err)
		}
	}
	return used, errors.Join(errs...)
}

// Add adds an answer seen at now to workload's entries.
func (c *Cache) Add(workload string, r *Response, now time.Time) {
	c.answers.Add(1)
	if len(r.Addrs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	w := c.workload(workload, now)
	w.used = c.clock
	for _, a := range r.Addrs {
		ttl := min(max(time.Duration(a.TTL)*time.Second, c.opts.MinTTL), c.opts.MaxTTL)
		e := c.entry(w, a.IP, now)
		e.used = c.clock
		// Insert the chain in order at the front, each name once, each
		// keeping the later of its expiries.
		expires := now.Add(ttl)
		for i := len(a.Chain) - 1; i >= 0; i-- {
			name := a.Chain[i]
			if j := slices.IndexFunc(e.names, func(n nameEntry) bool { return n.name == name }); j >= 0 {
				expires := later(expires, e.names[j].expires)
				e.names = slices.Delete(e.names, j, j+1)
				e.names = slices.Insert(e.names, 0, nameEntry{name, expires})
				continue
			}
			e.names = slices.Insert(e.names, 0, nameEntry{name, expires})
		}
		if over := len(e.names) - c.opts.MaxNames; over > 0 {
			e.names = e.names[:c.opts.MaxNames]
			c.evN.Add(uint64(over))
		}
		c.mappings.Add(1)
	}
}

// workload returns w's entries, making room for them if needed.
func (c *Cache) workload(key string, now time.Time) *workload {
	if w, ok := c.workloads[key]; ok {
		return w
	}
	if len(c.workloads) >= c.opts.MaxWorkloads {
		c.purge(now)
	}
	if len(c.workloads) >= c.opts.MaxWorkloads {
		oldest, ou := "", ^uint64(0)
		for k, w := range c.workloads {
			if w.used < ou {
				oldest, ou = k, w.used
			}
		}
		delete(c.workloads, oldest)
		c.evW.Add(1)
	}
	w := &workload{addrs: map[netip.Addr]*addrEntry{}}
	c.workloads[key] = w
	return w
}

// entry returns ip's entry in w, making room for it if needed.
func (c *Cache) entry(w *workload, ip netip.Addr, now time.Time) *addrEntry {
	if e, ok := w.addrs[ip]; ok {
		return e
	}
	if len(w.addrs) >= c.opts.MaxAddrs && now.Sub(w.purged) >= purgeEvery {
		purgeAddrs(w, now)
	}
	if len(w.addrs) >= c.opts.MaxAddrs {
		// A workload at its bound is flooding answers: the scan is paid by
		// the one entry it adds, and the bound is small.
		var oldest netip.Addr
		ou := ^uint64(0)
		for a, e := range w.addrs {
			if e.used < ou {
				oldest, ou = a, e.used
			}
		}
		delete(w.addrs, oldest)
		c.evA.Add(1)
	}
	e := &addrEntry{}
	w.addrs[ip] = e
	return e
}

// purge drops every expired entry, and workloads left empty.
func (c *Cache) purge(now time.Time) {
	for k, w := range c.workloads {
		purgeAddrs(w, now)
		if len(w.addrs) == 0 {
			delete(c.workloads, k)
		}
	}
}

func purgeAddrs(w *workload, now time.Time) {
	w.purged = now
	for a, e := range w.addrs {
		e.names = slices.DeleteFunc(e.names, func(n nameEntry) bool { return !now.Before(n.expires) })
		if len(e.names) == 0 {
			delete(w.addrs, a)
		}
	}
}

// Names returns the names ip was given for in workload's answers that are
// still valid, the most recent answer's chain first (the name the client
// asked for, then the CNAME targets); nil if none.
func (c *Cache) Names(workload string, ip netip.Addr) []string {
	return c.NamesAt(workload, ip, c.opts.Now())
}

// NamesAt is Names for answers valid at a given time, such as when a
// connection started.
func (c *Cache) NamesAt(workload string, ip netip.Addr, now time.Time) []string {
	ip = ip.Unmap()
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.workloads[workload]
	if !ok {
		return nil
	}
	e, ok := w.addrs[ip]
	if !ok {
		return nil
	}
	var out []string
	for _, n := range e.names {
		if now.Before(n.expires) {
			out = append(out, n.name)
		}
	}
	return out
}

// Expire drops the entries whose TTL ran out by now; lookups ignore them
// anyway, so this only frees memory.
func (c *Cache) Expire(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purge(now)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
