package proto

import (
	"bytes"
	"testing"
)

// prefixFlows are the complete example flows whose every prefix is checked.
func prefixFlows(t *testing.T) []dialect {
	flows := dialects()
	flows = append(flows,
		dialect{name: "tls go client", client: goClientHello(t, "pool.example.com", "h2"), server: []byte{0x16, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3}},
		dialect{name: "tls ja4 spec hello", client: ja4SpecHello()},
		dialect{name: "tls split records", client: records(ja4SpecHello()[9:], 90)},
		dialect{name: "sv2 noise", client: opaqueBytes(10, sv2Act1Len), server: opaqueBytes(20, sv2Act2Len)},
	)
	return flows
}

// TestPrefixes checks the property the capture relies on: every prefix of a
// valid opening, either direction or both, is recognised as that protocol
// or not at all, and every field it yields is the complete flow's.
func TestPrefixes(t *testing.T) {
	for _, d := range prefixFlows(t) {
		t.Run(d.name, func(t *testing.T) {
			full := Recognize(d.client, d.server)
			if full.Protocol == ProtoNone {
				t.Fatal("complete flow not recognised")
			}
			for i := 0; i <= len(d.client); i++ {
				checkPrefix(t, d.client[:i], nil, full)
				checkPrefix(t, d.client[:i], d.server, full)
			}
			for j := 0; j <= len(d.server); j++ {
				checkPrefix(t, nil, d.server[:j], full)
				checkPrefix(t, d.client, d.server[:j], full)
			}
			step := max(1, (len(d.client)+len(d.server))/60)
			for i := 0; i <= len(d.client); i += step {
				for j := 0; j <= len(d.server); j += step {
					checkPrefix(t, d.client[:i], d.server[:j], full)
				}
			}
		})
	}
}

func checkPrefix(t *testing.T, client, server []byte, full Result) {
	t.Helper()
	// Copies, so a read past a slice's length would show as a panic in
	// the race-free tests rather than read the rest of the example.
	r := Recognize(bytes.Clone(client), bytes.Clone(server))
	checkConsistent(t, "prefix", r, full)
	if r.JA4 != "" && r.JA4 != full.JA4 || r.JA3 != "" && r.JA3 != full.JA3 {
		t.Fatalf("prefix %d/%d: fingerprint %s, want %s", len(client), len(server), r.JA4, full.JA4)
	}
	if r.Confidence > full.Confidence {
		t.Fatalf("prefix %d/%d: %s, more sure than the complete flow (%s)", len(client), len(server), r.Confidence, full.Confidence)
	}
}
