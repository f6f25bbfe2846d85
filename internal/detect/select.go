package detect

import (
	"fmt"

	"github.com/davyproject/davy/internal/finding"
)

// Selection says which detectors run: those in Groups (all groups when
// empty), plus any named in Enable, minus any named in Disable.
type Selection struct {
	Groups  []finding.Group
	Enable  []string
	Disable []string
	// Ignore drops evidence by ID (e.g. DAVY-P003) from every verdict.
	Ignore []string
}

// CheckIgnore validates the evidence IDs of Selection.Ignore.
func (s Selection) CheckIgnore() (map[string]bool, error) {
	out := map[string]bool{}
	for _, id := range s.Ignore {
		if _, ok := finding.Rules[id]; !ok {
			return nil, fmt.Errorf("unknown evidence id %q (see docs/detectors.md)", id)
		}
		out[id] = true
	}
	return out, nil
}

// Select resolves a selection against the registry.
func Select(sel Selection) ([]Detector, error) {
	inGroup := map[finding.Group]bool{}
	for _, g := range sel.Groups {
		inGroup[g] = true
	}
	on := map[string]bool{}
	for _, d := range All() {
		on[d.Name()] = len(inGroup) == 0 || inGroup[d.Group()]
	}
	for _, n := range sel.Enable {
		if _, err := Lookup(n); err != nil {
			return nil, err
		}
		on[n] = true
	}
	for _, n := range sel.Disable {
		if _, err := Lookup(n); err != nil {
			return nil, err
		}
		on[n] = false
	}
	var out []Detector
	for _, d := range All() {
		if on[d.Name()] {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no detector selected")
	}
	return out, nil
}
