package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/davyproject/davy/internal/content"
	"github.com/davyproject/davy/internal/intel"
)

// Signature sets for ClamAV and YARA made from Davy's own content
// indicators, one signature or rule per indicator with the same bytes, so
// all three look for the same things. (ClamAV's official databases cannot
// be downloaded here, and they would look for far more.) Weak indicators
// are included: Davy's matcher searches for them too, and the cost of the
// search is what is compared.

const sigPrefix = "Davy.Bench."

func indicators() ([]content.Indicator, error) {
	in, err := intel.Load("")
	if err != nil {
		return nil, fmt.Errorf("loading davy's indicators: %w", err)
	}
	return in.ContentIndicators(), nil
}

// writeNDB writes a ClamAV extended signature database: Name:TargetType:Offset:Hex,
// target type 0 (any file), offset * (anywhere).
func writeNDB(file string, inds []content.Indicator) error {
	var b strings.Builder
	for _, ind := range inds {
		fmt.Fprintf(&b, "%s%s:0:*:%s\n", sigPrefix, ind.Name, hex.EncodeToString(ind.Pattern))
	}
	return writeFile(file, b.String())
}

// writeYARA writes one rule per indicator, its bytes as a hex string.
func writeYARA(file string, inds []content.Indicator) error {
	var b strings.Builder
	for _, ind := range inds {
		fmt.Fprintf(&b, "rule davy_%s {\n  meta:\n    category = %q\n    weak = %t\n  strings:\n    $p = { %s }\n  condition:\n    $p\n}\n\n",
			yaraIdent(ind.Name), ind.Category, ind.Weak, spacedHex(ind.Pattern))
	}
	return writeFile(file, b.String())
}

func yaraIdent(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

func spacedHex(p []byte) string {
	parts := make([]string, len(p))
	for i, c := range p {
		parts[i] = hex.EncodeToString([]byte{c})
	}
	return strings.Join(parts, " ")
}

func writeFile(file, s string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	return nil
}

// weakNames holds the weak indicators under the names ClamAV and YARA
// report them by, to tell their weak-only hits from strong ones.
func weakNames(inds []content.Indicator) map[string]bool {
	weak := map[string]bool{}
	for _, ind := range inds {
		if ind.Weak {
			weak[ind.Name] = true
			weak[yaraIdent(ind.Name)] = true
		}
	}
	return weak
}
