// Package finding holds the vocabulary every other package shares: evidence
// with stable IDs, the groups detectors belong to, and verdicts.
package finding

import (
	"fmt"
	"sort"
)

// Group is the family a detector belongs to; `--groups` selects by it.
type Group string

// The detector groups. They order signals roughly from strongest to weakest.
const (
	GroupIdentity  Group = "identity"
	GroupCmdline   Group = "cmdline"
	GroupConfig    Group = "config"
	GroupLogs      Group = "logs"
	GroupNetwork   Group = "network"
	GroupBehaviour Group = "behaviour"
	GroupLocation  Group = "location"
)

// Groups lists every group in a stable order.
var Groups = []Group{GroupIdentity, GroupCmdline, GroupConfig, GroupLogs, GroupNetwork, GroupBehaviour, GroupLocation}

// ParseGroup validates a group name given by a user.
func ParseGroup(s string) (Group, error) {
	for _, g := range Groups {
		if string(g) == s {
			return g, nil
		}
	}
	return "", fmt.Errorf("unknown detector group %q (known: %v)", s, Groups)
}

// Verdict is the conclusion about one workload.
type Verdict string

// Verdicts, from worst to best.
const (
	VerdictMiner      Verdict = "miner"
	VerdictSuspicious Verdict = "suspicious"
	VerdictClean      Verdict = "clean"
)

// Rank orders verdicts: higher is worse.
func (v Verdict) Rank() int {
	switch v {
	case VerdictMiner:
		return 2
	case VerdictSuspicious:
		return 1
	}
	return 0
}

// ParseVerdict validates a verdict name given by a user.
func ParseVerdict(s string) (Verdict, error) {
	switch Verdict(s) {
	case VerdictMiner, VerdictSuspicious, VerdictClean:
		return Verdict(s), nil
	}
	return "", fmt.Errorf("unknown verdict %q (known: miner, suspicious, clean)", s)
}

// Evidence is one matched signal about a workload.
type Evidence struct {
	// ID is stable across releases (e.g. DAVY-C001); it names the signal, not
	// the detector run, so it can be used in allowlists, metrics and docs.
	ID      string `json:"id"`
	Weight  int    `json:"weight"`
	Message string `json:"message"`
	// Detector and Group say which detector produced the evidence.
	Detector string `json:"detector"`
	Group    Group  `json:"group"`
	// PID is the process the evidence came from, when it came from one.
	PID int `json:"pid,omitempty"`
	// Values are the measured or matched facts behind the message.
	Values map[string]string `json:"values,omitempty"`
}

// Weak reports whether the evidence's signal alone can be faked or happen
// innocently (a name, a port, a location, CPU use); see Rule.Weak.
func (e Evidence) Weak() bool {
	r, ok := Rules[e.ID]
	return !ok || r.Weak
}

// Rule describes one evidence ID: what it means and how much it weighs.
type Rule struct {
	ID     string
	Group  Group
	Weight int
	// Weak evidence can raise a workload to "suspicious" but never, on its
	// own, to "miner": names, ports, paths and CPU use are easy to share
	// with honest software or to fake.
	Weak    bool
	Summary string
}

// New builds evidence for a registered rule; it panics on an unknown ID
// because that is a programming error caught by any test that reaches it.
func New(id, detector string, pid int, message string, values map[string]string) Evidence {
	r, ok := Rules[id]
	if !ok {
		panic("finding: unknown evidence id " + id)
	}
	return Evidence{ID: id, Weight: r.Weight, Message: message, Detector: detector, Group: r.Group, PID: pid, Values: values}
}

// SortEvidence orders evidence heaviest first, then by ID, for stable output.
func SortEvidence(ev []Evidence) {
	sort.SliceStable(ev, func(i, j int) bool {
		if ev[i].Weight != ev[j].Weight {
			return ev[i].Weight > ev[j].Weight
		}
		if ev[i].ID != ev[j].ID {
			return ev[i].ID < ev[j].ID
		}
		return ev[i].PID < ev[j].PID
	})
}
