package filescan

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxQuoted bounds how much of an untrusted string goes into a message.
const maxQuoted = 200

// quote makes an untrusted string (a path, a line of a script) safe to
// print: Go-quoted so newlines and invalid UTF-8 are visible, and shortened.
func quote(s string) string { return strconv.Quote(cut(s, maxQuoted)) }

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// excerpt is a line as evidence shows it: trimmed and bounded.
func excerpt(line string) string { return cut(strings.TrimSpace(line), 160) }

// shorten keeps wallet addresses readable in messages.
func shorten(s string) string {
	if len(s) <= 24 {
		return s
	}
	return s[:12] + "…" + s[len(s)-8:]
}
