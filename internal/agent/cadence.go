package agent

import (
	"context"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/rules"
)

// minCPURatio is the CPU ratio below which no davy.cpu event is made: an
// idle workload cannot match a CPU rule, and thousands of them would cost
// rule evaluations for nothing.
const minCPURatio = 0.1

// assessAll takes a snapshot with a CPU window and runs every selected
// detector on every workload, as davy scan host does; verdicts and CPU
// samples become events for the rules.
func (a *Agent) assessAll(ctx context.Context) {
	start := time.Now()
	snap, err := host.Take(ctx, host.Options{ProcFS: a.o.ProcFS, SysFS: a.o.SysFS, Window: a.o.Window, ExcludePIDs: []int{a.self}})
	if err != nil {
		if ctx.Err() == nil {
			a.o.Log.Warn("host snapshot", "err", err)
		}
		return
	}
	a.env.ResetScan()
	a.env.Snapshot = snap
	as := detect.Run(ctx, a.env, a.allDets, detect.Workloads(snap), a.o.Thresholds, a.ignore)
	if ctx.Err() != nil {
		return
	}
	a.o.Metrics.cadence(time.Since(start), len(as), snap.Skipped)
	for i := range as {
		a.judged(ctx, snap, &as[i])
	}
}

// judged turns one assessment into davy.cpu and davy.verdict events.
func (a *Agent) judged(ctx context.Context, snap *host.Snapshot, as *detect.Assessment) {
	w := as.Workload
	a.o.Metrics.verdict(triggerCadence, as.Verdict)
	ratio := cpuRatio(w, snap.CPUs)
	if as.Verdict == finding.VerdictClean && ratio < minCPURatio {
		return
	}
	p := busiest(w)
	if p == nil {
		return
	}
	info := a.describe(w, p, as)
	info.cpuRatio = ratio
	if ratio >= minCPURatio {
		e := a.ruleEvent(rules.EventCPU, snap.Taken, info)
		a.match(&e, info.key)
	}
	if as.Verdict != finding.VerdictClean {
		e := a.ruleEvent(rules.EventVerdict, snap.Taken, info)
		a.match(&e, info.key)
		a.report(as, info)
	}
	if as.Verdict == finding.VerdictMiner {
		a.respond(ctx, w, as, info)
	}
}

// cpuRatio is the workload's CPU over its limit, or over all cores when
// it has none.
func cpuRatio(w *detect.Workload, cpus int) float64 {
	if w.Container != nil && w.Container.CPULimit > 0 {
		return w.Container.CPURatio()
	}
	if cpus <= 0 {
		return 0
	}
	return w.CPU() / float64(cpus)
}

// busiest is the workload's process using the most CPU: the one a
// verdict's proc.* fields describe.
func busiest(w *detect.Workload) *host.Process {
	var best *host.Process
	for _, p := range w.Processes {
		if best == nil || p.CPU > best.CPU {
			best = p
		}
	}
	return best
}
