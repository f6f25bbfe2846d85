package capture

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// conv plays a TCP conversation between a client and a server into a
// tracker, keeping the sequence numbers.
type conv struct {
	t              *testing.T
	tr             *Tracker
	client, server netip.AddrPort
	cseq, sseq     uint32
	now            time.Time
	ifindex        int
}

func newConv(t *testing.T, tr *Tracker, client, server string) *conv {
	return &conv{t: t, tr: tr, client: ap(client), server: ap(server), cseq: 1000, sseq: 0xfffffff0,
		now: time.Unix(1700000000, 0), ifindex: 2}
}

// send plays one segment; fromClient picks the direction. The segment's
// sequence number is the sender's current one plus off, and the sender's
// number advances only when advance is set.
func (c *conv) seg(fromClient bool, flags TCPFlags, off int, data string, advance bool) {
	c.now = c.now.Add(10 * time.Millisecond)
	s := seg{src: c.client, dst: c.server, seq: c.cseq + uint32(off), ack: c.sseq, flags: flags, payload: []byte(data)}
	if !fromClient {
		s = seg{src: c.server, dst: c.client, seq: c.sseq + uint32(off), ack: c.cseq, flags: flags, payload: []byte(data)}
	}
	p := packet(s, c.now)
	p.IfIndex = c.ifindex
	c.tr.Add(&p)
	if advance {
		n := uint32(len(data))
		if flags&(SYN|FIN) != 0 {
			n++
		}
		if fromClient {
			c.cseq += n
		} else {
			c.sseq += n
		}
	}
}

func (c *conv) handshake() {
	c.seg(true, SYN, 0, "", true)
	c.seg(false, SYN|ACK, 0, "", true)
	c.seg(true, ACK, 0, "", false)
}

func (c *conv) close() {
	c.seg(true, FIN|ACK, 0, "", true)
	c.seg(false, FIN|ACK, 0, "", true)
	c.seg(true, ACK, 0, "", false)
}

// recorder keeps what the callbacks saw.
type recorder struct {
	first []string // "client|server"
	ends  []EndReason
	flows []*Flow
}

func (r *recorder) opts(o TrackerOptions) TrackerOptions {
	o.OnFirstBytes = func(f *Flow, c, s []byte) { r.first = append(r.first, string(c)+"|"+string(s)) }
	o.OnEnd = func(f *Flow, why EndReason) { r.ends = append(r.ends, why); r.flows = append(r.flows, f) }
	return o
}

func TestTrackerConversation(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{}))
	c := newConv(t, tr, "192.0.2.1:40000", "198.51.100.7:3333")
	c.handshake()
	c.seg(true, PSH|ACK, 0, "login\n", true)
	c.seg(false, ACK, 0, "", false)
	// The server's two lines arrive in the wrong order, then the second
	// one again (a retransmission).
	c.seg(false, PSH|ACK, 3, "job\n", false)
	c.seg(false, PSH|ACK, 0, "ok\n", false)
	c.seg(false, PSH|ACK, 3, "job\n", true)
	c.sseq += 3
	c.seg(true, PSH|ACK, 0, "submit\n", true)
	if len(r.first) != 0 {
		t.Fatalf("first bytes before the end: %q", r.first)
	}
	c.close()
	if len(r.first) != 1 || r.first[0] != "login\nsubmit\n|ok\njob\n" {
		t.Errorf("first bytes %q", r.first)
	}
	if len(r.ends) != 1 || r.ends[0] != EndFIN {
		t.Fatalf("ends %v", r.ends)
	}
	f := r.flows[0]
	if f.Client != c.client || f.Server != c.server || f.MidStream || f.RST {
		t.Errorf("flow %+v", f)
	}
	cs, sc := f.Dir[ClientToServer], f.Dir[ServerToClient]
	// Client: SYN, ACK, login, submit, FIN (the last ACK comes after the
	// flow ended). Server: SYN-ACK, ACK, job, ok, job again, FIN.
	if cs.Packets != 5 || sc.Packets != 6 || cs.PayloadBytes != 13 || sc.PayloadBytes != 11 ||
		cs.Retransmits != 0 || sc.Retransmits != 2 || !cs.FIN || !sc.FIN || cs.Conflicts != 0 ||
		cs.FirstSegment != 6 || sc.FirstSegment != 3 {
		t.Errorf("client %+v\nserver %+v", cs, sc)
	}
	// "ok" arrived after "job", below the highest byte seen: it counts as
	// a retransmission in sequence space and is not a message timing.
	if tm := f.Timings(ClientToServer); len(tm) != 2 || tm[0].Len != 6 || tm[1].Len != 7 || !tm[0].At.Before(tm[1].At) {
		t.Errorf("client timings %+v", tm)
	}
	if tm := f.Timings(ServerToClient); len(tm) != 1 || tm[0].Len != 4 {
		t.Errorf("server timings %+v", tm)
	}
	if st := tr.Stats(); st.Flows != 1 || st.Active != 0 || st.Ended != 1 || st.Untracked != 1 {
		// The final ACK comes after the flow ended.
		t.Errorf("stats %+v", st)
	}
}

func TestTrackerRST(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{}))
	c := newConv(t, tr, "[2001:db8::1]:40000", "[2001:db8::2]:443")
	c.handshake()
	c.seg(true, PSH|ACK, 0, "hi", true)
	c.seg(false, RST, 0, "", false)
	if len(r.ends) != 1 || r.ends[0] != EndRST || r.first[0] != "hi|" || !r.flows[0].RST {
		t.Errorf("ends %v first %q", r.ends, r.first)
	}
}

func TestTrackerMidStream(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{}))
	// The first segment seen goes from the server (lower port) to the
	// client.
	c := newConv(t, tr, "192.0.2.1:40000", "192.0.2.2:3333")
	c.seg(false, PSH|ACK, 0, "job\n", true)
	c.seg(true, PSH|ACK, 0, "share\n", true)
	tr.Flush()
	if len(r.flows) != 1 {
		t.Fatalf("flows %d", len(r.flows))
	}
	f := r.flows[0]
	if !f.MidStream || f.Client != c.client || f.Server != c.server || r.ends[0] != EndFlush || r.first[0] != "share\n|job\n" {
		t.Errorf("flow %+v ends %v first %q", f, r.ends, r.first)
	}
}

func TestTrackerEviction(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{MaxFlows: 3}))
	for i := range 5 {
		c := newConv(t, tr, fmt.Sprintf("192.0.2.1:%d", 40000+i), "192.0.2.2:443")
		c.now = c.now.Add(time.Duration(i) * time.Millisecond)
		c.handshake()
		c.seg(true, PSH|ACK, 0, fmt.Sprint(i), true)
	}
	st := tr.Stats()
	if st.Flows != 5 || st.Active != 3 || st.Evicted != 2 || len(r.ends) != 2 {
		t.Fatalf("stats %+v ends %v", st, r.ends)
	}
	// The oldest two went, with their first bytes.
	if r.first[0] != "0|" || r.first[1] != "1|" || r.ends[0] != EndEvicted {
		t.Errorf("first %q ends %v", r.first, r.ends)
	}
}

func TestTrackerIdleAndWait(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{FirstBytesWait: 3 * time.Second, IdleTimeout: time.Minute}))
	c := newConv(t, tr, "192.0.2.1:40000", "192.0.2.2:3333")
	c.handshake()
	c.seg(true, PSH|ACK, 0, "login\n", true)
	c.seg(false, PSH|ACK, 0, "ok\n", true)
	tr.Expire(c.now.Add(2 * time.Second))
	if len(r.first) != 0 {
		t.Fatalf("delivered before the wait: %q", r.first)
	}
	tr.Expire(c.now.Add(4 * time.Second))
	if len(r.first) != 1 || r.first[0] != "login\n|ok\n" || len(r.ends) != 0 {
		t.Fatalf("first %q ends %v", r.first, r.ends)
	}
	// Later bytes still count but are no longer collected.
	c.seg(true, PSH|ACK, 0, "more\n", true)
	tr.Expire(c.now.Add(2 * time.Minute))
	if len(r.ends) != 1 || r.ends[0] != EndIdle || len(r.first) != 1 {
		t.Errorf("ends %v first %q", r.ends, r.first)
	}
	if r.flows[0].Dir[ClientToServer].PayloadBytes != 11 {
		t.Errorf("client %+v", r.flows[0].Dir[ClientToServer])
	}
}

func TestTrackerDeliversWhenComplete(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{FirstBytes: 8}))
	c := newConv(t, tr, "192.0.2.1:40000", "192.0.2.2:443")
	c.handshake()
	c.seg(true, PSH|ACK, 0, "0123456789", true)
	if len(r.first) != 0 {
		t.Fatal("delivered with one direction complete")
	}
	// The server's answer is cut by the snap length: that direction is
	// complete too.
	p := packet(seg{src: c.server, dst: c.client, seq: c.sseq, ack: c.cseq, flags: ACK, payload: []byte("abc"), wire: 1400}, c.now)
	tr.Add(&p)
	if len(r.first) != 1 || r.first[0] != "01234567|abc" {
		t.Errorf("first %q", r.first)
	}
	if st := tr.Stats(); st.Active != 1 {
		t.Errorf("stats %+v", st)
	}
	// Once the first bytes are handed over, both FINs end the flow at
	// once.
	c.sseq += 1400
	c.close()
	if len(r.ends) != 1 || r.ends[0] != EndFIN || len(r.first) != 1 {
		t.Errorf("ends %v first %q", r.ends, r.first)
	}
}

func TestTrackerOtherInterface(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{}))
	c := newConv(t, tr, "192.0.2.1:40000", "192.0.2.2:443")
	c.handshake()
	c.ifindex = 7 // the same segments seen again on a bridge
	c.seg(true, PSH|ACK, 0, "dup", false)
	c.ifindex = 2
	c.seg(true, PSH|ACK, 0, "dup", true)
	tr.Flush()
	f := r.flows[0]
	if f.Dir[ClientToServer].Packets != 3 || f.Dir[ClientToServer].Retransmits != 0 || tr.Stats().OtherInterface != 1 {
		t.Errorf("client %+v stats %+v", f.Dir[ClientToServer], tr.Stats())
	}
}

func TestTrackerTimingsRing(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{Timings: 4, MessageMax: 10}))
	c := newConv(t, tr, "192.0.2.1:40000", "192.0.2.2:3333")
	c.handshake()
	for i := range 6 {
		c.seg(true, PSH|ACK, 0, fmt.Sprintf("m%d", i), true)
	}
	c.seg(true, PSH|ACK, 0, "a bulk piece, not a message", true)
	tr.Flush()
	tm := r.flows[0].Timings(ClientToServer)
	if len(tm) != 4 {
		t.Fatalf("timings %+v", tm)
	}
	for i := 1; i < len(tm); i++ {
		if tm[i].At.Sub(tm[i-1].At) != 10*time.Millisecond || tm[i].Len != 2 {
			t.Errorf("timings %+v", tm)
		}
	}
}

func TestTrackerIgnoresUDP(t *testing.T) {
	tr := NewTracker(TrackerOptions{})
	p := packet(seg{src: ap("192.0.2.2:53"), dst: ap("192.0.2.1:4000"), proto: UDP, payload: []byte("x")}, time.Now())
	tr.Add(&p)
	if st := tr.Stats(); st.Flows != 0 || st.Untracked != 0 {
		t.Errorf("%+v", st)
	}
}

func TestTrackerPortReuse(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{}))
	c := newConv(t, tr, "192.0.2.1:40000", "192.0.2.2:443")
	c.handshake()
	c.seg(true, PSH|ACK, 0, "first", true)
	// Only the client closes; then a new connection reuses the tuple.
	c.seg(true, FIN|ACK, 0, "", true)
	c.cseq += 100000
	c.handshake()
	c.seg(true, PSH|ACK, 0, "second", true)
	tr.Flush()
	if len(r.first) != 2 || r.first[0] != "first|" || r.first[1] != "second|" || r.ends[0] != EndFIN {
		t.Errorf("first %q ends %v", r.first, r.ends)
	}
}

func TestTrackerEmptyFlowsExpireSooner(t *testing.T) {
	var r recorder
	tr := NewTracker(r.opts(TrackerOptions{IdleTimeout: time.Hour}))
	scan := newConv(t, tr, "192.0.2.1:40000", "192.0.2.2:22")
	scan.seg(true, SYN, 0, "", true)
	chat := newConv(t, tr, "192.0.2.1:40001", "192.0.2.2:3333")
	chat.handshake()
	chat.seg(true, PSH|ACK, 0, "hi", true)
	tr.Expire(chat.now.Add(emptyTimeout))
	if len(r.ends) != 1 || r.ends[0] != EndIdle || r.flows[0].Server != scan.server {
		t.Errorf("ends %v", r.ends)
	}
	if st := tr.Stats(); st.Active != 1 {
		t.Errorf("%+v", st)
	}
}
