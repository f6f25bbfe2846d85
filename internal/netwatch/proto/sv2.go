package proto

import "strings"

// Stratum V2 is binary and, off the local network, encrypted with a Noise NX
// handshake (Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256) before its first
// message; it has no magic bytes. Two things can be recognised honestly:
//
//   - A plaintext connection (allowed on a LAN, used by test setups): its
//     first frame is SetupConnection, a fully checkable structure. Reported
//     as "stratum-v2", medium confidence (high with the server's reply).
//   - An encrypted one: the client opens with exactly 64 bytes (its
//     ElligatorSwift-encoded ephemeral key, indistinguishable from random
//     bytes) and the server answers with exactly 234 (its 64-byte ephemeral
//     key, its static key encrypted (64 + 16 MAC) and the encrypted
//     74-byte signature message (+ 16 MAC)). The spec's text says 170, the
//     size of the older 32-byte-key layout (32 + 48 + 90), which older
//     implementations may still send, so 170 is accepted too. Any protocol
//     whose client opens with 64 random-looking bytes fits as well, so this
//     is only ever "stratum-v2-candidate" at low confidence, for the caller
//     to weigh with the destination and the process.
//
// The sizes are those of the first segment each way: once later messages
// follow, the concatenated bytes no longer show them. Flow.ClientFirstLen and
// ServerFirstLen carry them; without them only a capture that stopped after
// the handshake (64 bytes one way, 170 or 234 the other, or nothing yet)
// can be told.

const (
	sv2HeaderLen   = 6
	sv2Act1Len     = 64
	sv2Act2Len     = 64 + 64 + 16 + 74 + 16 // 234
	sv2Act2LenOld  = 32 + 48 + 90           // 170
	sv2SetupMinLen = 1 + 2 + 2 + 4 + 1 + 2 + 1 + 1 + 1 + 1
	sv2SetupMaxLen = 1 + 2 + 2 + 4 + 2 + 5*(1+255)
	// Message types (extension_type 0, the common messages).
	sv2SetupConnection        = 0x00
	sv2SetupConnectionSuccess = 0x01
	sv2SetupConnectionError   = 0x02
	// sv2MaxVersion bounds min_version and max_version: the spec defines
	// version 2 only, so anything far above it is not this protocol.
	sv2MaxVersion = 16
)

// sv2Setup is what a SetupConnection names.
type sv2Setup struct {
	host, vendor, hardware, firmware string
}

// recognizeSV2Plain reports a plaintext SetupConnection; false if the
// client's first frame is not one.
func recognizeSV2Plain(r *Result, client, server []byte) bool {
	s, ok := parseSetupConnection(client)
	if !ok {
		return false
	}
	r.Protocol, r.Confidence = ProtoStratumV2, ConfidenceMedium
	r.addEvidence(EvSV2SetupConnection)
	var agent []string
	for _, v := range []string{s.vendor, s.hardware, s.firmware} {
		if v != "" {
			agent = append(agent, v)
		}
	}
	if a := field(strings.Join(agent, " ")); a != "" {
		r.Agent = a
		r.addEvidence(EvAgent)
	}
	r.Host = field(s.host)
	if isSetupReply(server) {
		r.Confidence = ConfidenceHigh
		r.addEvidence(EvSV2SetupReply)
	}
	return true
}

// sv2Frame checks a plaintext frame header with extension_type 0 (no
// channel bit) and the given message type, and returns its whole payload;
// false if b is another thing or cut short.
func sv2Frame(b []byte, msgType byte, minLen, maxLen int) ([]byte, bool) {
	if len(b) < sv2HeaderLen || b[0] != 0 || b[1] != 0 || b[2] != msgType {
		return nil, false
	}
	n := int(b[3]) | int(b[4])<<8 | int(b[5])<<16
	if n < minLen || n > maxLen || len(b)-sv2HeaderLen < n {
		return nil, false
	}
	return b[sv2HeaderLen : sv2HeaderLen+n], true
}

// parseSetupConnection reads SetupConnection: protocol U8 (0 mining, 1 job
// declaration, 2 template distribution), min_version U16, max_version U16,
// flags U32, endpoint_host STR0_255, endpoint_port U16, vendor,
// hardware_version, firmware and device_id STR0_255; little-endian. Every
// field must fit and together fill the frame exactly.
func parseSetupConnection(b []byte) (sv2Setup, bool) {
	var s sv2Setup
	p, ok := sv2Frame(b, sv2SetupConnection, sv2SetupMinLen, sv2SetupMaxLen)
	if !ok {
		return s, false
	}
	r := leReader{b: p, ok: true}
	proto := r.u8()
	minV, maxV := r.u16(), r.u16()
	r.skip(4) // flags
	host := r.str()
	r.skip(2) // endpoint_port
	s.vendor, s.hardware, s.firmware = r.str(), r.str(), r.str()
	device := r.str()
	if !r.ok || len(r.b) != 0 || proto > 2 || minV < 2 || maxV < minV || maxV > sv2MaxVersion {
		return s, false
	}
	if !validHostChars(host) {
		return s, false
	}
	for _, v := range []string{s.vendor, s.hardware, s.firmware, device} {
		if !printable(v) {
			return s, false
		}
	}
	s.host = host
	return s, true
}

// isSetupReply reports whether the server's first frame is
// SetupConnection.Success {used_version U16, flags U32} or
// SetupConnection.Error {flags U32, error_code STR0_255}.
func isSetupReply(b []byte) bool {
	if p, ok := sv2Frame(b, sv2SetupConnectionSuccess, 6, 6); ok {
		v := int(p[0]) | int(p[1])<<8
		return v >= 2 && v <= sv2MaxVersion
	}
	if p, ok := sv2Frame(b, sv2SetupConnectionError, 5, 4+1+255); ok {
		r := leReader{b: p, ok: true}
		r.skip(4)
		code := r.str()
		return r.ok && len(r.b) == 0 && code != "" && printable(code)
	}
	return false
}

// recognizeSV2Noise reports a flow whose sizes fit a Noise NX handshake (see
// the top of this file for how weak that is).
func recognizeSV2Noise(r *Result, f Flow, client, server []byte) {
	first := f.ClientFirstLen
	if first == 0 {
		first = len(client)
	}
	if first != sv2Act1Len || len(client) < sv2Act1Len || !opaque(client[:sv2Act1Len]) || isWebSocketFrame(client[:sv2Act1Len]) {
		return
	}
	// What follows the key is encrypted too.
	if rest := client[sv2Act1Len:]; len(rest) > 0 && !opaque(rest[:min(len(rest), 256)]) {
		return
	}
	act2 := false
	if len(server) > 0 {
		sfirst := f.ServerFirstLen
		if sfirst == 0 {
			sfirst = len(server)
		}
		if sfirst != sv2Act2Len && sfirst != sv2Act2LenOld || !opaque(server[:min(len(server), sfirst)]) {
			return
		}
		act2 = true
	}
	r.Protocol, r.Confidence = ProtoStratumV2Candidate, ConfidenceLow
	r.addEvidence(EvSV2Act1Size)
	if act2 {
		r.addEvidence(EvSV2Act2Size)
	}
}

// opaque reports whether b looks like key material or ciphertext rather
// than a structured or text protocol: few zero bytes (random data has one in
// 256; binary protocols pad lengths and flags with them), no run of 12
// printable ASCII characters and not mostly printable. Random data fails it
// rarely: 0.03% of 64-byte and 0.35% of 234-byte strings. Short inputs are
// judged leniently: a handful of bytes says little either way.
func opaque(b []byte) bool {
	zeros, printables, run, longest := 0, 0, 0, 0
	for _, c := range b {
		if c == 0 {
			zeros++
		}
		if c >= 0x20 && c < 0x7f {
			printables++
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return zeros <= 3+len(b)/128 && longest < 12 && printables*10 <= len(b)*6+20
}

// isWebSocketFrame reports whether b is exactly one WebSocket frame: a
// masked client frame of 64 bytes is otherwise as random-looking as a key.
func isWebSocketFrame(b []byte) bool {
	if len(b) < 2 || b[0]&0x30 != 0 {
		return false
	}
	switch b[0] & 0x0f {
	case 0, 1, 2, 8, 9, 10:
	default:
		return false
	}
	hdr, n := 2, int(b[1]&0x7f)
	switch n {
	case 126:
		if len(b) < 4 {
			return false
		}
		hdr, n = 4, int(b[2])<<8|int(b[3])
	case 127:
		return false // a 64-bit length cannot describe a 64-byte frame
	}
	if b[1]&0x80 != 0 {
		hdr += 4
	}
	return hdr+n == len(b)
}

// leReader reads little-endian Stratum V2 fields; start it with ok set.
// ok turns false at the first read past the end and stays false.
type leReader struct {
	b  []byte
	ok bool
}

func (r *leReader) take(n int) []byte {
	if !r.ok || n > len(r.b) {
		r.ok = false
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *leReader) skip(n int) { r.take(n) }

func (r *leReader) u8() int {
	if v := r.take(1); v != nil {
		return int(v[0])
	}
	return 0
}

func (r *leReader) u16() int {
	if v := r.take(2); v != nil {
		return int(v[0]) | int(v[1])<<8
	}
	return 0
}

// str reads STR0_255: a length byte and that many bytes.
func (r *leReader) str() string {
	n := r.u8()
	if !r.ok {
		return ""
	}
	return string(r.take(n))
}

// validHostChars accepts an empty host or one without spaces or control
// characters (a DNS name or an IP literal).
func validHostChars(s string) bool {
	return printable(s) && !strings.ContainsRune(s, ' ')
}

// printable reports whether s is printable ASCII (empty is fine).
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
