package agent

import (
	"context"
	"path/filepath"
	"strconv"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/events"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/rules"
)

// handle evaluates one event.
func (a *Agent) handle(ctx context.Context, ev events.Event) {
	pid := ev.TGID
	if pid == 0 {
		pid = ev.PID
	}
	if pid == a.self || pid <= 0 {
		return
	}
	switch ev.Kind {
	case events.Exec:
		a.onExec(ctx, pid, ev)
	case events.Connect:
		a.onConnect(ctx, pid, ev)
	case events.Exit:
		a.ancestors.forget(pid)
		if info := a.procs.take(pid); info != nil {
			e := a.ruleEvent(rules.EventExit, ev.Time, info)
			a.match(&e, info.key)
		}
		a.env.Forget(pid)
	}
}

// onExec judges a process that has just run a program: what its
// executable, command line and location say, within milliseconds.
func (a *Agent) onExec(ctx context.Context, pid int, ev events.Event) {
	start := time.Now()
	// Ahead of this exec, a PID reused since its last one must not lend
	// its cached configs.
	a.env.Forget(pid)
	w, p := a.observe(ctx, pid)
	if p == nil {
		// Gone before it could be read: judge what the event itself says,
		// so that short-lived droppers are still seen.
		p = &host.Process{PID: pid, PPID: ev.PPID, Comm: ev.Comm, UID: -1, Exited: true}
		if filepath.IsAbs(ev.Filename) {
			p.Exe = ev.Filename
			p.Cmdline = []string{ev.Filename}
			p.ExeFile, _ = host.FileIDOf(filepath.Join(a.o.RootFS, ev.Filename))
		}
		w = &detect.Workload{Kind: detect.KindProcess, ID: strconv.Itoa(pid), Name: p.Comm, Processes: []*host.Process{p}}
	}
	as := detect.Assess(ctx, a.env, a.execDets, w, a.o.Thresholds, a.ignore)
	a.o.Metrics.assessed(triggerExec, time.Since(start), as.Verdict)
	info := a.describe(w, p, &as)
	a.procs.put(pid, info)
	e := a.ruleEvent(rules.EventExec, ev.Time, info)
	a.match(&e, info.key)
	if as.Verdict != finding.VerdictClean {
		e.EvtType = rules.EventVerdict
		a.match(&e, info.key)
		a.report(&as, info)
	}
	if as.Verdict == finding.VerdictMiner {
		a.respond(ctx, w, &as, info)
	}
}

// onConnect matches a connection with what is known of its process.
func (a *Agent) onConnect(ctx context.Context, pid int, ev events.Event) {
	info := a.procs.get(pid)
	if info == nil {
		if w, p := a.observe(ctx, pid); p != nil {
			as := detect.Assess(ctx, a.env, a.execDets, w, a.o.Thresholds, a.ignore)
			info = a.describe(w, p, &as)
			a.procs.put(pid, info)
		} else {
			// Gone already, its exec unseen or not judged yet: the rules
			// still see the connection, with what the event says.
			info = &procInfo{key: "process:" + strconv.Itoa(pid), proc: rules.Process{Name: ev.Comm, PID: pid}}
		}
	}
	e := a.ruleEvent(rules.EventConnect, ev.Time, info)
	// connect(2) is TCP or UDP; the event does not say which.
	e.Fd = rules.Fd{SIP: ev.Dst.Addr(), SPort: ev.Dst.Port(), SIPNames: a.resolvedNames(pid, ev.Dst.Addr())}
	e.Fd.Name = "->" + ev.Dst.String()
	if a.env.Intel.PoolPort(ev.Dst.Port()) {
		e.Davy.Evidence = append(e.Davy.Evidence[:len(e.Davy.Evidence):len(e.Davy.Evidence)], "DAVY-N002")
	}
	a.match(&e, info.key)
}

// observe reads one process and its container from procfs; p is nil when
// the process is gone.
func (a *Agent) observe(ctx context.Context, pid int) (*detect.Workload, *host.Process) {
	snap, err := host.Take(ctx, host.Options{ProcFS: a.o.ProcFS, SysFS: a.o.SysFS, PIDs: []int{pid}, NoSockets: true})
	if err != nil || len(snap.Processes) != 1 {
		return nil, nil
	}
	ws := detect.Workloads(snap)
	return ws[0], snap.Processes[0]
}
