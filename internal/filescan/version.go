package filescan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// rulesRevision changes whenever this package's own rules (scripts,
// configs, archives, thresholds) change what a file yields, so cached
// per-layer results made by older rules are not reused.
const rulesRevision = 4

// Version identifies what this engine would answer for any file: its own
// rules, its options (limits change what is read) and the indicator data it
// was built with (built-in plus --intel).
func (e *Engine) Version() string {
	h := sha256.New()
	fmt.Fprintf(h, "rules %d %s\n%+v\n", rulesRevision, ResultVersion, e.opts)
	// Domains, names and hashes change findings too; intel exposes only
	// their counts, which catch additions from --intel (not replacements).
	fmt.Fprintf(h, "%+v\n", e.in.Counts())
	for _, in := range e.Content().Indicators() {
		fmt.Fprintf(h, "%s\x00%s\x00%t\x00%x\n", in.Name, in.Category, in.Weak, in.Pattern)
	}
	return "fs" + fmt.Sprint(rulesRevision) + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}
