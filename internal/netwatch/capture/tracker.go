package capture

import (
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for TrackerOptions' zero values.
const (
	DefaultMaxFlows       = 4096
	DefaultFirstBytes     = 4096
	DefaultFirstBytesWait = 5 * time.Second
	DefaultIdleTimeout    = 5 * time.Minute
	DefaultTimings        = 32
	DefaultMessageMax     = 1024
)

const (
	// sweepEvery is how often, in packet time, Add looks for flows to
	// expire, so that a busy capture needs no Expire calls.
	sweepEvery = time.Second
	// finLinger is how long a flow whose both sides sent FIN waits for
	// segments still missing from its first bytes (reordered, or
	// retransmitted) before it ends.
	finLinger = 2 * time.Second
	// freeBuffers bounds the reassembly buffers kept for reuse (4 MiB
	// at the default FirstBytes): enough for the flows a burst of
	// connections keeps open at once.
	freeBuffers = 1024
	// emptyTimeout ends a flow that carried no payload yet after this
	// long without a segment, well before IdleTimeout: unanswered SYNs
	// (scans, dead peers) would otherwise hold their slots for minutes.
	emptyTimeout = 30 * time.Second
)

// TrackerOptions configure a Tracker. The zero value is usable.
type TrackerOptions struct {
	// MaxFlows bounds the flows tracked at once; a new flow beyond it
	// evicts the least recently seen one (counted). 0 for
	// DefaultMaxFlows.
	MaxFlows int
	// FirstBytes is how many bytes of each direction are reassembled, 0
	// for DefaultFirstBytes. A flow holds at most 2×FirstBytes of buffer,
	// and only until OnFirstBytes.
	FirstBytes int
	// FirstBytesWait is how long after a flow's first payload
	// OnFirstBytes is called with what has arrived, if neither direction
	// is complete by then (a chatty protocol of small messages takes long
	// to fill FirstBytes); 0 for DefaultFirstBytesWait.
	FirstBytesWait time.Duration
	// IdleTimeout ends a flow with no segment for that long, 0 for
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Timings is how many small segments' times each direction keeps, 0
	// for DefaultTimings; MessageMax is the largest payload counted as a
	// small segment (a message rather than a bulk transfer's piece), 0
	// for DefaultMessageMax.
	Timings    int
	MessageMax int
	// OnFirstBytes is called once per flow with at least one byte, with
	// the reassembled first bytes of each direction (without gaps: up to
	// the first missing byte): when both directions are complete (full,
	// at a FIN, or at a byte the snap length cut), after FirstBytesWait,
	// or when the flow ends, whichever comes first. client and server are
	// valid only during the call.
	OnFirstBytes func(f *Flow, client, server []byte)
	// OnEnd is called when a flow stops being tracked, after
	// OnFirstBytes.
	OnEnd func(f *Flow, reason EndReason)
}

func (o TrackerOptions) withDefaults() TrackerOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxFlows, DefaultMaxFlows)
	def(&o.FirstBytes, DefaultFirstBytes)
	def(&o.Timings, DefaultTimings)
	def(&o.MessageMax, DefaultMessageMax)
	if o.FirstBytesWait <= 0 {
		o.FirstBytesWait = DefaultFirstBytesWait
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	return o
}

// TrackerStats counts a tracker's work since it was made.
type TrackerStats struct {
	// Flows were started; Active are tracked now; Ended stopped (every
	// reason, evictions included).
	Flows, Active, Ended uint64
	// Evicted flows ended early because MaxFlows were tracked.
	Evicted uint64
	// Untracked segments belonged to no tracked flow and could not start
	// one (a bare ACK, FIN or RST: the tail of a connection that ended,
	// or one whose start was missed).
	Untracked uint64
	// OtherInterface segments belonged to a flow tracked on another
	// interface: the same packet seen again on a bridge, a veth or a
	// bond's port. They are not counted in the flow.
	OtherInterface uint64
	// SpanOverflow segments were left out of reassembly because their
	// direction already had too many gaps.
	SpanOverflow uint64
}

// Tracker follows TCP flows from captured packets. Its methods may be
// called from any goroutine. The callbacks run with the tracker locked:
// they must not call its methods, except Stats.
type Tracker struct {
	opts TrackerOptions

	mu         sync.Mutex
	flows      map[flowKey]*Flow
	bufs       bufPool
	head, tail *Flow // most and least recently seen
	lastSweep  time.Time

	flowsN, ended, evicted, untracked, otherIf, overflow atomic.Uint64
	active                                               atomic.Int64
}

// NewTracker makes a tracker.
func NewTracker(opts TrackerOptions) *Tracker {
	opts = opts.withDefaults()
	return &Tracker{opts: opts, flows: map[flowKey]*Flow{}, bufs: bufPool{max: freeBuffers}}
}

// Stats returns the counters.
func (t *Tracker) Stats() TrackerStats {
	return TrackerStats{
		Flows: t.flowsN.Load(), Active: uint64(t.active.Load()), Ended: t.ended.Load(),
		Evicted: t.evicted.Load(), Untracked: t.untracked.Load(),
		OtherInterface: t.otherIf.Load(), SpanOverflow: t.overflow.Load(),
	}
}

// Add accounts one packet; anything but TCP is ignored. Time moves with
// the packets' timestamps: flows idle or waiting in packet time are dealt
// with here too.
func (t *Tracker) Add(p *Packet) {
	if p.Proto != TCP {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p.Time.Sub(t.lastSweep) >= sweepEvery {
		t.sweep(p.Time)
	}
	k := keyOf(p.Src, p.Dst)
	f := t.flows[k]
	if f != nil && p.TCPFlags&(SYN|ACK) == SYN && (f.Dir[0].FIN || f.Dir[1].FIN) && f.IfIndex == p.IfIndex {
		// A new connection on the 5-tuple of one that was closing.
		t.end(f, EndFIN)
		f = nil
	}
	switch {
	case f == nil && p.TCPFlags&RST == 0 && (p.TCPFlags&SYN != 0 || p.PayloadLen > 0):
		f = t.start(p, k)
	case f == nil:
		t.untracked.Add(1)
		return
	case f.IfIndex != p.IfIndex:
		t.otherIf.Add(1)
		return
	default:
		t.touch(f)
	}
	d := ServerToClient
	if p.Src == f.Client {
		d = ClientToServer
	}
	t.update(f, d, p)
	switch {
	case f.RST:
		t.end(f, EndRST)
	case f.Dir[0].FIN && f.Dir[1].FIN && (f.delivered || f.streams[0].done() && f.streams[1].done()):
		// Both sides closed and nothing the first bytes wait for is
		// missing: no need to linger.
		t.end(f, EndFIN)
	case !f.delivered && (f.streams[0].done() && f.streams[1].done() ||
		!f.firstPayload.IsZero() && p.Time.Sub(f.firstPayload) >= t.opts.FirstBytesWait):
		t.deliver(f)
	}
}

// start begins tracking the flow p opens, evicting the least recently seen
// flow if MaxFlows are tracked.
func (t *Tracker) start(p *Packet, k flowKey) *Flow {
	if len(t.flows) >= t.opts.MaxFlows && t.tail != nil {
		t.evicted.Add(1)
		t.end(t.tail, EndEvicted)
	}
	f := &Flow{
		Client: p.Src, Server: p.Dst, IfIndex: p.IfIndex,
		FirstSeen: p.Time, LastSeen: p.Time, key: k,
		streams: [2]stream{newStream(t.opts.FirstBytes, &t.bufs), newStream(t.opts.FirstBytes, &t.bufs)},
	}
	switch {
	case p.TCPFlags&(SYN|ACK) == SYN:
	case p.TCPFlags&(SYN|ACK) == SYN|ACK:
		f.Client, f.Server = p.Dst, p.Src
	default:
		// Picked up mid-stream: services listen on the lower port far
		// more often than clients connect from it.
		f.MidStream = true
		if p.Src.Port() < p.Dst.Port() {
			f.Client, f.Server = p.Dst, p.Src
		}
	}
	t.flows[k] = f
	t.flowsN.Add(1)
	t.active.Add(1)
	t.pushFront(f)
	return f
}

// update accounts p in f's direction d.
func (t *Tracker) update(f *Flow, d Dir, p *Packet) {
	ds, s := &f.Dir[d], &f.streams[d]
	ds.Packets++
	ds.Bytes += uint64(p.Len)
	if p.Time.After(f.LastSeen) {
		f.LastSeen = p.Time
	}
	seq := p.Seq
	if p.TCPFlags&SYN != 0 {
		seq++ // the SYN takes a sequence number; data starts after it
		s.setBase(seq)
	}
	if p.PayloadLen > 0 {
		ds.PayloadBytes += uint64(p.PayloadLen)
		if p.Truncated() {
			ds.Truncated++
		}
		fresh, conflicts, overflow := s.add(seq, p.Payload, p.PayloadLen, !f.delivered)
		if ds.FirstSegment == 0 && s.offset(seq) == 0 {
			ds.FirstSegment = p.PayloadLen
		}
		switch {
		case !fresh:
			ds.Retransmits++
		case p.PayloadLen <= t.opts.MessageMax:
			f.timings[d].push(t.opts.Timings, p.Time, p.PayloadLen)
		}
		if conflicts > 0 {
			ds.Conflicts++
		}
		if overflow {
			t.overflow.Add(1)
		}
		if f.firstPayload.IsZero() {
			f.firstPayload = p.Time
		}
	}
	if p.TCPFlags&FIN != 0 {
		ds.FIN = true
		s.setFIN(seq + uint32(p.PayloadLen))
		if f.Dir[0].FIN && f.Dir[1].FIN && f.finAt.IsZero() {
			f.finAt = p.Time
		}
	}
	if p.TCPFlags&RST != 0 {
		f.RST = true
	}
}

// deliver calls OnFirstBytes, once, if the flow carried any byte, and
// frees the reassembly buffers.
func (t *Tracker) deliver(f *Flow) {
	if f.delivered {
		return
	}
	f.delivered = true
	c, s := f.streams[0].bytes(), f.streams[1].bytes()
	if t.opts.OnFirstBytes != nil && (len(c) > 0 || len(s) > 0) {
		t.opts.OnFirstBytes(f, c, s)
	}
	f.streams[0].release()
	f.streams[1].release()
}

// end stops tracking f.
func (t *Tracker) end(f *Flow, why EndReason) {
	t.deliver(f)
	delete(t.flows, f.key)
	t.unlink(f)
	t.active.Add(-1)
	t.ended.Add(1)
	if t.opts.OnEnd != nil {
		t.opts.OnEnd(f, why)
	}
}

// Expire ends the flows idle at now and hands over the first bytes of
// those that waited long enough; Add does it as packets arrive, so this is
// for quiet times.
func (t *Tracker) Expire(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
}

// Flush ends every flow (EndFlush), as at shutdown.
func (t *Tracker) Flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.head != nil {
		t.end(t.head, EndFlush)
	}
}

// sweep ends idle flows (sooner those that never carried a byte) and
// closed ones past their linger, and delivers the first bytes of flows
// that waited long enough.
func (t *Tracker) sweep(now time.Time) {
	t.lastSweep = now
	for t.tail != nil && now.Sub(t.tail.LastSeen) >= t.opts.IdleTimeout {
		t.end(t.tail, EndIdle)
	}
	for f := t.head; f != nil; {
		next := f.next
		switch {
		case !f.finAt.IsZero() && now.Sub(f.finAt) >= finLinger:
			t.end(f, EndFIN)
		case f.firstPayload.IsZero() && now.Sub(f.LastSeen) >= emptyTimeout:
			t.end(f, EndIdle)
		case !f.delivered && !f.firstPayload.IsZero() && now.Sub(f.firstPayload) >= t.opts.FirstBytesWait:
			t.deliver(f)
		}
		f = next
	}
}

// The recency list: Add moves a flow to the front, eviction and idle
// expiry take from the back.

func (t *Tracker) pushFront(f *Flow) {
	f.prev, f.next = nil, t.head
	if t.head != nil {
		t.head.prev = f
	}
	t.head = f
	if t.tail == nil {
		t.tail = f
	}
}

func (t *Tracker) unlink(f *Flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		t.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		t.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

func (t *Tracker) touch(f *Flow) {
	if t.head != f {
		t.unlink(f)
		t.pushFront(f)
	}
}

// Each calls fn for every flow tracked now, with the tracker locked: fn
// must not keep the flow or call the tracker's methods, except Stats.
func (t *Tracker) Each(fn func(f *Flow)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for f := t.head; f != nil; f = f.next {
		fn(f)
	}
}
