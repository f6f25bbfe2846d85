package detect

import (
	"context"
	"path"
	"strings"

	"github.com/davyproject/davy/internal/finding"
)

// nameMismatch flags processes whose name differs from their executable's,
// a cheap disguise (a miner calling itself "kworker" or "nginx").
// Evidence: DAVY-P003.
type nameMismatch struct{}

func init() { Register(nameMismatch{}) }

func (nameMismatch) Name() string         { return "name-mismatch" }
func (nameMismatch) Group() finding.Group { return finding.GroupLocation }

// commLen is the kernel's limit on comm (TASK_COMM_LEN - 1).
const commLen = 15

func (d nameMismatch) Detect(_ context.Context, _ *Env, w *Workload) []finding.Evidence {
	var out []finding.Evidence
	for _, p := range w.Processes {
		if p.Exe == "" || p.Comm == "" || p.ExeMemfd {
			continue
		}
		if nameMatches(p.Comm, path.Base(p.Exe)) || commFromArgs(p.Comm, p.Cmdline) {
			continue
		}
		out = append(out, finding.New("DAVY-P003", d.Name(), p.PID,
			"process calls itself "+quote(p.Comm)+" but runs "+quote(p.Exe),
			map[string]string{"comm": p.Comm, "exe": p.Exe}))
	}
	return out
}

// nameMatches compares a comm with a file name, allowing for the kernel's
// truncation of comm.
func nameMatches(comm, base string) bool {
	if len(base) > commLen {
		base = base[:commLen]
	}
	return comm == base
}

// commFromArgs accepts names that come from the command line rather than
// the executable: scripts run by an interpreter take the script's name, and
// programs exec'd through a symlink or multi-call binary take argv[0]'s.
func commFromArgs(comm string, args []string) bool {
	for i, a := range args {
		if i > 2 {
			break
		}
		if nameMatches(comm, path.Base(a)) {
			return true
		}
	}
	// Programs such as "postgres: writer" set a title that starts with the name.
	return len(args) > 0 && strings.HasPrefix(args[0], comm)
}
