// Package respond acts on workloads judged to be miners: it freezes their
// cgroup or kills their processes. Every action is opt-in, dry-run unless
// the caller says otherwise, limited to verdict "miner", refused for
// allowlisted and system workloads, capped per hour, and reported.
package respond

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/davyproject/davy/internal/finding"
)

// Action is what the responder does to a miner.
type Action string

// Actions. ActionNone is the default: alerts only.
const (
	ActionNone   Action = ""
	ActionFreeze Action = "freeze" // the container's cgroup (v2 cgroup.freeze, v1 freezer); SIGSTOP for a bare process
	ActionKill   Action = "kill"   // SIGKILL to every process of the workload
)

// ParseAction accepts "", "none", "freeze" and "kill".
func ParseAction(s string) (Action, error) {
	switch a := Action(strings.ToLower(strings.TrimSpace(s))); a {
	case ActionNone, "none":
		return ActionNone, nil
	case ActionFreeze, ActionKill:
		return a, nil
	}
	return ActionNone, fmt.Errorf("respond: unknown action %q (want none, freeze or kill)", s)
}

// Options configure a Responder.
type Options struct {
	Action Action
	// DryRun logs and reports what would be done without doing it. The
	// zero Options are dry-run: a caller must set Enforce to act.
	Enforce bool
	// Allow lists workloads never acted on.
	Allow Allowlist
	// MaxPerHour caps the actions taken (or that would be taken) in any
	// hour; 0 means 10.
	MaxPerHour int
	// ProcFS and CgroupFS are where proc and the cgroup hierarchies are
	// mounted; "" means /proc and /sys/fs/cgroup.
	ProcFS, CgroupFS string
	Log              *slog.Logger
	// Now is the clock, for tests.
	Now func() time.Time
}

// Allowlist names workloads that are never acted on. Container entries
// match a container ID (or an ID prefix of at least 12 characters) or a
// container or pod name; Exe entries are path.Match patterns on the
// executable path; Comm entries are process names.
type Allowlist struct {
	Containers []string
	Exes       []string
	Comms      []string
}

// Process is one process of a target, identified by PID and start time so
// that a PID reused by a new process is never signalled.
type Process struct {
	PID        int
	StartTicks uint64 // host.Process.StartTicks
	Comm       string
	Exe        string
}

// Target is one workload judged a miner.
type Target struct {
	Kind        string // "container" or "process"
	ID          string
	Name        string
	ContainerID string
	Verdict     finding.Verdict
	Processes   []Process
}

// Result says what happened, for the alert and the log.
type Result struct {
	Action  Action `json:"action"`
	DryRun  bool   `json:"dry_run"`
	Done    bool   `json:"done"`
	Skipped string `json:"skipped,omitempty"` // why nothing was done
	Error   string `json:"error,omitempty"`
	PIDs    []int  `json:"pids,omitempty"`
	Cgroup  string `json:"cgroup,omitempty"`
}

// Responder applies Options to targets. Safe for concurrent use.
type Responder struct {
	o    Options
	mu   sync.Mutex
	past []time.Time // actions in the last hour
	self int
}

// New returns a responder.
func New(o Options) *Responder {
	if o.MaxPerHour <= 0 {
		o.MaxPerHour = 10
	}
	if o.ProcFS == "" {
		o.ProcFS = "/proc"
	}
	if o.CgroupFS == "" {
		o.CgroupFS = "/sys/fs/cgroup"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Responder{o: o, self: os.Getpid()}
}

// Action returns the configured action.
func (r *Responder) Action() Action { return r.o.Action }

// Act applies the action to t, or says why it did not.
func (r *Responder) Act(ctx context.Context, t Target) Result {
	res := Result{Action: r.o.Action, DryRun: !r.o.Enforce}
	if reason := r.refuse(t); reason != "" {
		res.Skipped = reason
		return res
	}
	if !r.take() {
		res.Skipped = fmt.Sprintf("the cap of %d actions per hour is reached", r.o.MaxPerHour)
		r.o.Log.Warn("response capped", "workload", t.ID, "action", r.o.Action)
		return res
	}
	var err error
	switch {
	case r.o.Action == ActionFreeze && t.ContainerID != "":
		res.Cgroup, err = r.freezeContainer(t, !r.o.Enforce)
	default:
		// A bare process has no cgroup of its own to freeze (it shares one
		// with its service or session): it is stopped or killed by signal.
		res.PIDs, err = r.signal(ctx, t, !r.o.Enforce)
	}
	if err != nil {
		res.Error = err.Error()
	}
	res.Done = err == nil && r.o.Enforce
	r.o.Log.Warn("response", "workload", t.ID, "name", t.Name, "action", r.o.Action, "dry_run", res.DryRun,
		"done", res.Done, "pids", res.PIDs, "cgroup", res.Cgroup, "err", err)
	return res
}

// refuse returns why t must not be acted on, or "".
func (r *Responder) refuse(t Target) string {
	switch {
	case r.o.Action == ActionNone:
		return "no response action is configured"
	case t.Verdict != finding.VerdictMiner:
		return "only workloads judged miner are acted on"
	case len(t.Processes) == 0:
		return "the workload has no processes left"
	}
	for _, p := range t.Processes {
		if p.PID <= 1 || p.PID == r.self {
			return fmt.Sprintf("process %d is init or davy itself", p.PID)
		}
	}
	if r.o.Allow.container(t) {
		return "the container is allowlisted"
	}
	for _, p := range t.Processes {
		if r.o.Allow.process(p) {
			return fmt.Sprintf("process %d (%s) is allowlisted", p.PID, p.Exe)
		}
	}
	if t.ContainerID != "" && t.ContainerID == r.ownContainer() {
		return "the container is davy's own"
	}
	return ""
}

// take counts one action against the hourly cap.
func (r *Responder) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.o.Now()
	r.past = slices.DeleteFunc(r.past, func(t time.Time) bool { return now.Sub(t) >= time.Hour })
	if len(r.past) >= r.o.MaxPerHour {
		return false
	}
	r.past = append(r.past, now)
	return true
}

func (a Allowlist) container(t Target) bool {
	for _, c := range a.Containers {
		switch {
		case c == "":
		case t.ContainerID != "" && (c == t.ContainerID || len(c) >= 12 && strings.HasPrefix(t.ContainerID, c)):
			return true
		case t.Kind == "container" && c == t.Name:
			return true
		}
	}
	return false
}

func (a Allowlist) process(p Process) bool {
	for _, pat := range a.Exes {
		if ok, _ := path.Match(pat, p.Exe); ok {
			return true
		}
	}
	return slices.Contains(a.Comms, p.Comm)
}

// errGone marks a process that exited (or whose PID was reused) before it
// could be acted on.
var errGone = errors.New("process is gone")
