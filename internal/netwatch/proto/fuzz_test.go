package proto

import (
	"errors"
	"testing"
	"unicode/utf8"
)

func FuzzRecognize(f *testing.F) {
	for _, d := range dialects() {
		f.Add(d.client, d.server)
	}
	f.Add(ja4SpecHello(), []byte{0x16, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3})
	f.Add(opaqueBytes(10, sv2Act1Len), opaqueBytes(20, sv2Act2Len))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n"))
	f.Add([]byte(`{"id":1,"method":"mining\u002esubscribe","params":["\u0000"]}`+"\n"), []byte(`{"id":1,"result":[["x"],"",1]}`))
	f.Fuzz(func(t *testing.T, client, server []byte) {
		r := Recognize(client, server)
		if (r.Protocol == ProtoNone) != (r.Confidence == ConfidenceNone) || (r.Protocol == ProtoNone) != (len(r.Evidence) == 0) {
			t.Fatalf("inconsistent result: %+v", r)
		}
		if r.Protocol > ProtoStratumV2Candidate || r.Confidence > ConfidenceHigh {
			t.Fatalf("out of range: %+v", r)
		}
		for _, s := range []string{r.Agent, r.Login, r.Host, r.JobID, r.SNI} {
			if len(s) > MaxFieldBytes || !utf8.ValidString(s) {
				t.Fatalf("bad field %q", s)
			}
			for _, c := range s {
				if c < 0x20 || c == 0x7f {
					t.Fatalf("control character in %q", s)
				}
			}
		}
		if len(r.ALPN) > maxALPN {
			t.Fatalf("%d ALPN entries", len(r.ALPN))
		}
		if r.JA4 != "" && len(r.JA4) != 36 {
			t.Fatalf("JA4 %q", r.JA4)
		}
		_ = r.Summary()
		if again := Recognize(client, server); again.Summary() != r.Summary() {
			t.Fatal("not deterministic")
		}
	})
}

func FuzzClientHello(f *testing.F) {
	f.Add(ja4SpecHello())
	f.Add(records(ja4SpecHello()[9:], 50))
	f.Add(records(helloBody(0x0301, []uint16{0x2f}, nil), 1<<14))
	f.Add([]byte{0x16, 3, 1, 0, 4, 1, 0, 0, 41})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseClientHello(b)
		if err != nil {
			if !errors.Is(err, ErrNotTLS) && !errors.Is(err, ErrNotClientHello) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
		}
		if h.SNI != "" && !validHostName([]byte(h.SNI)) {
			t.Fatalf("bad SNI %q", h.SNI)
		}
		// The accessors and fingerprints must survive partial hellos too.
		_ = h.CipherSuites()
		_ = h.Extensions()
		ja3, ja4 := h.JA3(), h.JA4()
		if err == nil && (len(ja4) != 36 || ja3 == "") {
			t.Fatalf("JA4 %q JA3 %q", ja4, ja3)
		}
	})
}
