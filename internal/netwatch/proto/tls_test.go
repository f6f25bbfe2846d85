package proto

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

type ext struct {
	typ  uint16
	data []byte
}

func u16be(v ...uint16) []byte {
	b := make([]byte, 0, 2*len(v))
	for _, x := range v {
		b = binary.BigEndian.AppendUint16(b, x)
	}
	return b
}

func vec16(b []byte) []byte { return append(u16be(uint16(len(b))), b...) }
func vec8(b []byte) []byte  { return append([]byte{byte(len(b))}, b...) }

// helloBody builds a ClientHello body (without the handshake header).
func helloBody(version uint16, ciphers []uint16, exts []ext) []byte {
	b := u16be(version)
	b = append(b, make([]byte, 32)...)       // random
	b = append(b, vec8(make([]byte, 32))...) // session id
	b = append(b, vec16(u16be(ciphers...))...)
	b = append(b, 1, 0) // one compression method: null
	if exts != nil {
		var e []byte
		for _, x := range exts {
			e = append(e, u16be(x.typ)...)
			e = append(e, vec16(x.data)...)
		}
		b = append(b, vec16(e)...)
	}
	return b
}

// records wraps a ClientHello body in a handshake header and in TLS records
// of at most split bytes each.
func records(body []byte, split int) []byte {
	msg := append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	var out []byte
	for len(msg) > 0 {
		n := min(split, len(msg))
		out = append(out, 0x16, 3, 1)
		out = append(out, vec16(msg[:n])...)
		msg = msg[n:]
	}
	return out
}

func sniExt(name string) ext {
	return ext{extServerName, vec16(append([]byte{0}, vec16([]byte(name))...))}
}

func alpnExt(protos ...string) ext {
	var l []byte
	for _, p := range protos {
		l = append(l, vec8([]byte(p))...)
	}
	return ext{extALPN, vec16(l)}
}

// ja4SpecHello is the example of FoxIO's JA4 specification as a ClientHello,
// with GREASE values added where browsers put them.
func ja4SpecHello() []byte {
	ciphers := []uint16{0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	exts := []ext{
		{0x2a2a, nil},
		{0x001b, []byte{2, 0, 2}},
		sniExt("pool.example.com"),
		{0x0033, vec16(nil)},
		alpnExt("h2", "http/1.1"),
		{0x4469, vec16(vec8([]byte("h2")))},
		{0x0017, nil},
		{0x002d, []byte{1, 1}},
		{extSignatureAlgorithms, vec16(u16be(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601))},
		{0x0005, []byte{1, 0, 0, 0, 0}},
		{0x0023, nil},
		{0x0012, nil},
		{extSupportedVersions, vec8(u16be(0x1a1a, 0x0304, 0x0303))},
		{0xff01, []byte{0}},
		{extECPointFormats, vec8([]byte{0})},
		{extSupportedGroups, vec16(u16be(0x4a4a, 0x001d, 0x0017, 0x0018))},
		{0x3a3a, []byte{0}},
		{0x0015, make([]byte, 40)},
	}
	return records(helloBody(0x0303, ciphers, exts), 1<<14)
}

func TestJA4SpecExample(t *testing.T) {
	h, err := ParseClientHello(ja4SpecHello())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.JA4(), "t13d1516h2_8daaf6152771_e5627efa2ab1"; got != want {
		t.Errorf("JA4 %s, want %s", got, want)
	}
	wantJA3 := "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
	if got := h.JA3(); got != wantJA3 {
		t.Errorf("JA3\n %s\nwant\n %s", got, wantJA3)
	}
	if JA3Hash("") != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Error("JA3Hash is not MD5")
	}
	if h.SNI != "pool.example.com" || strings.Join(h.ALPN, ",") != "h2,http/1.1" || h.Version != 0x0303 {
		t.Errorf("sni %q alpn %q version %#x", h.SNI, h.ALPN, h.Version)
	}
	if len(h.CipherSuites()) != 16 || len(h.Extensions()) != 18 {
		t.Errorf("%d ciphers, %d extensions", len(h.CipherSuites()), len(h.Extensions()))
	}
}

// The spec's hash examples, checked against the helpers directly.
func TestJA4Hashes(t *testing.T) {
	cases := []struct{ list, want string }{
		{"002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9", "8daaf6152771"},
		{"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601", "e5627efa2ab1"},
		{"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01", "6d807ffa2a79"},
	}
	for _, c := range cases {
		if got := string(appendHash12(nil, []byte(c.list), false)); got != c.want {
			t.Errorf("%s: %s, want %s", c.list, got, c.want)
		}
	}
	if string(appendHash12(nil, nil, true)) != "000000000000" {
		t.Error("empty list marker")
	}
}

func TestJA4ALPN(t *testing.T) {
	cases := map[string]string{"": "00", "h2": "h2", "http/1.1": "h1", "x": "xx", "\xab": "ab", "\xab\xcd": "ad", "0\xab": "3b", "01\xab\xcd": "3d", "0\xab\xcd1": "01"}
	for in, want := range cases {
		var b []byte
		if in != "" {
			b = []byte(in)
		}
		if got := string(appendALPN(nil, b)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestJA4NoSNINoALPNNoSigAlgs(t *testing.T) {
	h, err := ParseClientHello(records(helloBody(0x0301, []uint16{0x002f, 0x0035}, nil), 1<<14))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.JA4(); got != "t10i020000_"+string(appendHash12(nil, []byte("002f,0035"), false))+"_000000000000" {
		t.Errorf("JA4 %s", got)
	}
	if got := h.JA3(); got != "769,47-53,,," {
		t.Errorf("JA3 %q", got)
	}
}

// goClientHello is the first flight of Go's own TLS client.
func goClientHello(t testing.TB, sni string, alpn ...string) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	go func() {
		tc := tls.Client(c, &tls.Config{ServerName: sni, NextProtos: alpn, InsecureSkipVerify: true})
		_ = tc.Handshake()
	}()
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(s, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(s, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

func TestGoClientHello(t *testing.T) {
	raw := goClientHello(t, "gulf.example.net", "h2", "http/1.1")
	r := Recognize(raw, nil)
	if r.Protocol != ProtoTLS || r.Confidence != ConfidenceMedium || r.SNI != "gulf.example.net" || strings.Join(r.ALPN, ",") != "h2,http/1.1" {
		t.Fatalf("got %s", r.Summary())
	}
	if !strings.HasPrefix(r.JA4, "t13d") || len(r.JA4) != 36 || r.JA3 == "" {
		t.Errorf("JA4 %q JA3 %q", r.JA4, r.JA3)
	}
	if r.Protocol.Mining() {
		t.Error("TLS is not a mining protocol by itself")
	}
	// The same message split over several records fingerprints the same.
	h, err := ParseClientHello(raw)
	if err != nil {
		t.Fatal(err)
	}
	body := raw[5+4:]
	split, err := ParseClientHello(records(body, 100))
	if err != nil {
		t.Fatal(err)
	}
	if split.JA4() != h.JA4() || split.JA3() != h.JA3() || split.SNI != h.SNI {
		t.Errorf("split hello: %s / %s", split.JA4(), h.JA4())
	}
	// A ServerHello raises confidence.
	serverHello := []byte{0x16, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3}
	if r := Recognize(raw, serverHello); r.Confidence != ConfidenceHigh || !r.Has(EvTLSServerHello) {
		t.Errorf("with ServerHello: %s", r.Summary())
	}
}

func TestNoSNI(t *testing.T) {
	raw := goClientHello(t, "")
	r := Recognize(raw, nil)
	if r.Protocol != ProtoTLS || r.SNI != "" || r.Has(EvTLSSNI) || r.JA4[3] != 'i' {
		t.Fatalf("got %s", r.Summary())
	}
}

func TestClientHelloErrors(t *testing.T) {
	good := ja4SpecHello()
	badExtLen := slices.Clone(good)
	// The first extension's length (after GREASE 2a2a 0000) claims more
	// than there is.
	i := 5 + 4 + 2 + 32 + 33 + 2 + 32 + 2 + 2
	badExtLen[i+2], badExtLen[i+3] = 0xff, 0xff
	serverHello := []byte{0x16, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3}
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"http", []byte("GET / HTTP/1.1\r\n"), ErrNotTLS},
		{"alert record", []byte{0x15, 3, 3, 0, 2, 2, 40}, ErrNotTLS},
		{"bad record version", []byte{0x16, 2, 0, 0, 4, 1, 0, 0, 0}, ErrNotTLS},
		{"zero record length", []byte{0x16, 3, 1, 0, 0}, ErrNotTLS},
		{"server hello", serverHello, ErrNotClientHello},
		{"tiny handshake length", []byte{0x16, 3, 1, 0, 4, 1, 0, 0, 3}, ErrMalformed},
		{"bad version", records(helloBody(0x0200, []uint16{0x2f}, nil), 1<<14), ErrMalformed},
		{"odd cipher length", func() []byte {
			b := helloBody(0x0303, []uint16{0x2f}, nil)
			b[2+32+33+1] = 3
			return records(b, 1<<14)
		}(), ErrMalformed},
		{"lying extension length", badExtLen, ErrMalformed},
		{"empty", nil, ErrTruncated},
		{"header only", good[:5], ErrTruncated},
		{"cut in extensions", good[:len(good)-30], ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseClientHello(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "tls: ") {
				t.Errorf("error %q lacks its context", err)
			}
		})
	}
}

func TestTruncatedHelloKeepsSNI(t *testing.T) {
	good := ja4SpecHello()
	cut := good[:len(good)-30] // inside the padding, after SNI and ALPN
	h, err := ParseClientHello(cut)
	if !errors.Is(err, ErrTruncated) || h.SNI != "pool.example.com" {
		t.Fatalf("sni %q err %v", h.SNI, err)
	}
	r := Recognize(cut, nil)
	if r.Protocol != ProtoTLS || r.Confidence != ConfidenceLow || r.SNI != "pool.example.com" || r.JA4 != "" || !r.Has(EvTLSTruncated) {
		t.Fatalf("got %s", r.Summary())
	}
}

func TestSNIValidation(t *testing.T) {
	h, err := ParseClientHello(records(helloBody(0x0303, []uint16{0x1301}, []ext{sniExt("bad name\x00")}), 1<<14))
	if err != nil || h.SNI != "" || !h.HasSNI {
		t.Fatalf("sni %q has %v err %v", h.SNI, h.HasSNI, err)
	}
}
