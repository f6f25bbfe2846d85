package filescan

import (
	"strings"

	"github.com/davyproject/davy/internal/finding"
)

// quote, cut and shorten format untrusted strings for evidence messages.
var (
	quote   = finding.Quote
	cut     = finding.Cut
	shorten = finding.ShortWallet
)

// excerpt is a line as evidence shows it: trimmed and bounded.
func excerpt(line string) string { return cut(strings.TrimSpace(line), 160) }
