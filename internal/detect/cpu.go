package detect

import (
	"context"
	"fmt"

	"github.com/davyproject/davy/internal/finding"
)

// cpuUse flags workloads that keep the CPU busy: near their limit, or near
// every core without one, with several threads each near a full core.
// Honest batch jobs do this too, so the evidence is weak and only adds to
// stronger signals. Evidence: DAVY-B001, DAVY-B002.
type cpuUse struct{}

func init() { Register(cpuUse{}) }

func (cpuUse) Name() string         { return "cpu" }
func (cpuUse) Group() finding.Group { return finding.GroupBehaviour }

const (
	// nearLimit is the share of a limit (or of all cores) counted as "at it";
	// CFS throttling keeps a capped miner just under 100%.
	nearLimit = 0.8
	// busyThread is the CPU of one thread, in cores, counted as saturated.
	busyThread = 0.8
)

func (d cpuUse) Detect(_ context.Context, env *Env, w *Workload) []finding.Evidence {
	var out []finding.Evidence
	used := w.CPU()
	limit, what := 0.0, ""
	if w.Container != nil && w.Container.CPULimit > 0 {
		limit, what = w.Container.CPULimit, "its CPU limit"
	} else if env.Snapshot != nil && env.Snapshot.CPUs > 0 {
		limit, what = float64(env.Snapshot.CPUs), "all cores"
	}
	if limit > 0 && used >= nearLimit*limit {
		pid := 0
		if len(w.Processes) == 1 {
			pid = w.Processes[0].PID
		}
		out = append(out, finding.New("DAVY-B001", d.Name(), pid,
			fmt.Sprintf("uses %.2f of %.2f cores (%s) over the window", used, limit, what),
			map[string]string{"cores": fmt.Sprintf("%.2f", used), "limit": fmt.Sprintf("%.2f", limit), "ratio": fmt.Sprintf("%.2f", used/limit)}))
	}
	for _, p := range w.Processes {
		busy := 0
		for _, c := range p.ThreadCPU {
			if c >= busyThread {
				busy++
			}
		}
		// One saturated thread is any single-threaded tool; miners run one
		// hashing thread per core.
		if busy >= 2 {
			out = append(out, finding.New("DAVY-B002", d.Name(), p.PID,
				fmt.Sprintf("%d of %d threads each use a full core", busy, len(p.ThreadCPU)),
				map[string]string{"busy_threads": fmt.Sprint(busy), "threads": fmt.Sprint(len(p.ThreadCPU))}))
		}
	}
	return out
}
