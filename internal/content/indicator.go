package content

import (
	"fmt"
	"slices"
)

// Indicator categories. Classify weighs them differently: algorithm
// constants, stratum strings, miner banners and dropper symbols are miner
// evidence; packer markers are only reported.
const (
	CategoryAlgorithm = "algorithm" // proof-of-work constants and algorithm ids
	CategoryStratum   = "stratum"   // pool protocol methods and URL schemes
	CategoryBanner    = "banner"    // help, banner, user-agent and donate strings of a miner
	CategoryDropper   = "dropper"   // symbols of known miner droppers (e.g. Kinsing)
	CategoryPacker    = "packer"    // packer markers such as UPX
)

// Categories lists the known categories in reporting order.
var Categories = []string{CategoryAlgorithm, CategoryStratum, CategoryBanner, CategoryDropper, CategoryPacker}

// Indicator is one byte pattern to look for in a file.
type Indicator struct {
	Name     string // stable, unique identifier used in evidence
	Category string // one of Categories
	Pattern  []byte
	Source   string // where the fact comes from
	// Weak marks a pattern that honest software can also contain (a common
	// word such as an algorithm name or a daemon name): it counts toward a
	// miner match only together with strong ones. See Result.Classify.
	Weak bool
}

// ValidCategory reports whether c is a known category.
func ValidCategory(c string) bool { return slices.Contains(Categories, c) }

// Validate checks one indicator on its own.
func (ind Indicator) Validate() error {
	switch {
	case ind.Name == "":
		return fmt.Errorf("indicator has no name")
	case !ValidCategory(ind.Category):
		return fmt.Errorf("indicator %q: unknown category %q (known: %v)", ind.Name, ind.Category, Categories)
	case len(ind.Pattern) == 0:
		return fmt.Errorf("indicator %q: empty pattern", ind.Name)
	case len(ind.Pattern) > MaxPatternLen:
		return fmt.Errorf("indicator %q: pattern of %d bytes, more than the limit of %d", ind.Name, len(ind.Pattern), MaxPatternLen)
	}
	return nil
}

func categoryRank(c string) int {
	if i := slices.Index(Categories, c); i >= 0 {
		return i
	}
	return len(Categories)
}
