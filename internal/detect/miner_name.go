package detect

import (
	"context"
	"path"

	"github.com/davyproject/davy/internal/finding"
)

// minerName compares names with known miner programs. Any file can be
// renamed either way, so this is the weakest evidence there is.
// Evidence: DAVY-C004.
type minerName struct{}

func init() { Register(minerName{}) }

func (minerName) Name() string         { return "miner-name" }
func (minerName) Group() finding.Group { return finding.GroupCmdline }

func (d minerName) Detect(_ context.Context, env *Env, w *Workload) []finding.Evidence {
	var out []finding.Evidence
	for _, p := range w.Processes {
		names := []string{p.Comm, path.Base(p.Exe)}
		if len(p.Cmdline) > 0 {
			names = append(names, path.Base(p.Cmdline[0]))
		}
		for _, n := range names {
			if e, ok := env.Intel.MinerName(n); ok {
				out = append(out, finding.New("DAVY-C004", d.Name(), p.PID,
					"named like the miner "+quote(e.Value)+": "+quote(n), map[string]string{"name": n, "source": e.Source}))
				break
			}
		}
	}
	return out
}
