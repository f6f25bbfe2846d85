// Package wallet recognises cryptocurrency wallet addresses in command lines,
// config files and stratum logins.
//
// A miner's `-u WALLET` is strong evidence only when the address really is an
// address, so every format here is accepted only with a valid checksum:
// random base58- or hex-looking strings must not match. The one exception is
// Ethereum-style hex without EIP-55 mixed case, which carries no checksum at
// all; it is reported with Kind "hex" so callers can weigh it lower.
//
// Only mainnet formats are recognised: a testnet address on a host is not
// someone being paid for mining.
package wallet

import (
	"errors"
	"fmt"
)

// Address is one recognised, checksum-valid wallet address.
type Address struct {
	Coin string // one of the Coin* constants
	Kind string // one of the Kind* constants
	Text string // the address exactly as it appeared in the input
}

// Coins.
const (
	CoinMonero   = "monero"
	CoinBitcoin  = "bitcoin"
	CoinLitecoin = "litecoin"
	// CoinEthereum covers every chain using Ethereum's address format
	// (Ethereum Classic, BSC, ...): the address alone cannot tell them apart.
	CoinEthereum = "ethereum"
)

// Kinds.
const (
	KindStandard   = "standard"   // Monero primary address
	KindIntegrated = "integrated" // Monero address with an 8-byte payment ID
	KindSubaddress = "subaddress" // Monero subaddress
	KindP2PKH      = "p2pkh"      // base58check pay-to-pubkey-hash
	KindP2SH       = "p2sh"       // base58check pay-to-script-hash
	KindBech32     = "bech32"     // segwit v0 (BIP-173)
	KindBech32m    = "bech32m"    // segwit v1+ (BIP-350), e.g. taproot
	KindEIP55      = "eip55"      // Ethereum mixed-case hex with a valid EIP-55 checksum
	// KindHex is Ethereum hex in a single case: it has no checksum, so any
	// 40 hex digits match. Weaker evidence than every other kind.
	KindHex = "hex"
)

// Errors returned (wrapped) by Parse; test with errors.Is.
var (
	ErrFormat   = errors.New("not a recognised address format")
	ErrLength   = errors.New("wrong length")
	ErrChar     = errors.New("bad character")
	ErrChecksum = errors.New("checksum mismatch")
	ErrNetwork  = errors.New("unsupported network or version")
)

// Parse validates s as exactly one wallet address (no surrounding text or
// whitespace; use Find for that). The format is chosen from the first
// characters, so errors name the format s looked like.
func Parse(s string) (Address, error) {
	var (
		a   Address
		err error
	)
	switch {
	case s == "":
		err = fmt.Errorf("%w: empty string", ErrFormat)
	case len(s) >= 2 && s[0] == '0' && s[1] == 'x':
		a, err = parseEthereum(s)
	case hasBech32Prefix(s):
		a, err = parseSegwit(s)
	case s[0] == '4' || s[0] == '8' || len(s) == moneroStdChars || len(s) == moneroIntChars:
		// Any Monero-length text goes here, so testnet addresses get a
		// network error rather than "unrecognised".
		a, err = parseMonero(s)
	case isBase58CheckLead(s[0]):
		a, err = parseBase58Check(s)
	default:
		err = fmt.Errorf("%w: no known address starts with %q", ErrFormat, s[0])
	}
	if err != nil {
		return Address{}, fmt.Errorf("wallet: %w", err)
	}
	return a, nil
}

// badChar formats a bad-character error; the index is in bytes.
func badChar(coin string, s string, i int) error {
	c := s[i]
	if c < 0x21 || c > 0x7e {
		return fmt.Errorf("%s: %w 0x%02x at index %d", coin, ErrChar, c, i)
	}
	return fmt.Errorf("%s: %w %q at index %d", coin, ErrChar, c, i)
}
