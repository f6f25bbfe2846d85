package alert

import (
	"container/list"
	"sync"
	"time"
)

// Defaults for DedupOptions.
const (
	DefaultCooldown = 10 * time.Minute
	DefaultMaxKeys  = 100_000
)

// DedupOptions configures a Deduper. Zero values take the defaults.
type DedupOptions struct {
	// Cooldown is how long after an alert for a key further occurrences
	// are only counted.
	Cooldown time.Duration
	// MaxKeys caps the keys remembered, so a flood of distinct workloads
	// cannot grow memory without bound.
	MaxKeys int
	// Now is the clock; tests inject a fake one. Cooldowns are kept in
	// order of their start, which assumes the clock does not go back.
	Now func() time.Time
}

// DedupStats are the Deduper's counters.
type DedupStats struct {
	Keys       int    // keys remembered now
	Suppressed uint64 // occurrences counted during a cooldown instead of sent
	Summaries  uint64 // alerts sent for counted occurrences by Expire, Drain or an eviction
	Evicted    uint64 // keys forgotten early to stay within MaxKeys
}

// Deduper sends the first alert for a (workload, rule) key at once and
// only counts the repeats during the cooldown that follows. When the
// cooldown ends, the count goes out in output_fields[FieldRepeats]: on a
// summary alert from Expire, or on the next occurrence if Expire has not
// run by then. It is safe for concurrent use.
type Deduper struct {
	mu       sync.Mutex
	cooldown time.Duration
	maxKeys  int
	now      func() time.Time
	entries  map[Key]*dedupEntry
	// order holds the entries by the start of their cooldown, oldest
	// first. Cooldowns all last the same, so it is also the order of their
	// ends: the front is the oldest expired entry if any entry has
	// expired, which makes eviction and Expire O(1) per entry.
	order *list.List
	stats DedupStats
}

type dedupEntry struct {
	key     Key
	until   time.Time // end of the current cooldown
	repeats int
	// last is the latest counted occurrence, which a summary alert shows;
	// it is kept only while repeats > 0, to keep idle keys small.
	last Alert
	elem *list.Element
}

// NewDeduper returns a Deduper with the options' defaults filled in.
func NewDeduper(opt DedupOptions) *Deduper {
	d := &Deduper{
		cooldown: opt.Cooldown,
		maxKeys:  opt.MaxKeys,
		now:      opt.Now,
		entries:  map[Key]*dedupEntry{},
		order:    list.New(),
	}
	if d.cooldown <= 0 {
		d.cooldown = DefaultCooldown
	}
	if d.maxKeys <= 0 {
		d.maxKeys = DefaultMaxKeys
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d
}

// keyOf is the alert's Key, or its rule alone when the caller set none, so
// that alerts without a workload are still deduplicated host-wide.
func keyOf(a Alert) Key {
	if a.Key == (Key{}) {
		return Key{Rule: a.Rule}
	}
	return a.Key
}

// Add records one occurrence and returns the alerts to send now: none
// during a cooldown, the alert itself otherwise (carrying the repeats of
// the cooldown that just ended, if any), preceded by a summary when making
// room for a new key evicted one with uncounted repeats.
func (d *Deduper) Add(a Alert) []Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	k := keyOf(a)
	if e, ok := d.entries[k]; ok {
		if now.Before(e.until) {
			e.repeats++
			e.last = a
			d.stats.Suppressed++
			return nil
		}
		if e.repeats > 0 {
			a.setField(FieldRepeats, e.repeats)
		}
		d.restart(e, now)
		return []Alert{a}
	}
	var out []Alert
	if len(d.entries) >= d.maxKeys {
		if s, ok := d.evictOldest(); ok {
			out = append(out, s)
		}
	}
	e := &dedupEntry{key: k, until: now.Add(d.cooldown)}
	e.elem = d.order.PushBack(e)
	d.entries[k] = e
	return append(out, a)
}

// Expire ends the cooldowns that are over: a key with counted repeats
// gets a summary alert (its latest occurrence with FieldRepeats) and a new
// cooldown, so a steady stream yields one alert per cooldown; a key
// without repeats is forgotten, so its next occurrence goes out at once.
// Call it periodically, well within the cooldown.
func (d *Deduper) Expire() []Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	var out []Alert
	for el := d.order.Front(); el != nil; el = d.order.Front() {
		e := el.Value.(*dedupEntry)
		if now.Before(e.until) {
			break
		}
		if e.repeats == 0 {
			d.remove(e)
			continue
		}
		out = append(out, d.summary(e))
		d.restart(e, now)
	}
	return out
}

// Drain returns a summary for every key with counted repeats, whether or
// not its cooldown is over, so that stopping the agent loses no counts.
func (d *Deduper) Drain() []Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Alert
	for el := d.order.Front(); el != nil; el = el.Next() {
		e := el.Value.(*dedupEntry)
		if e.repeats > 0 {
			out = append(out, d.summary(e))
			e.repeats, e.last = 0, Alert{}
		}
	}
	return out
}

// Stats returns the counters.
func (d *Deduper) Stats() DedupStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.Keys = len(d.entries)
	return s
}

// summary is the entry's latest occurrence carrying its repeat count.
func (d *Deduper) summary(e *dedupEntry) Alert {
	s := e.last
	s.setField(FieldRepeats, e.repeats)
	d.stats.Summaries++
	return s
}

// restart begins a new cooldown at now with nothing counted.
func (d *Deduper) restart(e *dedupEntry, now time.Time) {
	e.until = now.Add(d.cooldown)
	e.repeats, e.last = 0, Alert{}
	d.order.MoveToBack(e.elem)
}

// evictOldest forgets the front entry: the oldest expired one, or, when
// none has expired, the one whose cooldown ends first. Its counted
// repeats are returned as a summary rather than lost.
func (d *Deduper) evictOldest() (Alert, bool) {
	el := d.order.Front()
	if el == nil {
		return Alert{}, false
	}
	e := el.Value.(*dedupEntry)
	d.remove(e)
	d.stats.Evicted++
	if e.repeats == 0 {
		return Alert{}, false
	}
	return d.summary(e), true
}

func (d *Deduper) remove(e *dedupEntry) {
	d.order.Remove(e.elem)
	delete(d.entries, e.key)
}
