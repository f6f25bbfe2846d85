package wallet

// Hard limits on Find, so hostile text (a huge config, a command line
// stuffed with base58) costs bounded time.
const (
	// MaxFindBytes is how much of its input Find looks at; the rest is ignored.
	MaxFindBytes = 1 << 20
	// MaxFindCandidates is how many address-shaped tokens Find validates
	// before it stops scanning.
	MaxFindCandidates = 10_000
)

// Find returns the valid addresses in arbitrary text, in order of first
// appearance and without repeats.
//
// Every address format uses only ASCII letters and digits, so the text is cut
// into maximal runs of those: stratum logins such as WALLET.worker,
// WALLET+diff or WALLET/worker, --user=WALLET and JSON strings all split
// cleanly. A run is validated only when its length, first characters and
// alphabet fit some format; it must then pass Parse, checksum included.
func Find(s string) []Address {
	if len(s) > MaxFindBytes {
		s = s[:MaxFindBytes]
	}
	var (
		out        []Address
		seen       map[string]bool
		candidates int
	)
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		tok := s[i:j]
		i = j
		if !plausible(tok) {
			continue
		}
		if candidates++; candidates > MaxFindCandidates {
			break
		}
		a, err := Parse(tok)
		if err != nil || seen[tok] {
			continue
		}
		if seen == nil {
			seen = make(map[string]bool)
		}
		seen[tok] = true
		out = append(out, a)
	}
	return out
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// plausible is a cheap shape test so that only tokens that could be an
// address count against MaxFindCandidates. tok is non-empty and alphanumeric.
func plausible(tok string) bool {
	n := len(tok)
	switch {
	case n == 2+ethHexLen && tok[0] == '0' && tok[1] == 'x':
		return allIn(tok[2:], isHex)
	case n >= 14 && n <= bech32MaxLen && hasBech32Prefix(tok):
		sep := 0
		for tok[sep] != '1' {
			sep++
		}
		return allIn(tok[sep+1:], isBech32Char)
	case (tok[0] == '4' || tok[0] == '8') && (n == moneroStdChars || n == moneroIntChars):
		return allIn(tok, isBase58)
	case isBase58CheckLead(tok[0]) && n >= b58CheckMinChars && n <= b58CheckMaxChars:
		return allIn(tok, isBase58)
	}
	return false
}

func allIn(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isBase58(c byte) bool { return base58Index[c] >= 0 }

func isBech32Char(c byte) bool {
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	return bech32Index[c] >= 0
}
