package capture

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodeTCP(t *testing.T) {
	for _, c := range []struct{ src, dst string }{
		{"192.0.2.1:40000", "198.51.100.7:3333"},
		{"[2001:db8::1]:40000", "[2001:db8::2]:443"},
	} {
		s := seg{src: ap(c.src), dst: ap(c.dst), seq: 1000, ack: 2000, flags: PSH | ACK, payload: []byte("hello\n")}
		var p Packet
		if err := Decode(build(s), &p); err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if p.Proto != TCP || p.Src != s.src || p.Dst != s.dst || p.Seq != 1000 || p.Ack != 2000 ||
			p.TCPFlags != PSH|ACK || string(p.Payload) != "hello\n" || p.PayloadLen != 6 || p.Truncated() {
			t.Errorf("%s: %+v", c.src, p)
		}
	}
}

func TestDecodeUDP(t *testing.T) {
	s := seg{src: ap("192.0.2.53:53"), dst: ap("192.0.2.1:5353"), proto: UDP, payload: []byte{1, 2, 3}}
	var p Packet
	if err := Decode(build(s), &p); err != nil {
		t.Fatal(err)
	}
	if p.Proto != UDP || p.Src != s.src || p.Dst != s.dst || !bytes.Equal(p.Payload, []byte{1, 2, 3}) || p.PayloadLen != 3 {
		t.Errorf("%+v", p)
	}
}

func TestDecodeIgnoresPadding(t *testing.T) {
	// A 60-byte minimum Ethernet frame pads a short packet; the padding
	// is not payload.
	s := seg{src: ap("192.0.2.1:1"), dst: ap("192.0.2.2:2"), flags: ACK}
	b := append(build(s), make([]byte, 6)...)
	var p Packet
	if err := Decode(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Payload) != 0 || p.PayloadLen != 0 {
		t.Errorf("padding taken for payload: %+v", p)
	}
}

func TestDecodeTruncated(t *testing.T) {
	s := seg{src: ap("192.0.2.1:1"), dst: ap("192.0.2.2:2"), flags: ACK, payload: []byte("abcd"), wire: 1400}
	var p Packet
	if err := Decode(build(s), &p); err != nil {
		t.Fatal(err)
	}
	if string(p.Payload) != "abcd" || p.PayloadLen != 1400 || !p.Truncated() {
		t.Errorf("%+v", p)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := build(seg{src: ap("192.0.2.1:1"), dst: ap("192.0.2.2:2"), flags: ACK})
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"ipv4 header cut", good[:19], ErrShort},
		{"tcp header cut", good[:30], ErrShort},
		{"version 5", mod(func(b []byte) []byte { b[0] = 0x55; return b }), ErrUnsupported},
		{"ihl 4", mod(func(b []byte) []byte { b[0] = 0x44; return b }), ErrBadHeader},
		{"total below ihl", mod(func(b []byte) []byte { b[2], b[3] = 0, 10; return b }), ErrBadHeader},
		{"tcp offset 4", mod(func(b []byte) []byte { b[32] = 4 << 4; return b }), ErrBadHeader},
		{"tcp offset beyond packet", mod(func(b []byte) []byte { b[32] = 15 << 4; return b }), ErrBadHeader},
		{"later fragment", mod(func(b []byte) []byte { b[6], b[7] = 0, 1; return b }), ErrFragment},
		{"icmp", mod(func(b []byte) []byte { b[9] = 1; return b }), ErrUnsupported},
		{"ipv6 jumbo", mod(func(b []byte) []byte {
			v6 := build(seg{src: ap("[2001:db8::1]:1"), dst: ap("[2001:db8::2]:2")})
			v6[4], v6[5] = 0, 0
			return v6
		}), ErrUnsupported},
		{"ipv6 extension header", mod(func(b []byte) []byte {
			v6 := build(seg{src: ap("[2001:db8::1]:1"), dst: ap("[2001:db8::2]:2")})
			v6[6] = 0 // hop-by-hop
			return v6
		}), ErrUnsupported},
		{"udp length below header", func() []byte {
			u := build(seg{src: ap("192.0.2.1:53"), dst: ap("192.0.2.2:2"), proto: UDP})
			u[24], u[25] = 0, 4
			return u
		}(), ErrBadHeader},
	} {
		var p Packet
		err := Decode(c.b, &p)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	b := build(seg{src: ap("[2001:db8::1]:1"), dst: ap("[2001:db8::2]:2"), payload: []byte("x")})
	var p Packet
	if n := testing.AllocsPerRun(100, func() { _ = Decode(b, &p) }); n != 0 {
		t.Errorf("%v allocations per decode", n)
	}
}
