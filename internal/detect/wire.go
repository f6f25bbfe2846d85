package detect

import (
	"context"

	"github.com/davyproject/davy/internal/finding"
)

// Wire is what a network watcher saw a workload say on the wire, as
// evidence (DAVY-N003, N004, N005). davy agent sets Env.Wire when it
// captures packets; without it the detector finds nothing.
type Wire interface {
	Evidence(w *Workload) []finding.Evidence
}

// wire reports what the network watcher attributed to the workload: a
// mining protocol on any port, a known pool by a name the workload itself
// resolved or sent, an opening shaped like encrypted Stratum V2.
// Evidence: DAVY-N003, DAVY-N004, DAVY-N005.
type wire struct{}

func init() { Register(wire{}) }

func (wire) Name() string         { return "wire" }
func (wire) Group() finding.Group { return finding.GroupNetwork }

func (wire) Detect(_ context.Context, env *Env, w *Workload) []finding.Evidence {
	if env.Wire == nil {
		return nil
	}
	return env.Wire.Evidence(w)
}
