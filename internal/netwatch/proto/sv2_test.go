package proto

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// opaqueBytes is random bytes that pass the opaque test, as key material
// does with overwhelming probability.
func opaqueBytes(seed uint64, n int) []byte {
	for ; ; seed++ {
		if b := randomBytes(seed, n); opaque(b) {
			return b
		}
	}
}

func TestSV2NoiseCandidate(t *testing.T) {
	act1 := opaqueBytes(10, sv2Act1Len)
	act2 := opaqueBytes(20, sv2Act2Len)
	act2old := opaqueBytes(30, sv2Act2LenOld)
	later := opaqueBytes(40, 120) // the encrypted SetupConnection and what follows
	cases := []struct {
		name string
		flow Flow
		want []string // evidence; nil for no match
	}{
		{"act 1 alone", Flow{Client: act1}, []string{EvSV2Act1Size}},
		{"act 1 and 2", Flow{Client: act1, Server: act2}, []string{EvSV2Act1Size, EvSV2Act2Size}},
		{"act 2 older size", Flow{Client: act1, Server: act2old}, []string{EvSV2Act1Size, EvSV2Act2Size}},
		{"with segment sizes and later frames", Flow{
			Client: append(bytes.Clone(act1), later...), Server: append(bytes.Clone(act2), later[:44]...),
			ClientFirstLen: sv2Act1Len, ServerFirstLen: sv2Act2Len,
		}, []string{EvSV2Act1Size, EvSV2Act2Size}},
		{"later frames without segment sizes", Flow{Client: append(bytes.Clone(act1), later...), Server: act2}, nil},
		{"server reply of another size", Flow{Client: act1, Server: act2[:100]}, nil},
		{"first segment of another size", Flow{Client: append(bytes.Clone(act1), later...), ClientFirstLen: 80}, nil},
		{"63 bytes", Flow{Client: act1[:63]}, nil},
		{"65 bytes", Flow{Client: append(bytes.Clone(act1), 1)}, nil},
		{"text after the key", Flow{Client: append(bytes.Clone(act1), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"...), ClientFirstLen: 64}, nil},
		{"text server reply", Flow{Client: act1, Server: append([]byte("HTTP/1.1 400 Bad Request\r\n"), make([]byte, sv2Act2Len-26)...)}, nil},
		{"64 bytes of text", Flow{Client: bytes.Repeat([]byte("abcdefgh"), 8)}, nil},
		{"64 bytes mostly zero", Flow{Client: append(make([]byte, 8), act1[8:]...)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.flow.Recognize()
			if c.want == nil {
				if r.Protocol != ProtoNone {
					t.Fatalf("matched: %s", r.Summary())
				}
				return
			}
			if r.Protocol != ProtoStratumV2Candidate || r.Confidence != ConfidenceLow {
				t.Fatalf("got %s", r.Summary())
			}
			for _, ev := range c.want {
				if !r.Has(ev) {
					t.Errorf("evidence %s missing: %v", ev, r.Evidence)
				}
			}
			if len(r.Evidence) != len(c.want) {
				t.Errorf("evidence %v, want %v", r.Evidence, c.want)
			}
		})
	}
}

// A masked WebSocket frame of 64 bytes is as random-looking as a key.
func TestSV2NotWebSocket(t *testing.T) {
	payload := []byte(`{"id":1,"method":"mining.subscribe","params":["a/1.0"]}`)
	payload = append(payload, bytes.Repeat([]byte{' '}, sv2Act1Len-6-len(payload))...)
	mask := []byte{0x9a, 0x37, 0xc1, 0x5e}
	frame := []byte{0x81, 0x80 | byte(len(payload))}
	frame = append(frame, mask...)
	for i, c := range payload {
		frame = append(frame, c^mask[i%4])
	}
	if len(frame) != sv2Act1Len {
		t.Fatalf("frame is %d bytes", len(frame))
	}
	if r := Recognize(frame, nil); r.Protocol != ProtoNone {
		t.Fatalf("matched: %s", r.Summary())
	}
	if !isWebSocketFrame(frame) {
		t.Fatal("not taken for a frame")
	}
}

func TestSV2Plain(t *testing.T) {
	errorReply := append([]byte{0, 0, 2, 4 + 1 + 20, 0, 0, 0, 0, 0, 0, 20}, "unsupported-protocol"...)
	cases := []struct {
		name   string
		client []byte
		server []byte
		want   Protocol
		conf   Confidence
	}{
		{"setup alone", sv2SetupExample, nil, ProtoStratumV2, ConfidenceMedium},
		{"setup and success", sv2SetupExample, sv2SetupSuccess, ProtoStratumV2, ConfidenceHigh},
		{"setup and error", sv2SetupExample, errorReply, ProtoStratumV2, ConfidenceHigh},
		{"setup and garbage", sv2SetupExample, []byte("nope"), ProtoStratumV2, ConfidenceMedium},
		{"frame followed by more", append(bytes.Clone(sv2SetupExample), 0, 0, 0x13, 1, 0, 0, 7), nil, ProtoStratumV2, ConfidenceMedium},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Recognize(c.client, c.server)
			if r.Protocol != c.want || r.Confidence != c.conf {
				t.Fatalf("got %s", r.Summary())
			}
		})
	}
}

func TestSV2PlainRejects(t *testing.T) {
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(sv2SetupExample)) }
	cases := map[string][]byte{
		"channel bit":      mod(func(b []byte) []byte { b[1] = 0x80; return b }),
		"other message":    mod(func(b []byte) []byte { b[2] = 0x10; return b }),
		"protocol 3":       mod(func(b []byte) []byte { b[6] = 3; return b }),
		"min version 1":    mod(func(b []byte) []byte { b[7] = 1; return b }),
		"max below min":    mod(func(b []byte) []byte { b[7] = 3; return b }),
		"length too long":  mod(func(b []byte) []byte { b[3]++; return append(b, 0) }),
		"length too short": mod(func(b []byte) []byte { b[3]--; return b[:len(b)-1] }),
		"control in vendor": mod(func(b []byte) []byte {
			b[6+1+2+2+4+1+16+2+1] = 0x01
			return b
		}),
		"truncated": sv2SetupExample[:len(sv2SetupExample)-1],
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if r := Recognize(b, nil); r.Protocol == ProtoStratumV2 {
				t.Fatalf("matched: %s", r.Summary())
			}
		})
	}
}
