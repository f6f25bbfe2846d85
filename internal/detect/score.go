package detect

import (
	"math"

	"github.com/davyproject/davy/internal/finding"
)

// Thresholds turn a score into a verdict.
type Thresholds struct {
	// Miner is the score at or above which a workload is a miner, provided
	// its non-weak evidence alone reaches MinerStrong.
	Miner       int
	MinerStrong int
	Suspicious  int
}

// DefaultThresholds are documented in docs/detectors.md.
var DefaultThresholds = Thresholds{Miner: 70, MinerStrong: 50, Suspicious: 40}

// Score combines evidence into a 0-100 score and a verdict.
//
// Weights combine like independent probabilities (1 - Π(1 - w/100)) so that
// several weak signals add up without ever passing 100, and each evidence ID
// counts once per workload at its heaviest, so eight copies of one miner
// process do not outweigh one strong signal. A workload whose strong
// evidence stays below MinerStrong is at most suspicious: names, ports,
// paths and CPU use alone never make a miner.
func Score(ev []finding.Evidence, th Thresholds) (int, finding.Verdict) {
	all, strong := combine(ev)
	switch {
	case all >= th.Miner && strong >= th.MinerStrong:
		return all, finding.VerdictMiner
	case all >= th.Suspicious:
		return all, finding.VerdictSuspicious
	}
	return all, finding.VerdictClean
}

func combine(ev []finding.Evidence) (all, strong int) {
	heaviest := map[string]finding.Evidence{}
	for _, e := range ev {
		if cur, ok := heaviest[e.ID]; !ok || e.Weight > cur.Weight {
			heaviest[e.ID] = e
		}
	}
	missAll, missStrong := 1.0, 1.0
	for _, e := range heaviest {
		w := math.Min(math.Max(float64(e.Weight), 0), 100) / 100
		missAll *= 1 - w
		if !e.Weak() {
			missStrong *= 1 - w
		}
	}
	return int(math.Round(100 * (1 - missAll))), int(math.Round(100 * (1 - missStrong)))
}
