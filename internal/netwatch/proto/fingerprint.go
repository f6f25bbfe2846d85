package proto

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// TLS client fingerprints. Two are given because they answer different
// needs: JA3 is what most published threat intel lists (as its MD5), and
// JA4 (FoxIO's TLS client fingerprint, BSD-3-Clause) sorts cipher suites
// and extensions, so it stays stable under the extension-order
// randomisation browsers and Go's crypto/tls apply.

// isGREASE reports RFC 8701 values (0x0a0a, 0x1a1a, ... 0xfafa), which
// clients insert at random and every fingerprint ignores.
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// JA3 returns the JA3 string:
// "Version,Ciphers,Extensions,Groups,PointFormats", each list of decimal
// values joined by '-', GREASE left out. JA3Hash gives the usual MD5 form.
func (h *ClientHello) JA3() string {
	buf := make([]byte, 0, 64+3*len(h.ciphers)+3*len(h.exts)/4+3*len(h.groups)+2*len(h.pointFormats))
	buf = strconv.AppendUint(buf, uint64(h.Version), 10)
	buf = append(buf, ',')
	buf = appendDecimal(buf, h.ciphers)
	buf = append(buf, ',')
	first := true
	h.eachExtension(func(typ uint16) {
		if isGREASE(typ) {
			return
		}
		if !first {
			buf = append(buf, '-')
		}
		first = false
		buf = strconv.AppendUint(buf, uint64(typ), 10)
	})
	buf = append(buf, ',')
	buf = appendDecimal(buf, h.groups)
	buf = append(buf, ',')
	for i, f := range h.pointFormats {
		if i > 0 {
			buf = append(buf, '-')
		}
		buf = strconv.AppendUint(buf, uint64(f), 10)
	}
	return string(buf)
}

// JA3Hash is the MD5 of a JA3 string, in lowercase hex, as JA3 lists give it.
func JA3Hash(ja3 string) string {
	sum := md5.Sum([]byte(ja3))
	return hex.EncodeToString(sum[:])
}

// appendDecimal appends a big-endian u16 list as decimals joined by '-',
// without GREASE values.
func appendDecimal(buf, list []byte) []byte {
	first := true
	for i := 0; i+1 < len(list); i += 2 {
		v := uint16(list[i])<<8 | uint16(list[i+1])
		if isGREASE(v) {
			continue
		}
		if !first {
			buf = append(buf, '-')
		}
		first = false
		buf = strconv.AppendUint(buf, uint64(v), 10)
	}
	return buf
}

func (h *ClientHello) eachExtension(fn func(typ uint16)) {
	b := h.exts
	for len(b) >= 4 {
		fn(uint16(b[0])<<8 | uint16(b[1]))
		n := 4 + (int(b[2])<<8 | int(b[3]))
		if n > len(b) {
			return
		}
		b = b[n:]
	}
}

// JA4 returns the JA4 fingerprint, e.g. "t13d1516h2_8daaf6152771_e5627efa2ab1":
// transport ("t", TCP), TLS version (highest of supported_versions, else the
// legacy version), "d" with SNI or "i" without, cipher and extension counts
// (two digits, GREASE left out), the first ALPN value's first and last
// characters; then the truncated SHA-256 of the sorted cipher suites; then
// that of the sorted extensions (without SNI and ALPN) followed by the
// signature algorithms in order.
func (h *ClientHello) JA4() string {
	ciphers := withoutGREASE(u16s(h.ciphers))
	exts := make([]uint16, 0, len(h.exts)/4) // each extension is at least 4 bytes
	nExt := 0
	h.eachExtension(func(typ uint16) {
		if isGREASE(typ) {
			return
		}
		nExt++
		if typ != extServerName && typ != extALPN {
			exts = append(exts, typ)
		}
	})
	out := make([]byte, 0, 36)
	out = append(out, 't')
	out = append(out, ja4Version(h)...)
	if h.HasSNI {
		out = append(out, 'd')
	} else {
		out = append(out, 'i')
	}
	out = appendTwoDigits(out, len(ciphers))
	out = appendTwoDigits(out, nExt)
	out = appendALPN(out, h.alpnFirst)
	out = append(out, '_')
	// One buffer serves both hashed lists: 5 bytes per value.
	sig := withoutGREASE(u16s(h.sigAlgs))
	list := make([]byte, 0, 5*max(len(ciphers), len(exts)+len(sig)+1))
	slices.Sort(ciphers)
	out = appendHash12(out, hexList(list, ciphers), len(ciphers) == 0)
	out = append(out, '_')
	slices.Sort(exts)
	list = hexList(list[:0], exts)
	if len(sig) > 0 {
		list = append(list, '_')
		list = hexList(list, sig)
	}
	out = appendHash12(out, list, len(exts) == 0)
	return string(out)
}

func withoutGREASE(v []uint16) []uint16 {
	return slices.DeleteFunc(v, isGREASE)
}

func ja4Version(h *ClientHello) string {
	v := h.Version
	if vs := withoutGREASE(u16s(h.versions)); len(vs) > 0 {
		v = slices.Max(vs)
	}
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

func appendTwoDigits(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// appendALPN appends the first ALPN value's first and last characters, or
// those of its hex form when either is not alphanumeric, or "00" if none.
func appendALPN(b, alpn []byte) []byte {
	if len(alpn) == 0 {
		return append(b, '0', '0')
	}
	first, last := alpn[0], alpn[len(alpn)-1]
	if isAlnum(first) && isAlnum(last) {
		return append(b, first, last)
	}
	const digits = "0123456789abcdef"
	return append(b, digits[first>>4], digits[last&0x0f])
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// hexList appends values as 4-digit lowercase hex joined by commas.
func hexList(b []byte, v []uint16) []byte {
	const digits = "0123456789abcdef"
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[x>>12], digits[x>>8&0xf], digits[x>>4&0xf], digits[x&0xf])
	}
	return b
}

// appendHash12 appends the first 12 hex digits of SHA-256(list), or twelve
// zeros when the list is empty (JA4's marker for "no values").
func appendHash12(b, list []byte, empty bool) []byte {
	if empty {
		return append(b, "000000000000"...)
	}
	sum := sha256.Sum256(list)
	return hex.AppendEncode(b, sum[:6])
}
