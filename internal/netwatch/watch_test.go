package netwatch

import (
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/davyproject/davy/internal/intel"
	"github.com/davyproject/davy/internal/netwatch/capture"
	"github.com/davyproject/davy/internal/netwatch/proto"
)

// conversation feeds a watcher the packets of one TCP connection: the
// handshake, then each line in turn from the client (even index) or the
// server (odd index), then the close.
type conversation struct {
	w              *Watcher
	ns             string
	client, server netip.AddrPort
	cseq, sseq     uint32
	at             time.Time
}

func (c *conversation) send(fromClient bool, flags capture.TCPFlags, payload string) {
	p := capture.Packet{Time: c.at, Proto: capture.TCP, TCPFlags: flags, Payload: []byte(payload), PayloadLen: len(payload), Len: 40 + len(payload)}
	if fromClient {
		p.Src, p.Dst, p.Seq, p.Ack = c.client, c.server, c.cseq, c.sseq
		c.cseq += uint32(len(payload))
	} else {
		p.Src, p.Dst, p.Seq, p.Ack = c.server, c.client, c.sseq, c.cseq
		c.sseq += uint32(len(payload))
	}
	if flags&(capture.SYN|capture.FIN) != 0 {
		if fromClient {
			c.cseq++
		} else {
			c.sseq++
		}
	}
	c.at = c.at.Add(time.Millisecond)
	c.w.Packet(c.ns, &p)
}

func (c *conversation) run(lines ...string) {
	c.send(true, capture.SYN, "")
	c.send(false, capture.SYN|capture.ACK, "")
	c.send(true, capture.ACK, "")
	for i, l := range lines {
		c.send(i%2 == 0, capture.ACK|capture.PSH, l)
	}
	c.send(true, capture.FIN|capture.ACK, "")
	c.send(false, capture.FIN|capture.ACK, "")
	c.send(true, capture.ACK, "")
}

// dnsAnswer feeds the watcher a UDP answer to client: name -> CNAME
// target -> ip.
func dnsAnswer(t *testing.T, w *Watcher, ns string, client netip.AddrPort, name, target string, ip netip.Addr) {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(name+".", mdns.TypeA)
	m.Response = true
	for _, s := range []string{name + ". 300 IN CNAME " + target + ".", target + ". 300 IN A " + ip.String()} {
		rr, err := mdns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	w.Packet(ns, &capture.Packet{Time: time.Now(), Proto: capture.UDP, Src: netip.MustParseAddrPort("192.0.2.53:53"), Dst: client, Payload: b, PayloadLen: len(b)})
}

// testIntel knows one made-up pool domain (under .invalid, which nothing
// resolves) besides the built-in ones.
func testIntel(t *testing.T) *intel.Intel {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pool-domains.tsv"), []byte("pool.test.invalid\ttest\ta pool of the tests\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := intel.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func newTestWatcher(t *testing.T, ns ...string) (*Watcher, func() []Observation) {
	t.Helper()
	var mu sync.Mutex
	var got []Observation
	w, err := New(Options{Netns: ns, Intel: testIntel(t), On: func(o Observation) {
		mu.Lock()
		got = append(got, o)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	return w, func() []Observation {
		mu.Lock()
		defer mu.Unlock()
		return append([]Observation(nil), got...)
	}
}

const (
	subscribe = `{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]}` + "\n"
	subResult = `{"id": 1, "result": [[["mining.set_difficulty", "b4b6693b72a50c7116db18d6497cac52"], ["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f"]], "08000002", 4], "error": null}` + "\n"
	authorize = `{"params": ["slush.miner1", "password"], "id": 2, "method": "mining.authorize"}` + "\n"
	authOK    = `{"error": null, "id": 2, "result": true}` + "\n"
)

func TestStratumOnAnyPortWithResolvedPoolName(t *testing.T) {
	w, got := newTestWatcher(t, "ns-a")
	client := netip.MustParseAddrPort("10.201.7.1:40000")
	server := netip.MustParseAddrPort("10.201.7.2:8443")
	dnsAnswer(t, w, "ns-a", netip.AddrPortFrom(client.Addr(), 5353), "eu.pool.test.invalid", "edge.cdn.test.invalid", server.Addr())
	c := &conversation{w: w, ns: "ns-a", client: client, server: server, cseq: 100, sseq: 9000, at: time.Now()}
	c.run(subscribe, subResult, authorize, authOK)
	obs := got()
	if len(obs) != 1 {
		t.Fatalf("observations = %+v, want one", obs)
	}
	o := obs[0]
	if o.Result.Protocol != proto.ProtoStratumV1 || o.Netns != "ns-a" || o.Client != client || o.Server != server {
		t.Errorf("observation %+v", o)
	}
	if o.Pool == "" || o.Name != "eu.pool.test.invalid" || len(o.Names) == 0 || o.Names[0] != "eu.pool.test.invalid" {
		t.Errorf("pool %q by name %q, names %v: want the resolved name matched", o.Pool, o.Name, o.Names)
	}
	if o.Result.Login != "slush.miner1" || o.Result.Agent != "cgminer/4.11.1" {
		t.Errorf("login %q agent %q", o.Result.Login, o.Result.Agent)
	}
}

// TestNamesAreKeptPerNamespace: a name resolved in one namespace says
// nothing of the same address in another.
func TestNamesAreKeptPerNamespace(t *testing.T) {
	w, got := newTestWatcher(t, "ns-a", "ns-b")
	client := netip.MustParseAddrPort("10.0.0.5:41000")
	server := netip.MustParseAddrPort("10.0.0.9:443")
	dnsAnswer(t, w, "ns-a", netip.AddrPortFrom(client.Addr(), 5353), "eu.pool.test.invalid", "x.test.invalid", server.Addr())
	if n := w.Names("ns-a", client.Addr(), server.Addr()); len(n) == 0 {
		t.Fatal("no names in ns-a")
	}
	if n := w.Names("ns-b", client.Addr(), server.Addr()); len(n) != 0 {
		t.Fatalf("names leaked into ns-b: %v", n)
	}
	// An encrypted flow in ns-b to that address: no mining protocol, no
	// name of its own, so nothing to report.
	c := &conversation{w: w, ns: "ns-b", client: client, server: server, cseq: 1, sseq: 1, at: time.Now()}
	c.run("\x17\x03\x03\x00\x10random-bytes....", "\x17\x03\x03\x00\x10more-random-byte")
	if obs := got(); len(obs) != 0 {
		t.Fatalf("observations %+v, want none", obs)
	}
}

func TestOrdinaryTrafficIsNotReported(t *testing.T) {
	w, got := newTestWatcher(t, "")
	c := &conversation{w: w, client: netip.MustParseAddrPort("127.0.0.1:50000"), server: netip.MustParseAddrPort("127.0.0.1:8080"), cseq: 7, sseq: 70, at: time.Now()}
	c.run("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n{\"method\": \"mining.subscribe\"}")
	if obs := got(); len(obs) != 0 {
		t.Fatalf("observations %+v, want none", obs)
	}
	if s := w.Stats(); s.Flows.Flows != 1 || s.Recognized != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestOptionsChecked(t *testing.T) {
	if _, err := New(Options{On: func(Observation) {}}); err == nil {
		t.Error("no intel accepted")
	}
	if _, err := New(Options{Intel: testIntel(t)}); err == nil {
		t.Error("no handler accepted")
	}
}

// TestResolvedNamesSpeakOnlyForUnnamedFlows: an address the workload
// resolved a pool name to may serve other things too (a CDN, a shared
// host). A flow that is plainly HTTP, or TLS naming another site, is not
// blamed on the pool; an unrecognised binary opening is.
func TestResolvedNamesSpeakOnlyForUnnamedFlows(t *testing.T) {
	w, got := newTestWatcher(t, "")
	client := netip.MustParseAddr("10.0.0.5")
	server := netip.MustParseAddr("10.0.0.9")
	dnsAnswer(t, w, "", netip.AddrPortFrom(client, 5353), "eu.pool.test.invalid", "cdn.test.invalid", server)
	for port, opening := range map[uint16]string{
		40001: "GET /status HTTP/1.1\r\nHost: www.test.invalid\r\n\r\n",
		40002: "\x00\x00\x00\x08\x04\xd2\x16\x2f",                                 // PostgreSQL SSLRequest
		40003: "\x8f\x1a\x92\xc4\x00\x19\xf7\x03\x5e\xa2\x11\x90\x7b\x6c\x02\xd9", // random bytes: an encrypted protocol
	} {
		c := &conversation{w: w, client: netip.AddrPortFrom(client, port), server: netip.AddrPortFrom(server, 8443), cseq: 1, sseq: 1, at: time.Now()}
		c.run(opening, "\x01\x02")
	}
	obs := got()
	if len(obs) != 1 || obs[0].Client.Port() != 40003 || obs[0].Name != "eu.pool.test.invalid" {
		t.Fatalf("observations %+v, want only the binary flow, by the resolved name", obs)
	}
}
