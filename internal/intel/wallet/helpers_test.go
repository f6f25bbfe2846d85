package wallet

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// Encoders used only to make fresh valid addresses in tests.

func encodeBase58(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	num := append([]byte(nil), b[zeros:]...)
	var digits []byte
	for len(num) > 0 {
		rem := 0
		next := num[:0]
		for _, x := range num {
			cur := rem<<8 | int(x)
			q := cur / 58
			rem = cur % 58
			if len(next) > 0 || q > 0 {
				next = append(next, byte(q))
			}
		}
		digits = append(digits, base58Alphabet[rem])
		num = next
	}
	out := strings.Repeat("1", zeros)
	for i := len(digits) - 1; i >= 0; i-- {
		out += string(digits[i])
	}
	return out
}

func encodeBase58Check(version byte, hash [20]byte) string {
	body := append([]byte{version}, hash[:]...)
	return encodeBase58(append(body, doubleSHA256(body)[:4]...))
}

func encodeSegwit(hrp string, version byte, program []byte) string {
	data := []byte{version}
	var acc uint32
	var nbits uint
	for _, b := range program {
		acc = acc<<8 | uint32(b)
		nbits += 8
		for nbits >= 5 {
			nbits -= 5
			data = append(data, byte(acc>>nbits)&31)
		}
	}
	if nbits > 0 {
		data = append(data, byte(acc<<(5-nbits))&31)
	}
	constant := uint32(bech32mConst)
	if version == 0 {
		constant = bech32Const
	}
	mod := bech32Polymod(hrp, append(append([]byte(nil), data...), 0, 0, 0, 0, 0, 0)) ^ constant
	for i := range 6 {
		data = append(data, byte(mod>>(5*(5-i)))&31)
	}
	var sb strings.Builder
	sb.WriteString(hrp + "1")
	for _, d := range data {
		sb.WriteByte(bech32Charset[d])
	}
	return sb.String()
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// mutate returns s with the byte at i replaced by another character of the
// same alphabet, so only the checksum can catch it.
func mutate(s string, i int, alphabet string) string {
	c := alphabet[(strings.IndexByte(alphabet, s[i])+1)%len(alphabet)]
	return s[:i] + string(c) + s[i+1:]
}

// checkParse runs Parse and compares with the expected outcome: want is the
// expected Address, or wantErr the sentinel the error must wrap.
func checkParse(t *testing.T, in string, want Address, wantErr error) {
	t.Helper()
	got, err := Parse(in)
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("Parse(%q) error = %v, want %v (got %+v)", in, err, wantErr, got)
		}
		if got != (Address{}) {
			t.Fatalf("Parse(%q) returned %+v with error", in, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("Parse(%q) error = %v", in, err)
	}
	if got != want {
		t.Fatalf("Parse(%q) = %+v, want %+v", in, got, want)
	}
}
