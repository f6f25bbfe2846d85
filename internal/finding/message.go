package finding

import (
	"strconv"
	"unicode/utf8"
)

// maxQuoted bounds how much of an untrusted string goes into a message.
const maxQuoted = 200

// Quote makes an untrusted string (a process name, a path, a script line)
// safe to put in a message: Go-quoted so newlines and invalid UTF-8 are
// visible, and shortened.
func Quote(s string) string { return strconv.Quote(Cut(s, maxQuoted)) }

// Cut shortens s to at most n bytes on a rune boundary, marking the cut.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// ShortWallet keeps wallet addresses (95+ characters) readable in messages.
func ShortWallet(s string) string {
	if len(s) <= 24 {
		return s
	}
	return s[:12] + "…" + s[len(s)-8:]
}
