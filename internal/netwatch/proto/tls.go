package proto

import (
	"errors"
	"fmt"
)

// TLS: the ClientHello is the only plaintext a TLS connection shows, and the
// server name in it is what pool intel can be matched against (XMRig sends
// the pool's host as SNI and does not validate the certificate).

// Errors ParseClientHello returns, wrapped; test with errors.Is.
var (
	ErrNotTLS         = errors.New("not a TLS handshake record")
	ErrNotClientHello = errors.New("not a ClientHello")
	ErrTruncated      = errors.New("truncated")
	ErrMalformed      = errors.New("malformed")
)

const (
	tlsRecordHandshake  = 0x16
	tlsHandshakeClient  = 0x01
	tlsHandshakeServer  = 0x02
	tlsRecordHeaderLen  = 5
	tlsMaxRecordPayload = 1<<14 + 2048 // plaintext limit plus the ciphertext allowance
	// maxClientHello bounds the handshake message: real ones are a few
	// KiB even with post-quantum key shares.
	maxClientHello = 1 << 16
	// minClientHello is version, random, session id length, one cipher
	// suite and one compression method.
	minClientHello = 2 + 32 + 1 + 2 + 2 + 1 + 1
	maxALPN        = 16
)

// TLS extension types read here.
const (
	extServerName          = 0x0000
	extSupportedGroups     = 0x000a
	extECPointFormats      = 0x000b
	extSignatureAlgorithms = 0x000d
	extALPN                = 0x0010
	extSupportedVersions   = 0x002b
)

// ClientHello is what a TLS ClientHello says about the client.
//
// The lists are views into the bytes it was parsed from (unexported, read
// with the methods), so parsing costs no allocation beyond SNI and ALPN;
// keep those bytes unchanged while using the ClientHello.
type ClientHello struct {
	// Version is the legacy_version field (0x0303 even for TLS 1.3).
	Version uint16
	// SNI is the server_name extension's host name, empty if none.
	SNI string
	// ALPN is the protocol list (at most 16 entries kept).
	ALPN []string
	// HasSNI is set when the server_name extension is present, even if
	// its name was unusable.
	HasSNI bool

	ciphers, exts, groups, pointFormats, sigAlgs, versions []byte
	alpnFirst                                              []byte
}

// ParseClientHello parses the TLS records at the start of b as a
// ClientHello, following it across records when it is split. Every length
// is checked against its container before use.
//
// On a truncated ClientHello it returns what the available bytes hold
// (SNI and ALPN included if their extensions are complete) with an error
// wrapping ErrTruncated; the fingerprints need the whole message.
func ParseClientHello(b []byte) (ClientHello, error) {
	var h ClientHello
	body, complete, err := clientHelloBody(b)
	if err != nil {
		return h, fmt.Errorf("tls: %w", err)
	}
	if err := h.parse(body, complete); err != nil {
		return h, fmt.Errorf("tls: client hello: %w", err)
	}
	return h, nil
}

// clientHelloBody returns the ClientHello's body (after its 4-byte handshake
// header), possibly cut short, and whether it is complete.
func clientHelloBody(b []byte) (body []byte, complete bool, err error) {
	frag, recTrunc, err := tlsRecord(b)
	if err != nil {
		return nil, false, err
	}
	if len(frag) < 4 {
		return nil, false, fmt.Errorf("handshake header: %w", ErrTruncated)
	}
	if frag[0] != tlsHandshakeClient {
		return nil, false, fmt.Errorf("handshake type %d: %w", frag[0], ErrNotClientHello)
	}
	n := int(frag[1])<<16 | int(frag[2])<<8 | int(frag[3])
	if n < minClientHello || n > maxClientHello {
		return nil, false, fmt.Errorf("handshake length %d: %w", n, ErrMalformed)
	}
	if 4+n <= len(frag) {
		return frag[4 : 4+n], true, nil
	}
	if recTrunc {
		return frag[4:], false, nil
	}
	// The message continues in the following handshake records.
	buf := make([]byte, 0, 4+n)
	buf = append(buf, frag...)
	rest := b[tlsRecordHeaderLen+len(frag):]
	for len(buf) < 4+n && len(rest) > 0 {
		next, trunc, err := tlsRecord(rest)
		if err != nil {
			if errors.Is(err, ErrTruncated) {
				break
			}
			return nil, false, fmt.Errorf("continuation record: %w", err)
		}
		buf = append(buf, next[:min(len(next), 4+n-len(buf))]...)
		if trunc {
			break
		}
		rest = rest[tlsRecordHeaderLen+len(next):]
	}
	if len(buf) < 4+n {
		return buf[4:], false, nil
	}
	return buf[4 : 4+n], true, nil
}

// tlsRecord checks the handshake record header at the start of b and returns
// its payload, cut short (truncated set) if b ends first.
func tlsRecord(b []byte) (payload []byte, truncated bool, err error) {
	if len(b) > 0 && b[0] != tlsRecordHandshake {
		return nil, false, fmt.Errorf("record type %d: %w", b[0], ErrNotTLS)
	}
	if len(b) > 1 && b[1] != 3 || len(b) > 2 && b[2] > 4 {
		return nil, false, fmt.Errorf("record version: %w", ErrNotTLS)
	}
	if len(b) < tlsRecordHeaderLen {
		return nil, false, fmt.Errorf("record header: %w", ErrTruncated)
	}
	n := int(b[3])<<8 | int(b[4])
	if n == 0 || n > tlsMaxRecordPayload {
		return nil, false, fmt.Errorf("record length %d: %w", n, ErrNotTLS)
	}
	b = b[tlsRecordHeaderLen:]
	if n > len(b) {
		return b, true, nil
	}
	return b[:n], false, nil
}

// reader reads big-endian fields; reading past the end fails with
// ErrTruncated when the input was cut short and ErrMalformed when it was
// complete and a length lied.
type reader struct {
	b        []byte
	complete bool
	err      error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		e := ErrMalformed
		if !r.complete {
			e = ErrTruncated
		}
		r.err = fmt.Errorf("%s: %w", what, e)
	}
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.fail(what)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(what string) int {
	v := r.bytes(1, what)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (r *reader) u16(what string) int {
	v := r.bytes(2, what)
	if v == nil {
		return 0
	}
	return int(v[0])<<8 | int(v[1])
}

func (h *ClientHello) parse(body []byte, complete bool) error {
	r := reader{b: body, complete: complete}
	h.Version = uint16(r.u16("version"))
	if r.err == nil && (h.Version < 0x0300 || h.Version > 0x0304) {
		return fmt.Errorf("version %#04x: %w", h.Version, ErrMalformed)
	}
	r.bytes(32, "random")
	sid := r.u8("session id length")
	if sid > 32 {
		return fmt.Errorf("session id length %d: %w", sid, ErrMalformed)
	}
	r.bytes(sid, "session id")
	n := r.u16("cipher suites length")
	if r.err == nil && (n == 0 || n%2 != 0) {
		return fmt.Errorf("cipher suites length %d: %w", n, ErrMalformed)
	}
	h.ciphers = r.bytes(n, "cipher suites")
	n = r.u8("compression methods length")
	if r.err == nil && n == 0 {
		return fmt.Errorf("no compression methods: %w", ErrMalformed)
	}
	r.bytes(n, "compression methods")
	if r.err != nil {
		return r.err
	}
	if len(r.b) == 0 && complete {
		return nil // no extensions: a TLS 1.0-era hello
	}
	n = r.u16("extensions length")
	if r.err != nil {
		return r.err
	}
	if complete && n != len(r.b) {
		return fmt.Errorf("extensions length %d of %d: %w", n, len(r.b), ErrMalformed)
	}
	exts := r.b
	if n < len(exts) {
		exts = exts[:n]
	}
	er := reader{b: exts, complete: complete}
	start := exts
	for len(er.b) > 0 && er.err == nil {
		typ := er.u16("extension type")
		data := er.bytes(er.u16("extension length"), "extension data")
		if er.err != nil {
			break
		}
		if err := h.extension(typ, data); err != nil {
			return fmt.Errorf("extension %#04x: %w", typ, err)
		}
		h.exts = start[:len(start)-len(er.b)]
	}
	if er.err != nil {
		return er.err
	}
	if !complete {
		return fmt.Errorf("extensions: %w", ErrTruncated)
	}
	return nil
}

// extension reads the extensions the fingerprints and the Result use.
func (h *ClientHello) extension(typ int, data []byte) error {
	r := reader{b: data, complete: true}
	switch typ {
	case extServerName:
		h.HasSNI = true
		list := r.bytes(r.u16("list length"), "server name list")
		if r.err != nil || len(r.b) != 0 {
			return fmt.Errorf("server name: %w", ErrMalformed)
		}
		lr := reader{b: list, complete: true}
		for len(lr.b) > 0 && lr.err == nil {
			kind := lr.u8("name type")
			name := lr.bytes(lr.u16("name length"), "name")
			if lr.err == nil && kind == 0 && h.SNI == "" && validHostName(name) {
				h.SNI = string(name)
			}
		}
		if lr.err != nil {
			return fmt.Errorf("server name: %w", ErrMalformed)
		}
	case extALPN:
		list := r.bytes(r.u16("list length"), "protocol list")
		if r.err != nil || len(r.b) != 0 {
			return fmt.Errorf("alpn: %w", ErrMalformed)
		}
		lr := reader{b: list, complete: true}
		for len(lr.b) > 0 && lr.err == nil {
			p := lr.bytes(lr.u8("protocol length"), "protocol")
			if lr.err != nil {
				break
			}
			if h.alpnFirst == nil {
				h.alpnFirst = p
			}
			if len(h.ALPN) < maxALPN {
				h.ALPN = append(h.ALPN, field(string(p)))
			}
		}
		if lr.err != nil {
			return fmt.Errorf("alpn: %w", ErrMalformed)
		}
	case extSupportedGroups, extSignatureAlgorithms:
		list := r.bytes(r.u16("list length"), "list")
		if r.err != nil || len(r.b) != 0 || len(list)%2 != 0 {
			return fmt.Errorf("u16 list: %w", ErrMalformed)
		}
		if typ == extSupportedGroups {
			h.groups = list
		} else {
			h.sigAlgs = list
		}
	case extECPointFormats:
		list := r.bytes(r.u8("list length"), "list")
		if r.err != nil || len(r.b) != 0 {
			return fmt.Errorf("point formats: %w", ErrMalformed)
		}
		h.pointFormats = list
	case extSupportedVersions:
		list := r.bytes(r.u8("list length"), "list")
		if r.err != nil || len(r.b) != 0 || len(list)%2 != 0 {
			return fmt.Errorf("supported versions: %w", ErrMalformed)
		}
		h.versions = list
	}
	return nil
}

// validHostName accepts the bytes a DNS name can have on the wire (letters,
// digits, '-', '.', '_'), up to 253 of them.
func validHostName(b []byte) bool {
	if len(b) == 0 || len(b) > 253 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// CipherSuites returns the offered cipher suites in order, GREASE included.
func (h *ClientHello) CipherSuites() []uint16 { return u16s(h.ciphers) }

// Extensions returns the extension types in order, GREASE included.
func (h *ClientHello) Extensions() []uint16 {
	var out []uint16
	b := h.exts
	for len(b) >= 4 {
		out = append(out, uint16(b[0])<<8|uint16(b[1]))
		n := 4 + (int(b[2])<<8 | int(b[3]))
		if n > len(b) {
			break // cannot happen: h.exts holds only whole extensions
		}
		b = b[n:]
	}
	return out
}

func u16s(b []byte) []uint16 {
	out := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		out = append(out, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return out
}

// isServerHello reports whether b starts with a TLS handshake record holding
// a ServerHello (checked as far as the type and version).
func isServerHello(b []byte) bool {
	frag, _, err := tlsRecord(b)
	return err == nil && len(frag) >= 6 && frag[0] == tlsHandshakeServer && frag[4] == 3 && frag[5] <= 4
}

// recognizeTLS reports a ClientHello. A truncated one still names the
// protocol (at low confidence) once its record header, handshake type and
// version are seen, since that much is already specific to TLS.
func recognizeTLS(r *Result, client, server []byte) {
	h, err := ParseClientHello(client)
	switch {
	case err == nil:
		r.Protocol, r.Confidence = ProtoTLS, ConfidenceMedium
		r.addEvidence(EvTLSClientHello)
		r.JA3, r.JA4 = h.JA3(), h.JA4()
	case errors.Is(err, ErrTruncated) && h.Version != 0:
		r.Protocol, r.Confidence = ProtoTLS, ConfidenceLow
		r.addEvidence(EvTLSTruncated)
	default:
		return
	}
	if h.SNI != "" {
		r.SNI = h.SNI
		r.addEvidence(EvTLSSNI)
	}
	if len(h.ALPN) > 0 {
		r.ALPN = h.ALPN
		r.addEvidence(EvTLSALPN)
	}
	if isServerHello(server) {
		r.addEvidence(EvTLSServerHello)
		if r.Confidence == ConfidenceMedium {
			r.Confidence = ConfidenceHigh
		}
	}
}
