package capture

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// benchMix is a synthetic capture: flows of a stratum-like line protocol
// (handshake, three request/answer exchanges of small JSON lines, a bulk
// answer cut by the snap length, FIN both ways), a quarter over IPv6, 256
// of them interleaved packet by packet, with a UDP DNS answer every 16th
// packet.
func benchMix() [][]byte {
	const flows = 256
	var perFlow [][][]byte
	for i := range flows {
		var c, s netip.AddrPort
		if i%4 == 3 {
			c = netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", i+1)), uint16(40000+i))
			s = ap("[2001:db8:1::7]:3333")
		} else {
			c = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(40000+i))
			s = ap("198.51.100.7:3333")
		}
		cseq, sseq := uint32(i*7919), uint32(i*104729)
		var pk [][]byte
		from := func(client bool, flags TCPFlags, payload string, wire int) {
			sg := seg{src: c, dst: s, seq: cseq, ack: sseq, flags: flags, payload: []byte(payload), wire: wire}
			if !client {
				sg = seg{src: s, dst: c, seq: sseq, ack: cseq, flags: flags, payload: []byte(payload), wire: wire}
			}
			pk = append(pk, build(sg))
			n := uint32(max(wire, len(payload)))
			if flags&(SYN|FIN) != 0 {
				n++
			}
			if client {
				cseq += n
			} else {
				sseq += n
			}
		}
		from(true, SYN, "", 0)
		from(false, SYN|ACK, "", 0)
		from(true, ACK, "", 0)
		for j := range 3 {
			from(true, PSH|ACK, fmt.Sprintf(`{"id":%d,"method":"submit","params":{"nonce":"%08x"}}`+"\n", j, i*j), 0)
			from(false, PSH|ACK, fmt.Sprintf(`{"id":%d,"result":{"status":"OK"},"error":null}`+"\n", j), 0)
			from(true, ACK, "", 0)
		}
		from(false, ACK, string(make([]byte, 256)), 1400)
		from(true, FIN|ACK, "", 0)
		from(false, FIN|ACK, "", 0)
		from(true, ACK, "", 0)
		perFlow = append(perFlow, pk)
	}
	dnsAnswer := build(seg{src: ap("192.0.2.53:53"), dst: ap("192.0.2.1:5353"), proto: UDP, payload: make([]byte, 120)})
	var mix [][]byte
	for k := 0; k < len(perFlow[0]); k++ {
		for _, pk := range perFlow {
			mix = append(mix, pk[k])
			if len(mix)%16 == 0 {
				mix = append(mix, dnsAnswer)
			}
		}
	}
	return mix
}

// BenchmarkDecodeAndTrack measures the per-packet path after the ring:
// decode, then the flow tracker (reassembly, counters, timings).
func BenchmarkDecodeAndTrack(b *testing.B) {
	mix := benchMix()
	var firsts int
	tr := NewTracker(TrackerOptions{OnFirstBytes: func(*Flow, []byte, []byte) { firsts++ }})
	t0 := time.Unix(1700000000, 0)
	var p Packet
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		raw := mix[i%len(mix)]
		if err := Decode(raw, &p); err != nil {
			b.Fatal(err)
		}
		p.Time = t0.Add(time.Duration(i) * 10 * time.Microsecond)
		p.Len = len(raw)
		p.IfIndex = 2
		tr.Add(&p)
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	// allocs/op rounds down to 0: the allocations are per flow (the Flow
	// and its two timing rings), three for 17 packets here.
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/pkt")
	if b.N > len(mix) && firsts == 0 {
		b.Fatal("no first bytes delivered")
	}
}
