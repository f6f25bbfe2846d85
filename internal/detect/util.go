package detect

import (
	"strconv"
	"unicode/utf8"
)

// maxQuoted bounds how much of an untrusted string goes into a message.
const maxQuoted = 200

// quote makes an untrusted string (a process name, a path) safe to print:
// Go-quoted so newlines and invalid UTF-8 are visible, and shortened.
func quote(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
