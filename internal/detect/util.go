package detect

import "github.com/davyproject/davy/internal/finding"

// quote and shorten format untrusted strings for evidence messages.
var (
	quote   = finding.Quote
	shorten = finding.ShortWallet
)
