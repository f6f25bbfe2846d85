package content

import (
	"fmt"
	"strings"
)

// Class is the verdict on one file's content.
type Class int

// Classes, from weakest to strongest.
const (
	None    Class = iota // no miner indicator worth reporting
	Partial              // some miner indicators, not enough to call it a miner
	Miner                // the content of a miner (or of a known miner dropper)
)

func (c Class) String() string {
	switch c {
	case Miner:
		return "miner"
	case Partial:
		return "partial"
	}
	return "none"
}

// minerCategory reports whether a category counts as miner evidence; packer
// markers do not (honest software is packed too).
func minerCategory(c string) bool {
	return c == CategoryAlgorithm || c == CategoryStratum || c == CategoryBanner || c == CategoryDropper
}

// Classify judges the hits.
//
// A miner needs two kinds of evidence that only a miner combines: the
// proof-of-work it computes (an algorithm indicator) and the pool it talks to
// or the program it announces itself as (a stratum or banner indicator); or,
// when algorithm strings were stripped, two distinct banner indicators and a
// stratum one. On top of that at least two of the matched indicators must be
// strong, so generic words (an algorithm name, a daemon's name) cannot reach the
// verdict together. Three distinct strong dropper symbols (e.g. Kinsing's Go
// functions) are a miner dropper on their own.
//
// One category alone is never Miner: a Monero wallet carries the RandomX
// salt, a pool server carries stratum methods, and generic crypto constants
// (AES S-boxes, Keccak round constants) are not indicators at all.
//
// Partial means at least one strong miner indicator, or two weak ones.
func (r Result) Classify() Class {
	var all, strong = map[string]int{}, map[string]int{}
	strongTotal, weakTotal := 0, 0
	for _, h := range r.Hits {
		if !minerCategory(h.Category) {
			continue
		}
		all[h.Category]++
		if h.Weak {
			weakTotal++
			continue
		}
		strong[h.Category]++
		if h.Category != CategoryDropper {
			strongTotal++
		}
	}
	alg, str, ban := all[CategoryAlgorithm], all[CategoryStratum], all[CategoryBanner]
	combo := (alg >= 1 && (str >= 1 || ban >= 1)) || (ban >= 2 && str >= 1)
	switch {
	case combo && strongTotal >= 2:
		return Miner
	case strong[CategoryDropper] >= 3:
		return Miner
	case strongTotal+strong[CategoryDropper] >= 1 || weakTotal >= 2:
		return Partial
	}
	return None
}

// Names returns the names of the matched indicators in Hits order.
func (r Result) Names() []string {
	names := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		names[i] = h.Name
	}
	return names
}

// ByCategory groups the matched indicator names by category.
func (r Result) ByCategory() map[string][]string {
	m := make(map[string][]string)
	for _, h := range r.Hits {
		m[h.Category] = append(m[h.Category], h.Name)
	}
	return m
}

// Summary renders the hits for an evidence message, e.g.
// "algorithm: randomx-salt-monero; stratum: stratum-tcp-url".
func (r Result) Summary() string {
	var parts []string
	by := r.ByCategory()
	for _, c := range Categories {
		if names := by[c]; len(names) > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s", c, strings.Join(names, ", ")))
		}
	}
	return strings.Join(parts, "; ")
}
