package testbed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/sha3"
)

const b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func b58decode(t *testing.T, s string) []byte {
	t.Helper()
	n := new(big.Int)
	for _, c := range s {
		i := strings.IndexRune(b58, c)
		if i < 0 {
			t.Fatalf("bad base58 char %q", c)
		}
		n.Mul(n, big.NewInt(58)).Add(n, big.NewInt(int64(i)))
	}
	return n.Bytes()
}

func keccak(b []byte) []byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(b)
	return h.Sum(nil)
}

func TestMoneroChecksum(t *testing.T) {
	// Monero base58 works in 11-char blocks of 8 bytes; the last 7 chars are 5 bytes.
	var raw []byte
	s := MoneroWallet
	if len(s) != 95 {
		t.Fatalf("length %d", len(s))
	}
	for len(s) > 0 {
		n, size := min(11, len(s)), 8
		if n == 7 {
			size = 5
		}
		blk := b58decode(t, s[:n])
		raw = append(raw, append(make([]byte, size-len(blk)), blk...)...)
		s = s[n:]
	}
	if len(raw) != 69 || raw[0] != 0x12 {
		t.Fatalf("decoded %d bytes, net byte %#x", len(raw), raw[0])
	}
	if !bytes.Equal(keccak(raw[:65])[:4], raw[65:]) {
		t.Fatal("Monero checksum mismatch")
	}
}

func TestBitcoinBase58Check(t *testing.T) {
	raw := b58decode(t, BitcoinWallet)
	raw = append(make([]byte, 25-len(raw)), raw...) // leading '1' is a zero byte
	h1 := sha256.Sum256(raw[:21])
	h2 := sha256.Sum256(h1[:])
	if !bytes.Equal(h2[:4], raw[21:]) {
		t.Fatal("base58check mismatch")
	}
}

func TestBech32Checksum(t *testing.T) {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	hrp, data, _ := strings.Cut(BitcoinBech32Wallet, "1")
	var v []int
	for _, c := range hrp {
		v = append(v, int(c)>>5)
	}
	v = append(v, 0)
	for _, c := range hrp {
		v = append(v, int(c)&31)
	}
	for _, c := range data {
		v = append(v, strings.IndexRune(charset, c))
	}
	gen := []int{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := 1
	for _, x := range v {
		b := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ x
		for i := range 5 {
			if (b>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	if chk != 1 {
		t.Fatalf("bech32 polymod = %#x, want 1", chk)
	}
}

func TestEthereumEIP55(t *testing.T) {
	addr := strings.TrimPrefix(EthereumWallet, "0x")
	if _, err := hex.DecodeString(addr); err != nil || len(addr) != 40 {
		t.Fatalf("not a 20-byte hex address: %v", err)
	}
	h := hex.EncodeToString(keccak([]byte(strings.ToLower(addr))))
	for i, c := range addr {
		if c >= '0' && c <= '9' {
			continue
		}
		upper := h[i] >= '8'
		if upper != (c >= 'A' && c <= 'F') {
			t.Fatalf("EIP-55 case wrong at %d", i)
		}
	}
}
