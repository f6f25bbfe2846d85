package capture

import (
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// meta is what the kernel's ancillary loads would return for a packet.
type meta struct {
	pkttype, hatype, proto uint32
}

// runFilter runs the filter in x/net/bpf's VM, which has no ancillary
// loads: they become constants from m.
func runFilter(t *testing.T, m meta, pkt []byte) int {
	t.Helper()
	ext := func(e bpf.Extension) bpf.Instruction {
		v := map[bpf.Extension]uint32{bpf.ExtType: m.pkttype, bpf.ExtLinkLayerType: m.hatype, bpf.ExtProto: m.proto}[e]
		return bpf.LoadConstant{Dst: bpf.RegA, Val: v}
	}
	prog, err := filterProgram(376, 4216, ext)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(pkt)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFilter(t *testing.T) {
	v4 := meta{unix.PACKET_HOST, unix.ARPHRD_ETHER, unix.ETH_P_IP}
	v6 := meta{unix.PACKET_HOST, unix.ARPHRD_ETHER, unix.ETH_P_IPV6}
	withOptions := func(b []byte) []byte {
		// An IPv4 header with 8 bytes of options: ports move.
		out := append([]byte{}, b[:20]...)
		out[0] = 0x47
		out = append(out, 1, 1, 1, 1, 1, 1, 1, 0)
		return append(out, b[20:]...)
	}
	fragment := func(b []byte) []byte { b[6], b[7] = 0x00, 0x10; return b }
	for _, c := range []struct {
		name string
		m    meta
		pkt  []byte
		want int
	}{
		{"v4 tcp", v4, build(seg{src: ap("192.0.2.1:40000"), dst: ap("192.0.2.2:3333")}), 376},
		{"v4 tcp with options", v4, withOptions(build(seg{src: ap("192.0.2.1:40000"), dst: ap("192.0.2.2:3333")})), 376},
		{"v4 tcp dns answer", v4, build(seg{src: ap("192.0.2.2:53"), dst: ap("192.0.2.1:40000")}), 4216},
		{"v4 tcp dns answer with options", v4, withOptions(build(seg{src: ap("192.0.2.2:53"), dst: ap("192.0.2.1:40000")})), 4216},
		{"v4 tcp dns query", v4, build(seg{src: ap("192.0.2.1:40000"), dst: ap("192.0.2.2:53")}), 376},
		{"v4 udp dns answer", v4, build(seg{src: ap("192.0.2.2:53"), dst: ap("192.0.2.1:40000"), proto: UDP}), 4216},
		{"v4 udp dns query", v4, build(seg{src: ap("192.0.2.1:40000"), dst: ap("192.0.2.2:53"), proto: UDP}), 0},
		{"v4 udp other", v4, build(seg{src: ap("192.0.2.1:40000"), dst: ap("192.0.2.2:123"), proto: UDP}), 0},
		{"v4 later fragment", v4, fragment(build(seg{src: ap("192.0.2.2:53"), dst: ap("192.0.2.1:40000"), proto: UDP})), 0},
		{"v4 icmp", v4, func() []byte { b := build(seg{src: ap("192.0.2.1:1"), dst: ap("192.0.2.2:2")}); b[9] = 1; return b }(), 0},
		{"v6 tcp", v6, build(seg{src: ap("[2001:db8::1]:40000"), dst: ap("[2001:db8::2]:443")}), 376},
		{"v6 tcp dns answer", v6, build(seg{src: ap("[2001:db8::2]:53"), dst: ap("[2001:db8::1]:40000")}), 4216},
		{"v6 udp dns answer", v6, build(seg{src: ap("[2001:db8::2]:53"), dst: ap("[2001:db8::1]:40000"), proto: UDP}), 4216},
		{"v6 udp other", v6, build(seg{src: ap("[2001:db8::2]:54"), dst: ap("[2001:db8::1]:40000"), proto: UDP}), 0},
		{"v6 hop-by-hop", v6, func() []byte {
			b := build(seg{src: ap("[2001:db8::1]:1"), dst: ap("[2001:db8::2]:2")})
			b[6] = 0
			return b
		}(), 0},
		{"arp", meta{unix.PACKET_BROADCAST, unix.ARPHRD_ETHER, unix.ETH_P_ARP}, make([]byte, 28), 0},
		{"outgoing", meta{unix.PACKET_OUTGOING, unix.ARPHRD_ETHER, unix.ETH_P_IP},
			build(seg{src: ap("192.0.2.1:40000"), dst: ap("192.0.2.2:3333")}), 376},
		{"loopback received", meta{unix.PACKET_HOST, unix.ARPHRD_LOOPBACK, unix.ETH_P_IP},
			build(seg{src: ap("127.0.0.1:40000"), dst: ap("127.0.0.1:3333")}), 376},
		{"loopback outgoing copy", meta{unix.PACKET_OUTGOING, unix.ARPHRD_LOOPBACK, unix.ETH_P_IP},
			build(seg{src: ap("127.0.0.1:40000"), dst: ap("127.0.0.1:3333")}), 0},
		{"tun (no link header)", meta{unix.PACKET_HOST, unix.ARPHRD_NONE, unix.ETH_P_IP},
			build(seg{src: ap("192.0.2.1:40000"), dst: ap("192.0.2.2:3333")}), 376},
	} {
		if got := runFilter(t, c.m, c.pkt); got != c.want {
			t.Errorf("%s: filter returned %d, want %d", c.name, got, c.want)
		}
	}
}

func TestAssembleFilter(t *testing.T) {
	f, err := assembleFilter(376, 4216)
	if err != nil {
		t.Fatal(err)
	}
	if len(f) == 0 || len(f) > 64 {
		t.Errorf("%d instructions", len(f))
	}
}
