package dns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// answer builds a packed DNS answer to a question for name with the given
// records (in zone-file syntax).
func answer(t testing.TB, name string, qtype uint16, rrs ...string) []byte {
	t.Helper()
	q := new(mdns.Msg)
	q.SetQuestion(mdns.Fqdn(name), qtype)
	m := new(mdns.Msg)
	m.SetReply(q)
	for _, s := range rrs {
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
	return b
}

// chainAnswer is a pool name behind two CNAMEs.
func chainAnswer(t testing.TB) []byte {
	return answer(t, "Pool.Test.Invalid", mdns.TypeA,
		"pool.test.invalid. 300 IN CNAME edge.pool.test.invalid.",
		"edge.pool.test.invalid. 120 IN CNAME a.edge.test.invalid.",
		"a.edge.test.invalid. 600 IN A 192.0.2.10",
		"a.edge.test.invalid. 600 IN A 192.0.2.11",
		// Not reachable from the question: ignored.
		"other.test.invalid. 600 IN A 192.0.2.99",
	)
}

func TestParseChain(t *testing.T) {
	r, err := Parse(chainAnswer(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pool.test.invalid", "edge.pool.test.invalid", "a.edge.test.invalid"}
	if r.Name != "pool.test.invalid" || r.Type != mdns.TypeA || len(r.Addrs) != 2 {
		t.Fatalf("%+v", r)
	}
	for i, a := range r.Addrs {
		if a.IP != netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", 10+i)) || !slices.Equal(a.Chain, want) || a.TTL != 120 {
			t.Errorf("addr %d: %+v", i, a)
		}
	}
}

func TestParseAAAAAndDirect(t *testing.T) {
	r, err := Parse(answer(t, "v6.test.invalid", mdns.TypeAAAA, "v6.test.invalid. 30 IN AAAA 2001:db8::5"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Addrs) != 1 || r.Addrs[0].IP != netip.MustParseAddr("2001:db8::5") ||
		!slices.Equal(r.Addrs[0].Chain, []string{"v6.test.invalid"}) || r.Addrs[0].TTL != 30 {
		t.Errorf("%+v", r)
	}
}

func TestParseCNAMELoop(t *testing.T) {
	r, err := Parse(answer(t, "a.test.invalid", mdns.TypeA,
		"a.test.invalid. 60 IN CNAME b.test.invalid.",
		"b.test.invalid. 60 IN CNAME a.test.invalid.",
		"b.test.invalid. 60 IN A 192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Addrs) != 1 || !slices.Equal(r.Addrs[0].Chain, []string{"a.test.invalid", "b.test.invalid"}) {
		t.Errorf("%+v", r.Addrs)
	}
}

func TestParseLongChainCut(t *testing.T) {
	var rrs []string
	for i := range 30 {
		rrs = append(rrs, fmt.Sprintf("n%d.test.invalid. 60 IN CNAME n%d.test.invalid.", i, i+1))
	}
	rrs = append(rrs, "n30.test.invalid. 60 IN A 192.0.2.1")
	r, err := Parse(answer(t, "n0.test.invalid", mdns.TypeA, rrs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Addrs) != 0 {
		t.Errorf("address past the chain limit kept: %+v", r.Addrs)
	}
}

func TestParseErrors(t *testing.T) {
	q := new(mdns.Msg)
	q.SetQuestion("pool.test.invalid.", mdns.TypeA)
	query, _ := q.Pack()
	if _, err := Parse(query); !errors.Is(err, ErrNotResponse) {
		t.Errorf("query: %v", err)
	}
	if _, err := Parse([]byte{1, 2, 3}); err == nil {
		t.Error("garbage decoded")
	}
	nx := new(mdns.Msg)
	nx.SetRcode(q, mdns.RcodeNameError)
	b, _ := nx.Pack()
	if r, err := Parse(b); err != nil || r.Rcode != mdns.RcodeNameError || len(r.Addrs) != 0 {
		t.Errorf("NXDOMAIN: %+v %v", r, err)
	}
}

func TestSplitTCP(t *testing.T) {
	a, b := chainAnswer(t), answer(t, "x.test.invalid", mdns.TypeA, "x.test.invalid. 60 IN A 192.0.2.3")
	var stream []byte
	for _, m := range [][]byte{a, b} {
		stream = binary.BigEndian.AppendUint16(stream, uint16(len(m)))
		stream = append(stream, m...)
	}
	whole := len(stream)
	stream = append(stream, 0, 50, 1, 2) // the start of a third message
	msgs, used := SplitTCP(stream)
	if len(msgs) != 2 || used != whole || string(msgs[1]) != string(b) {
		t.Errorf("%d messages, used %d of %d", len(msgs), used, len(stream))
	}
}

func newTestCache(opts CacheOptions, now *time.Time) *Cache {
	opts.Now = func() time.Time { return *now }
	return NewCache(opts)
}

func TestCacheNamesAndTTL(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := newTestCache(CacheOptions{MinTTL: 30 * time.Second, MaxTTL: time.Hour}, &now)
	if err := c.AddUDP("ns1", chainAnswer(t), now); err != nil {
		t.Fatal(err)
	}
	want := []string{"pool.test.invalid", "edge.pool.test.invalid", "a.edge.test.invalid"}
	ip := netip.MustParseAddr("192.0.2.11")
	if got := c.Names("ns1", ip); !slices.Equal(got, want) {
		t.Errorf("names %q", got)
	}
	// IPv4-mapped IPv6 finds the IPv4 entry.
	if got := c.Names("ns1", netip.AddrFrom16(ip.As16())); !slices.Equal(got, want) {
		t.Errorf("mapped: %q", got)
	}
	if got := c.Names("ns2", ip); got != nil {
		t.Errorf("another workload sees %q", got)
	}
	if got := c.Names("ns1", netip.MustParseAddr("192.0.2.99")); got != nil {
		t.Errorf("unrelated record kept: %q", got)
	}
	// The chain's TTL is 120 s.
	now = now.Add(119 * time.Second)
	if got := c.Names("ns1", ip); len(got) != 3 {
		t.Errorf("expired early: %q", got)
	}
	now = now.Add(time.Second)
	if got := c.Names("ns1", ip); got != nil {
		t.Errorf("not expired: %q", got)
	}
	if st := c.Stats(); st.Answers != 1 || st.Mappings != 2 {
		t.Errorf("%+v", st)
	}
}

func TestCacheTTLClamps(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := newTestCache(CacheOptions{MinTTL: time.Minute, MaxTTL: 10 * time.Minute}, &now)
	ip0, ip1 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	c.AddUDP("w", answer(t, "zero.test.invalid", mdns.TypeA, "zero.test.invalid. 0 IN A 192.0.2.1"), now)
	c.AddUDP("w", answer(t, "week.test.invalid", mdns.TypeA, "week.test.invalid. 604800 IN A 192.0.2.2"), now)
	if c.NamesAt("w", ip0, now.Add(59*time.Second)) == nil || c.NamesAt("w", ip0, now.Add(time.Minute)) != nil {
		t.Error("TTL 0 not raised to the minimum")
	}
	if c.NamesAt("w", ip1, now.Add(9*time.Minute)) == nil || c.NamesAt("w", ip1, now.Add(10*time.Minute)) != nil {
		t.Error("a week's TTL not cut to the maximum")
	}
}

func TestCacheLatestChainFirst(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := newTestCache(CacheOptions{}, &now)
	c.AddUDP("w", answer(t, "a.test.invalid", mdns.TypeA, "a.test.invalid. 60 IN CNAME cdn.test.invalid.", "cdn.test.invalid. 60 IN A 192.0.2.1"), now)
	now = now.Add(time.Second)
	c.AddUDP("w", answer(t, "b.test.invalid", mdns.TypeA, "b.test.invalid. 60 IN CNAME cdn.test.invalid.", "cdn.test.invalid. 60 IN A 192.0.2.1"), now)
	want := []string{"b.test.invalid", "cdn.test.invalid", "a.test.invalid"}
	if got := c.Names("w", netip.MustParseAddr("192.0.2.1")); !slices.Equal(got, want) {
		t.Errorf("%q", got)
	}
}

func TestCacheBounds(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := newTestCache(CacheOptions{MaxWorkloads: 2, MaxAddrs: 3, MaxNames: 2}, &now)
	for i := range 5 {
		c.AddUDP("w", answer(t, fmt.Sprintf("h%d.test.invalid", i), mdns.TypeA, fmt.Sprintf("h%d.test.invalid. 60 IN A 192.0.2.%d", i, i)), now)
	}
	for i := range 3 {
		c.AddUDP("shared", answer(t, fmt.Sprintf("s%d.test.invalid", i), mdns.TypeA, fmt.Sprintf("s%d.test.invalid. 60 IN A 192.0.2.200", i)), now)
	}
	c.AddUDP("third", answer(t, "t.test.invalid", mdns.TypeA, "t.test.invalid. 60 IN A 192.0.2.1"), now)
	st := c.Stats()
	if st.EvictedAddrs != 2 || st.EvictedNames != 1 || st.EvictedWorkloads != 1 {
		t.Errorf("%+v", st)
	}
	// "w" was the least recently answered workload.
	if c.Names("w", netip.MustParseAddr("192.0.2.4")) != nil || c.Names("third", netip.MustParseAddr("192.0.2.1")) == nil {
		t.Error("wrong workload evicted")
	}
	if got := c.Names("shared", netip.MustParseAddr("192.0.2.200")); !slices.Equal(got, []string{"s2.test.invalid", "s1.test.invalid"}) {
		t.Errorf("%q", got)
	}
}

func TestCacheAddTCP(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := newTestCache(CacheOptions{}, &now)
	m := answer(t, "tcp.test.invalid", mdns.TypeAAAA, "tcp.test.invalid. 60 IN AAAA 2001:db8::7")
	stream := binary.BigEndian.AppendUint16(nil, uint16(len(m)))
	stream = append(stream, m...)
	used, err := c.AddTCP("w", append(stream, 0), now)
	if err != nil || used != len(stream) {
		t.Fatalf("used %d err %v", used, err)
	}
	if got := c.Names("w", netip.MustParseAddr("2001:db8::7")); !slices.Equal(got, []string{"tcp.test.invalid"}) {
		t.Errorf("%q", got)
	}
}

// FuzzDNS feeds arbitrary bytes as a UDP answer and as a TCP stream, and
// checks the cache's bounds and the chains' shape.
func FuzzDNS(f *testing.F) {
	f.Add(chainAnswer(f))
	f.Add(answer(f, "v6.test.invalid", mdns.TypeAAAA, "v6.test.invalid. 30 IN AAAA 2001:db8::5"))
	f.Add(answer(f, "a.test.invalid", mdns.TypeA, "a.test.invalid. 60 IN CNAME a.test.invalid."))
	f.Add([]byte{0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c})
	f.Fuzz(func(t *testing.T, b []byte) {
		now := time.Unix(1700000000, 0)
		c := newTestCache(CacheOptions{MaxWorkloads: 2, MaxAddrs: 4, MaxNames: 3}, &now)
		r, err := Parse(b)
		if err == nil {
			for _, a := range r.Addrs {
				if len(a.Chain) == 0 || len(a.Chain) > MaxChain || a.Chain[0] != r.Name || !a.IP.IsValid() || a.IP.Is4In6() {
					t.Fatalf("bad address %+v of %q", a, r.Name)
				}
			}
			c.Add("w", r, now)
			for _, a := range r.Addrs {
				names := c.Names("w", a.IP)
				if len(names) == 0 || len(names) > 3 {
					t.Fatalf("names %q for %v", names, a.IP)
				}
			}
		}
		stream := binary.BigEndian.AppendUint16(nil, uint16(len(b)))
		used, _ := c.AddTCP("t", append(stream, b...), now)
		if len(b) <= 0xffff && used != len(b)+2 {
			t.Fatalf("used %d of %d", used, len(b)+2)
		}
		_, _ = c.AddTCP("t", b, now)
	})
}
