package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/davyproject/davy/internal/alert"
	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/respond"
	"github.com/davyproject/davy/internal/rules"
)

// match evaluates the rules on ev and emits an alert per matching rule,
// deduplicated per workload and rule.
func (a *Agent) match(ev *rules.Event, key string) {
	a.o.Rules.Match(ev, func(r *rules.Rule) {
		a.o.Metrics.ruleMatch(r.Name, r.Priority.String())
		al := alert.Alert{
			Output:       r.Output(ev),
			Priority:     r.Priority,
			Rule:         r.Name,
			Time:         ev.Time,
			OutputFields: r.OutputFields(ev),
			Source:       "syscall",
			Tags:         r.Tags,
			Hostname:     a.o.Hostname,
		}
		al.SetWorkload(key)
		a.emit(a.dedup.Add(al)...)
	})
}

func (a *Agent) emit(als ...alert.Alert) {
	for _, al := range als {
		a.o.Metrics.alert(al.Priority.String())
		a.o.Emit(al)
	}
}

// ruleResponse names the alert every response action raises.
const ruleResponse = "Davy response action"

// respond applies the node response to a miner and raises an alert saying
// what was done (or would have been, in a dry run).
func (a *Agent) respond(ctx context.Context, w *detect.Workload, as *detect.Assessment, info *procInfo) {
	r := a.o.Respond
	if r == nil || r.Action() == respond.ActionNone {
		return
	}
	t := respond.Target{Kind: w.Kind, ID: w.ID, Name: w.Name, Verdict: as.Verdict}
	if w.Container != nil {
		t.ContainerID = w.Container.ID
	}
	for _, p := range w.Processes {
		t.Processes = append(t.Processes, respond.Process{PID: p.PID, StartTicks: p.StartTicks, Comm: p.Comm, Exe: p.Exe})
	}
	res := r.Act(ctx, t)
	a.o.Metrics.response(string(res.Action), res)
	what := fmt.Sprintf("%s %s %s", res.Action, w.Kind, w.Name)
	var status string
	switch {
	case res.Skipped != "":
		status = "not done: " + res.Skipped
	case res.Error != "":
		status = "failed: " + res.Error
	case res.DryRun:
		status = "dry run, nothing done"
	default:
		status = "done"
	}
	prio := alert.PriorityCritical
	if res.Skipped != "" || res.DryRun {
		prio = alert.PriorityNotice
	}
	al := alert.Alert{
		Output:   fmt.Sprintf("Davy response %s (%s) (workload=%s verdict=%s score=%d evidence=%s)", what, status, info.key, as.Verdict, as.Score, strings.Join(info.evidence, ",")),
		Priority: prio,
		Rule:     ruleResponse,
		Time:     time.Now(),
		OutputFields: map[string]any{
			"davy.action": string(res.Action), "davy.action.dry_run": res.DryRun, "davy.action.done": res.Done,
			"davy.action.skipped": res.Skipped, "davy.action.error": res.Error, "davy.action.pids": res.PIDs,
			"davy.action.cgroup": res.Cgroup, "container.id": info.container.ID, "proc.pid": info.proc.PID,
			"davy.verdict": string(as.Verdict), "davy.score": as.Score,
		},
		Source:   "syscall",
		Tags:     []string{"davy", "response"},
		Hostname: a.o.Hostname,
	}
	al.SetWorkload(info.key)
	a.emit(a.dedup.Add(al)...)
	a.report(as, info, reportAction(res, status))
}
