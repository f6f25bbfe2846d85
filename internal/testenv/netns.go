package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/davyproject/davy/internal/netns"
)

// NetnsPair is two network namespaces the test made, a and b, joined by a
// veth pair: a has 10.201.X.1 and 2001:db8:c9:X::1, b has .2 and ::2. All
// the tests' traffic stays inside them.
type NetnsPair struct {
	A, B         string // `ip netns` names
	VethA, VethB string
	IPA, IPB     netip.Addr
	IP6A, IP6B   netip.Addr
}

// PathA is namespace a's path.
func (n *NetnsPair) PathA() string { return "/run/netns/" + n.A }

// PathB is namespace b's path.
func (n *NetnsPair) PathB() string { return "/run/netns/" + n.B }

// NewNetnsPair makes the namespaces and the veth pair, and removes them (the
// veth goes with its namespaces) when the test ends, passed or not.
func NewNetnsPair(t testing.TB) *NetnsPair {
	t.Helper()
	NeedRoot(t)
	NeedCommand(t, "ip")
	var r [3]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(r[:])
	x, err := rand.Int(rand.Reader, big.NewInt(250))
	if err != nil {
		t.Fatal(err)
	}
	sub := int(x.Int64()) + 2
	n := &NetnsPair{
		A: "davytest-" + id + "-a", B: "davytest-" + id + "-b",
		VethA: "dvt" + id + "a", VethB: "dvt" + id + "b",
		IPA:  netip.MustParseAddr(fmt.Sprintf("10.201.%d.1", sub)),
		IPB:  netip.MustParseAddr(fmt.Sprintf("10.201.%d.2", sub)),
		IP6A: netip.MustParseAddr(fmt.Sprintf("2001:db8:c9:%x::1", sub)),
		IP6B: netip.MustParseAddr(fmt.Sprintf("2001:db8:c9:%x::2", sub)),
	}
	for _, ns := range []string{n.A, n.B} {
		ipCmd(t, "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("removing namespace %s: %v: %s", ns, err, out)
			}
		})
	}
	// Made directly inside the namespaces: nothing appears in the host's.
	ipCmd(t, "link", "add", n.VethA, "netns", n.A, "type", "veth", "peer", "name", n.VethB, "netns", n.B)
	for _, side := range []struct {
		ns, dev  string
		ip4, ip6 netip.Addr
	}{{n.A, n.VethA, n.IPA, n.IP6A}, {n.B, n.VethB, n.IPB, n.IP6B}} {
		ipCmd(t, "-n", side.ns, "addr", "add", side.ip4.String()+"/24", "dev", side.dev)
		// nodad: the address is usable at once, without duplicate
		// address detection's delay.
		ipCmd(t, "-n", side.ns, "addr", "add", side.ip6.String()+"/64", "dev", side.dev, "nodad")
		ipCmd(t, "-n", side.ns, "link", "set", side.dev, "up")
		ipCmd(t, "-n", side.ns, "link", "set", "lo", "up")
	}
	return n
}

func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// InNetns runs fn in the network namespace at path, failing the test on
// error: sockets fn makes stay in that namespace.
func InNetns(t testing.TB, path string, fn func() error) {
	t.Helper()
	if err := netns.Do(path, fn); err != nil {
		t.Fatal(err)
	}
}

// StartDNS serves DNS on listen:53, UDP and TCP, inside the network
// namespace at path, until the test ends: a question about name is
// answered with rrs (in zone file syntax), keeping CNAMEs and the records
// of the question's type; any other question gets NXDOMAIN. Tests give
// names under .invalid, which no real resolver answers.
func StartDNS(t testing.TB, path string, listen netip.Addr, name string, rrs []string) {
	t.Helper()
	var records []mdns.RR
	for _, s := range rrs {
		rr, err := mdns.NewRR(s)
		if err != nil {
			t.Fatalf("DNS record %q: %v", s, err)
		}
		records = append(records, rr)
	}
	handler := mdns.HandlerFunc(func(w mdns.ResponseWriter, q *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(q)
		if len(q.Question) == 1 && strings.EqualFold(q.Question[0].Name, mdns.Fqdn(name)) {
			for _, rr := range records {
				if t := rr.Header().Rrtype; t == mdns.TypeCNAME || t == q.Question[0].Qtype {
					m.Answer = append(m.Answer, rr)
				}
			}
		} else {
			m.Rcode = mdns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	var pc net.PacketConn
	var ln net.Listener
	InNetns(t, path, func() error {
		var err error
		if pc, err = net.ListenPacket("udp", netip.AddrPortFrom(listen, 53).String()); err != nil {
			return err
		}
		ln, err = net.Listen("tcp", netip.AddrPortFrom(listen, 53).String())
		return err
	})
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
}

// ResolvConf makes programs run with `ip netns exec` in namespace ns use
// the DNS server at addr: ip netns exec binds /etc/netns/NS/resolv.conf
// over /etc/resolv.conf. Removed when the test ends.
func ResolvConf(t testing.TB, ns string, addr netip.Addr) {
	t.Helper()
	dir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver "+addr.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
