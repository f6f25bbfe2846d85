// Package detect holds the detectors, one per file, each registered by name,
// and the scorer that turns their evidence into a verdict.
package detect

import (
	"context"
	"fmt"
	"sort"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/host"
)

// Workload is what a verdict is about: a container, or a process outside one.
type Workload struct {
	Kind      string // "container" or "process"
	ID        string
	Name      string
	Container *host.Container
	Processes []*host.Process
}

// Workload kinds.
const (
	KindContainer = "container"
	KindProcess   = "process"
)

// Detector looks at one workload and returns the evidence it finds.
// Detectors must be safe for concurrent use across workloads.
type Detector interface {
	Name() string
	Group() finding.Group
	Detect(ctx context.Context, env *Env, w *Workload) []finding.Evidence
}

var registry = map[string]Detector{}

// Register adds a detector; called from init() in each detector's file.
func Register(d Detector) {
	if _, dup := registry[d.Name()]; dup {
		panic("detect: duplicate detector " + d.Name())
	}
	registry[d.Name()] = d
}

// All returns every registered detector sorted by name.
func All() []Detector {
	out := make([]Detector, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Lookup finds a registered detector by name.
func Lookup(name string) (Detector, error) {
	d, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown detector %q", name)
	}
	return d, nil
}
