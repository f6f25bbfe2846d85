package capture

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	pdns "github.com/davyproject/davy/internal/netwatch/dns"
	"github.com/davyproject/davy/internal/testenv"
)

// watcher is what the network watcher will be, in small: a capture feeding
// the flow tracker and the passive DNS cache, with everything it saw kept
// for the test's checks.
type watcher struct {
	t        *testing.T
	c        *Capture
	tracker  *Tracker
	dns      *pdns.Cache
	workload string
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once

	mu      sync.Mutex
	packets map[[2]netip.AddrPort]*dirCount // by source and destination
	udp     []Packet                        // UDP packets, payload copied
	first   map[netip.AddrPort][2]string    // by client: first bytes
	ended   map[netip.AddrPort]Flow         // by client
	reasons map[netip.AddrPort]EndReason
}

type dirCount struct {
	packets, bytes, payload int
	outgoing                int
}

func startWatcher(t *testing.T, opts Options, workload string) *watcher {
	t.Helper()
	c, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return runWatcher(t, c, workload)
}

func runWatcher(t *testing.T, c *Capture, workload string) *watcher {
	w := &watcher{
		t: t, c: c, workload: workload,
		dns:     pdns.NewCache(pdns.CacheOptions{}),
		packets: map[[2]netip.AddrPort]*dirCount{},
		first:   map[netip.AddrPort][2]string{},
		ended:   map[netip.AddrPort]Flow{},
		reasons: map[netip.AddrPort]EndReason{},
		done:    make(chan error, 1),
	}
	w.tracker = NewTracker(TrackerOptions{
		// Long enough that first bytes come at the flows' ends here.
		FirstBytesWait: time.Minute,
		OnFirstBytes: func(f *Flow, client, server []byte) {
			w.first[f.Client] = [2]string{string(client), string(server)}
			if f.Server.Port() == 53 {
				if _, err := w.dns.AddTCP(w.workload, server, f.LastSeen); err != nil {
					t.Errorf("DNS over TCP: %v", err)
				}
			}
		},
		OnEnd: func(f *Flow, why EndReason) {
			w.ended[f.Client] = *f
			w.reasons[f.Client] = why
		},
	})
	var ctx context.Context
	ctx, w.cancel = context.WithCancel(context.Background())
	go func() { w.done <- c.Run(ctx, w.packet) }()
	t.Cleanup(func() { w.stop() })
	return w
}

func (w *watcher) packet(p Packet) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := [2]netip.AddrPort{p.Src, p.Dst}
	dc := w.packets[k]
	if dc == nil {
		dc = &dirCount{}
		w.packets[k] = dc
	}
	dc.packets++
	dc.bytes += p.Len
	dc.payload += p.PayloadLen
	if p.Outgoing {
		dc.outgoing++
	}
	switch p.Proto {
	case UDP:
		q := p
		q.Payload = bytes.Clone(p.Payload)
		w.udp = append(w.udp, q)
		if p.Src.Port() == 53 {
			if err := w.dns.AddUDP(w.workload, p.Payload, p.Time); err != nil {
				w.t.Errorf("DNS over UDP: %v", err)
			}
		}
	case TCP:
		w.tracker.Add(&p)
	}
}

// stop ends Run; it may be called more than once.
func (w *watcher) stop() {
	w.stopOnce.Do(func() {
		w.cancel()
		if err := <-w.done; err != nil {
			w.t.Errorf("Run: %v", err)
		}
	})
}

// flowEnded reports whether the flow from client ended.
func (w *watcher) flowEnded(client netip.AddrPort) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.ended[client]
	return ok
}

// checkFlow checks a finished flow from client: its first bytes and its
// counters against the packets the callback saw.
func (w *watcher) checkFlow(client, server netip.AddrPort, wantC, wantS string) Flow {
	t := w.t
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.ended[client]
	if !ok {
		t.Fatalf("no flow from %v", client)
	}
	if f.Server != server || f.MidStream || w.reasons[client] != EndFIN {
		t.Errorf("flow %v -> %v mid-stream %v ended %v", f.Client, f.Server, f.MidStream, w.reasons[client])
	}
	if got := w.first[client]; got[0] != wantC || got[1] != wantS {
		t.Errorf("first bytes\nclient %q, want %q\nserver %q, want %q", got[0], wantC, got[1], wantS)
	}
	for d, k := range [][2]netip.AddrPort{{client, server}, {server, client}} {
		dc, ds := w.packets[k], f.Dir[d]
		// The tracker saw every segment the callback saw but for the last
		// ACK, which comes after both FINs ended the flow.
		if dc == nil || ds.Packets < uint64(dc.packets-1) || ds.Packets > uint64(dc.packets) ||
			ds.PayloadBytes != uint64(dc.payload) || ds.Retransmits != 0 || ds.Conflicts != 0 || !ds.FIN {
			t.Errorf("%v: flow %+v, captured %+v", Dir(d), ds, dc)
		}
	}
	if f.Dir[0].PayloadBytes != uint64(len(wantC)) || f.Dir[1].PayloadBytes != uint64(len(wantS)) {
		t.Errorf("payload bytes %d/%d, want %d/%d", f.Dir[0].PayloadBytes, f.Dir[1].PayloadBytes, len(wantC), len(wantS))
	}
	return f
}

func TestCaptureInNamespace(t *testing.T) {
	n := testenv.NewNetnsPair(t)
	startDNS(t, n)
	srvHigh := startLineServer(t, n.PathB(), netip.AddrPortFrom(n.IPB, 0))
	srv443 := startLineServer(t, n.PathB(), netip.AddrPortFrom(n.IP6B, 443))

	// Capture in a, named as `ip netns` names it.
	w := startWatcher(t, Options{Netns: n.A}, "ns-a")

	// DNS: A over UDP, AAAA over TCP, from a.
	dnsQuery := func(network string, qtype uint16) {
		t.Helper()
		conn := dialIn(t, n.PathA(), network, netip.AddrPortFrom(n.IPB, 53))
		defer conn.Close()
		q := new(mdns.Msg)
		q.SetQuestion(poolName+".", qtype)
		r, _, err := (&mdns.Client{Net: network, Timeout: 5 * time.Second}).ExchangeWithConn(q, &mdns.Conn{Conn: conn})
		if err != nil || len(r.Answer) != 3 {
			t.Fatalf("%s query: %v %v", network, r, err)
		}
	}
	dnsQuery("udp", mdns.TypeA)
	dnsQuery("tcp", mdns.TypeAAAA)

	// Datagrams to another UDP port are not captured.
	u := dialIn(t, n.PathA(), "udp", netip.AddrPortFrom(n.IPB, 9999))
	for range 3 {
		_, _ = u.Write([]byte("not dns"))
	}
	u.Close()

	// Line protocols over IPv4 to a high port and IPv6 to 443.
	c1 := dialIn(t, n.PathA(), "tcp", srvHigh)
	client1 := netip.MustParseAddrPort(c1.LocalAddr().String())
	sentC1, sentS1 := talk(t, c1, `{"id":1,"method":"login"}`, `{"id":2,"method":"submit"}`, "bye")
	c2 := dialIn(t, n.PathA(), "tcp6", srv443)
	client2 := netip.MustParseAddrPort(c2.LocalAddr().String())
	sentC2, sentS2 := talk(t, c2, "GET / HTTP/1.0", "")

	waitFor(t, "both line flows to end", func() bool { return w.flowEnded(client1) && w.flowEnded(client2) })
	waitFor(t, "the AAAA answer over TCP", func() bool {
		return len(w.dns.Names("ns-a", n.IP6B)) > 0
	})
	w.stop()

	// Passive DNS: both answers decoded, chains followed back to the
	// name asked for.
	if got := w.dns.Names("ns-a", n.IPB); !slices.Equal(got, poolChain) {
		t.Errorf("names for %v: %q, want %q", n.IPB, got, poolChain)
	}
	if got := w.dns.Names("ns-a", n.IP6B); !slices.Equal(got, poolChain) {
		t.Errorf("names for %v: %q, want %q", n.IP6B, got, poolChain)
	}
	if got := w.dns.Names("ns-b", n.IPB); got != nil {
		t.Errorf("another workload sees %q", got)
	}

	f1 := w.checkFlow(client1, srvHigh, sentC1, sentS1)
	w.checkFlow(client2, srv443, sentC2, sentS2)
	// One small message each way per line: the cadence detector's input.
	if tm := f1.Timings(ClientToServer); len(tm) != 3 {
		t.Errorf("client timings %+v", tm)
	}
	if tm := f1.Timings(ServerToClient); len(tm) != 3 {
		t.Errorf("server timings %+v", tm)
	}
	// Seen from a, a's segments are outgoing.
	w.mu.Lock()
	if dc := w.packets[[2]netip.AddrPort{client1, srvHigh}]; dc.outgoing != dc.packets {
		t.Errorf("a's segments: %+v", dc)
	}
	if dc := w.packets[[2]netip.AddrPort{srvHigh, client1}]; dc.outgoing != 0 {
		t.Errorf("b's segments: %+v", dc)
	}
	for _, p := range w.udp {
		if p.Src.Port() != 53 {
			t.Errorf("UDP packet not from port 53 captured: %v -> %v", p.Src, p.Dst)
		}
	}
	if len(w.udp) != 1 {
		t.Errorf("%d UDP packets, want the one answer", len(w.udp))
	}
	w.mu.Unlock()

	st := w.c.Stats()
	if st.Dropped != 0 || st.DecodeErrors != 0 || st.Packets == 0 || st.Received < st.Packets {
		t.Errorf("stats %+v", st)
	}
	if ts := w.tracker.Stats(); ts.Flows != 3 || ts.Evicted != 0 || ts.OtherInterface != 0 {
		// Three TCP flows: the two line flows and DNS over TCP.
		t.Errorf("tracker stats %+v", ts)
	}
}

func TestCaptureOtherSideOneInterface(t *testing.T) {
	n := testenv.NewNetnsPair(t)
	srv := startLineServer(t, n.PathB(), netip.AddrPortFrom(n.IPB, 443))
	// Capture in b, by path, on its veth only.
	w := startWatcher(t, Options{Netns: n.PathB(), Interface: n.VethB}, "ns-b")
	c := dialIn(t, n.PathA(), "tcp4", srv)
	client := netip.MustParseAddrPort(c.LocalAddr().String())
	sentC, sentS := talk(t, c, "hello", "world")
	waitFor(t, "the flow to end", func() bool { return w.flowEnded(client) })
	w.stop()
	f := w.checkFlow(client, srv, sentC, sentS)
	var ifindex int
	testenv.InNetns(t, n.PathB(), func() error {
		ifi, err := net.InterfaceByName(n.VethB)
		if err == nil {
			ifindex = ifi.Index
		}
		return err
	})
	if f.IfIndex != ifindex {
		t.Errorf("flow on interface %d, want %d", f.IfIndex, ifindex)
	}
	// Seen from b, the server's segments are the outgoing ones.
	w.mu.Lock()
	defer w.mu.Unlock()
	if dc := w.packets[[2]netip.AddrPort{srv, client}]; dc.outgoing != dc.packets {
		t.Errorf("b's segments: %+v", dc)
	}
}

func TestCaptureLoopbackOnce(t *testing.T) {
	n := testenv.NewNetnsPair(t)
	srv := startLineServer(t, n.PathA(), netip.MustParseAddrPort("127.0.0.1:0"))
	// Open from a thread already in a, with Netns "": the caller's
	// namespace.
	var c *Capture
	testenv.InNetns(t, n.PathA(), func() error {
		var err error
		c, err = Open(Options{})
		return err
	})
	w := runWatcher(t, c, "lo")
	conn := dialIn(t, n.PathA(), "tcp", srv)
	client := netip.MustParseAddrPort(conn.LocalAddr().String())
	sentC, sentS := talk(t, conn, "one", "two", "three")
	waitFor(t, "the flow to end", func() bool { return w.flowEnded(client) })
	w.stop()
	// Loopback shows each packet twice to a capture; the filter keeps
	// one copy, so nothing looks retransmitted and counts match.
	w.checkFlow(client, srv, sentC, sentS)
}

func TestCaptureDropsCounted(t *testing.T) {
	n := testenv.NewNetnsPair(t)
	srv := startLineServer(t, n.PathA(), netip.MustParseAddrPort("127.0.0.1:0"))
	// A ring of two pages that nobody reads while traffic flows.
	c, err := Open(Options{Netns: n.A, RingBlocks: 2, BlockSize: 4096, SnapLen: 64, DNSSnapLen: 512})
	if err != nil {
		t.Fatal(err)
	}
	conn := dialIn(t, n.PathA(), "tcp", srv)
	lines := make([]string, 200)
	for i := range lines {
		lines[i] = "a line long enough to take some room in the ring"
	}
	talk(t, conn, lines...)
	time.Sleep(3 * DefaultBlockTimeout)
	before := c.Stats()
	if before.Dropped == 0 || before.Freezes == 0 || before.Packets != 0 {
		t.Fatalf("stats with a full ring: %+v", before)
	}
	// Reading the ring delivers what it kept; the books balance.
	w := runWatcher(t, c, "lo")
	waitFor(t, "the ring to drain", func() bool {
		s := c.Stats()
		return s.Packets+s.DecodeErrors+s.Dropped == s.Received
	})
	w.stop()
	st := c.Stats()
	if st.Dropped < before.Dropped || st.Packets == 0 || st.Received != st.Dropped+st.Packets+st.DecodeErrors {
		t.Errorf("stats after draining: %+v", st)
	}
	t.Logf("%+v", st)
}

func TestCaptureLifecycle(t *testing.T) {
	n := testenv.NewNetnsPair(t)
	c, err := Open(Options{Netns: n.PathA()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background(), func(Packet) {}) }()
	waitFor(t, "Run to start", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.state == stateRunning
	})
	if err := c.Run(context.Background(), func(Packet) {}); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop Run")
	}
	if err := c.Run(context.Background(), func(Packet) {}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	n := testenv.NewNetnsPair(t)
	for _, o := range []Options{
		{Netns: "davytest-no-such-namespace"},
		{Netns: n.A, Interface: "no-such-if0"},
		{BlockSize: 1000},
		{BlockSize: 4096, DNSSnapLen: 8192},
		{SnapLen: -1},
	} {
		if c, err := Open(o); err == nil {
			c.Close()
			t.Errorf("%+v: opened", o)
		}
	}
}
