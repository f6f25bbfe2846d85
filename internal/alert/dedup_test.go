package alert

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is the Deduper's clock in tests: time moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestDeduper(maxKeys int) (*Deduper, *fakeClock) {
	clk := &fakeClock{t: t0}
	return NewDeduper(DedupOptions{Cooldown: 10 * time.Minute, MaxKeys: maxKeys, Now: clk.Now}), clk
}

func occurrence(workload, rule, output string) Alert {
	a := Alert{Rule: rule, Output: output, Priority: PriorityWarning, OutputFields: map[string]any{"proc.name": "xmrig"}}
	a.SetWorkload(workload)
	return a
}

func repeatsOf(t *testing.T, a Alert) (int, bool) {
	t.Helper()
	v, ok := a.OutputFields[FieldRepeats]
	if !ok {
		return 0, false
	}
	n, isInt := v.(int)
	if !isInt {
		t.Fatalf("%s is %T, want int", FieldRepeats, v)
	}
	return n, true
}

func TestDedupCooldownAndSummary(t *testing.T) {
	d, clk := newTestDeduper(0)
	out := d.Add(occurrence("c1", "miner", "first"))
	if len(out) != 1 || out[0].Output != "first" {
		t.Fatalf("first occurrence: %+v", out)
	}
	if _, ok := repeatsOf(t, out[0]); ok {
		t.Fatal("first alert carries a repeat count")
	}
	for i := range 5 {
		clk.Advance(time.Minute)
		if out := d.Add(occurrence("c1", "miner", fmt.Sprint("repeat ", i))); out != nil {
			t.Fatalf("repeat %d sent during the cooldown: %+v", i, out)
		}
	}
	// 5 minutes in: nothing due yet.
	if out := d.Expire(); out != nil {
		t.Fatalf("Expire before the cooldown ended: %+v", out)
	}
	clk.Advance(5 * time.Minute) // exactly the end of the cooldown
	out = d.Expire()
	if len(out) != 1 {
		t.Fatalf("Expire at the end of the cooldown = %d alerts, want 1", len(out))
	}
	if n, _ := repeatsOf(t, out[0]); n != 5 || out[0].Output != "repeat 4" {
		t.Fatalf("summary = %q with %d repeats, want the latest with 5", out[0].Output, n)
	}

	// The summary starts a new cooldown: a steady stream gives one alert
	// per cooldown.
	clk.Advance(time.Minute)
	if out := d.Add(occurrence("c1", "miner", "again")); out != nil {
		t.Fatalf("occurrence right after a summary was sent: %+v", out)
	}
	clk.Advance(9 * time.Minute)
	if out := d.Expire(); len(out) != 1 {
		t.Fatalf("second summary: %+v", out)
	} else if n, _ := repeatsOf(t, out[0]); n != 1 {
		t.Fatalf("second summary repeats = %d, want 1", n)
	}

	// A quiet cooldown forgets the key; the next occurrence goes out at
	// once and carries no count.
	clk.Advance(10 * time.Minute)
	if out := d.Expire(); out != nil {
		t.Fatalf("quiet cooldown produced %+v", out)
	}
	if s := d.Stats(); s.Keys != 0 {
		t.Fatalf("keys after a quiet cooldown = %d", s.Keys)
	}
	out = d.Add(occurrence("c1", "miner", "later"))
	if len(out) != 1 {
		t.Fatalf("occurrence after a quiet cooldown: %+v", out)
	}
	if _, ok := repeatsOf(t, out[0]); ok {
		t.Fatal("fresh alert carries a repeat count")
	}
	if s := d.Stats(); s.Suppressed != 6 || s.Summaries != 2 || s.Evicted != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestDedupNextOccurrenceCarriesRepeats(t *testing.T) {
	d, clk := newTestDeduper(0)
	d.Add(occurrence("c1", "miner", "first"))
	for range 3 {
		clk.Advance(time.Second)
		d.Add(occurrence("c1", "miner", "repeat"))
	}
	// No Expire ran; the first occurrence after the cooldown carries it.
	clk.Advance(10 * time.Minute)
	next := occurrence("c1", "miner", "next")
	shared := next.OutputFields
	out := d.Add(next)
	if len(out) != 1 || out[0].Output != "next" {
		t.Fatalf("occurrence after the cooldown: %+v", out)
	}
	if n, _ := repeatsOf(t, out[0]); n != 3 {
		t.Fatalf("repeats = %d, want 3", n)
	}
	if _, ok := shared[FieldRepeats]; ok {
		t.Fatal("the caller's output_fields map was modified")
	}
	// It started a new cooldown.
	clk.Advance(time.Second)
	if out := d.Add(occurrence("c1", "miner", "x")); out != nil {
		t.Fatalf("sent during the new cooldown: %+v", out)
	}
}

func TestDedupKeysAreWorkloadAndRule(t *testing.T) {
	d, _ := newTestDeduper(0)
	for _, a := range []Alert{
		occurrence("c1", "miner", ""),
		occurrence("c2", "miner", ""),
		occurrence("c1", "pool connection", ""),
		{Rule: "no workload"},
	} {
		if out := d.Add(a); len(out) != 1 {
			t.Fatalf("first occurrence of %+v was not sent", a.Key)
		}
	}
	if out := d.Add(Alert{Rule: "no workload"}); out != nil {
		t.Fatal("an alert without a key is not deduplicated by its rule")
	}
	if s := d.Stats(); s.Keys != 4 {
		t.Fatalf("keys = %d, want 4", s.Keys)
	}
}

func TestDedupKeyCapEvictsOldestExpiredFirst(t *testing.T) {
	d, clk := newTestDeduper(2)
	d.Add(occurrence("A", "r", "a")) // cooldown until 10m
	clk.Advance(time.Minute)
	d.Add(occurrence("B", "r", "b")) // until 11m
	clk.Advance(9 * time.Minute)
	d.Add(occurrence("A", "r", "a2")) // 10m: A's cooldown ended, sent, A now until 20m
	clk.Advance(time.Minute)
	// 11m: B has expired, A has not; C needs room.
	out := d.Add(occurrence("C", "r", "c"))
	if len(out) != 1 || out[0].Output != "c" {
		t.Fatalf("new key: %+v", out)
	}
	if s := d.Stats(); s.Keys != 2 || s.Evicted != 1 {
		t.Fatalf("stats = %+v", s)
	}
	clk.Advance(time.Second)
	if out := d.Add(occurrence("A", "r", "a3")); out != nil {
		t.Fatal("A was evicted instead of the expired B")
	}
}

func TestDedupKeyCapEvictionKeepsCounts(t *testing.T) {
	d, clk := newTestDeduper(2)
	d.Add(occurrence("A", "r", "a"))
	clk.Advance(time.Minute)
	d.Add(occurrence("B", "r", "b"))
	clk.Advance(time.Minute)
	d.Add(occurrence("A", "r", "a-repeat"))
	d.Add(occurrence("A", "r", "a-repeat2"))
	clk.Advance(time.Minute)
	// Nothing expired: the oldest (A) goes, and its two repeats go out as
	// a summary instead of being lost.
	out := d.Add(occurrence("C", "r", "c"))
	if len(out) != 2 || out[0].Output != "a-repeat2" || out[1].Output != "c" {
		t.Fatalf("eviction output: %+v", out)
	}
	if n, _ := repeatsOf(t, out[0]); n != 2 {
		t.Fatalf("evicted summary repeats = %d, want 2", n)
	}
	if s := d.Stats(); s.Evicted != 1 || s.Summaries != 1 || s.Keys != 2 {
		t.Fatalf("stats = %+v", s)
	}
	clk.Advance(time.Second)
	if out := d.Add(occurrence("B", "r", "b2")); out != nil {
		t.Fatal("B was evicted too")
	}
}

func TestDedupKeyCapBoundsMemory(t *testing.T) {
	d, clk := newTestDeduper(100)
	for i := range 1000 {
		clk.Advance(time.Millisecond)
		d.Add(occurrence(fmt.Sprint("w", i), "r", ""))
	}
	if s := d.Stats(); s.Keys != 100 || s.Evicted != 900 {
		t.Fatalf("stats = %+v, want 100 keys and 900 evictions", s)
	}
}

func TestDedupDrain(t *testing.T) {
	d, clk := newTestDeduper(0)
	d.Add(occurrence("A", "r", "a"))
	d.Add(occurrence("B", "r", "b"))
	clk.Advance(time.Second)
	d.Add(occurrence("A", "r", "a2"))
	out := d.Drain()
	if len(out) != 1 || out[0].Output != "a2" {
		t.Fatalf("Drain = %+v", out)
	}
	if out := d.Drain(); out != nil {
		t.Fatalf("second Drain = %+v", out)
	}
}

func TestDedupConcurrent(t *testing.T) {
	d, clk := newTestDeduper(50)
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := 0
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				n := len(d.Add(occurrence(fmt.Sprint("w", (g*7+i)%80), "r", "")))
				if i%50 == 0 {
					clk.Advance(time.Minute)
					n += len(d.Expire())
				}
				mu.Lock()
				sent += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if s := d.Stats(); s.Keys > 50 || sent == 0 {
		t.Fatalf("stats = %+v, sent %d", s, sent)
	}
}
