// Package agent is davy agent: the host detectors of davy scan host run
// continuously, on process and connection events as they happen and on a
// fixed cadence, with their results matched against Falco-format rules
// and raised as deduplicated alerts.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/davyproject/davy/internal/alert"
	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/events"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
	"github.com/davyproject/davy/internal/netwatch"
	"github.com/davyproject/davy/internal/respond"
	"github.com/davyproject/davy/internal/rules"
)

// Options configure an Agent. Zero values take the defaults.
type Options struct {
	// ProcFS, SysFS and RootFS are where the host's proc, sys and root are
	// mounted ("/host/proc" and so on in a DaemonSet).
	ProcFS, SysFS, RootFS string
	// Source names the event source (events.Auto when empty).
	Source       string
	PollInterval time.Duration
	// Rules are matched against every event; required.
	Rules *rules.Ruleset
	// Selection and Thresholds are those of davy scan host.
	Selection  detect.Selection
	Thresholds detect.Thresholds
	IntelDir   string
	CacheDir   string
	// Interval is the time between two assessments of every workload, and
	// Window the CPU sampling window of each (30 s and 5 s by default).
	Interval, Window time.Duration
	// Cooldown is how long repeats of an alert for one workload and rule
	// are only counted (10 min by default).
	Cooldown time.Duration
	// Emit receives every alert after deduplication; it must not block
	// (an alert.Dispatcher queues). Required.
	Emit func(alert.Alert)
	// NetCapture watches the wire too: packets on every interface of the
	// agent's network namespace, for passive DNS and mining protocols
	// (internal/netwatch), attributed to processes by their sockets.
	NetCapture bool
	// Pods, when set, maps containers to their pods for the k8s.* fields
	// and for Reports.
	Pods *pods.Index
	// Reports, when set, receives every verdict other than clean on a
	// container of a known pod, and every response to one.
	Reports *reporter.Reporter
	// Respond acts on miners; nil acts on nothing.
	Respond *respond.Responder
	// Metrics, when set, is updated as the agent runs.
	Metrics *Metrics
	// Hostname goes in every alert (os.Hostname by default).
	Hostname string
	// Workers evaluate events in parallel (2 by default); Queue is the
	// event buffer between the source and them (8192 by default).
	Workers, Queue int
	Log            *slog.Logger
}

// Agent is one running davy agent.
type Agent struct {
	o         Options
	env       *detect.Env
	execDets  []detect.Detector // per-process detectors, run on exec
	allDets   []detect.Detector // every selected detector, run on the cadence
	ignore    map[string]bool
	dedup     *alert.Deduper
	users     *users
	procs     *procCache
	ancestors *ancestorCache
	wire      *netwatch.Attributions // what the packet capture attributed, by workload
	// watcher is the running packet capture, for the names workloads
	// resolved; nil without one.
	watcher    atomic.Pointer[netwatch.Watcher]
	localAddrs *localAddrCache
	self       int
	ready      atomic.Bool
	started    atomic.Bool
	source     atomic.Value // string: the source in use
}

// New checks the options and loads intel and the file engine.
func New(o Options) (*Agent, error) {
	if o.Rules == nil {
		return nil, errors.New("agent: no rules")
	}
	if o.Emit == nil {
		return nil, errors.New("agent: no alert output")
	}
	if o.ProcFS == "" {
		o.ProcFS = "/proc"
	}
	if o.SysFS == "" {
		o.SysFS = "/sys"
	}
	if o.RootFS == "" {
		o.RootFS = "/"
	}
	if o.Source == "" {
		o.Source = events.Auto
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.Window <= 0 || o.Window >= o.Interval {
		o.Window = min(5*time.Second, o.Interval/2)
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 10 * time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Queue <= 0 {
		o.Queue = 8192
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	all, err := detect.Select(o.Selection)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	ignore, err := o.Selection.CheckIgnore()
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	env, err := detect.NewEnv(detect.EnvOptions{ProcFS: o.ProcFS, RootFS: o.RootFS, IntelDir: o.IntelDir, CacheDir: o.CacheDir, Log: o.Log})
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a := &Agent{
		o: o, env: env, allDets: all, ignore: ignore,
		dedup:      alert.NewDeduper(alert.DedupOptions{Cooldown: o.Cooldown}),
		users:      newUsers(o.RootFS),
		procs:      newProcCache(maxTracked),
		ancestors:  newAncestorCache(o.ProcFS),
		wire:       netwatch.NewAttributions(),
		localAddrs: &localAddrCache{procFS: o.ProcFS, m: map[string]localAddrs{}},
		self:       os.Getpid(),
	}
	// A process that has just started has no CPU history and no logs yet:
	// on exec, only what its executable and command line say counts.
	for _, d := range all {
		switch d.Group() {
		case finding.GroupBehaviour, finding.GroupLogs:
		default:
			a.execDets = append(a.execDets, d)
		}
	}
	if o.NetCapture {
		env.Wire = a.wire
	}
	a.allDets, a.execDets = withTimers(a.allDets, o.Metrics), withTimers(a.execDets, o.Metrics)
	a.source.Store("")
	return a, nil
}

// Ready reports whether the agent has its event source running and has
// finished its first assessment.
func (a *Agent) Ready() bool { return a.ready.Load() }

// Source returns the name of the event source in use, once running.
func (a *Agent) Source() string { return a.source.Load().(string) }

// Run runs until ctx is done, then flushes pending alert summaries. It
// returns an error only when the agent cannot start or its event source
// fails.
func (a *Agent) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("agent: already run")
	}
	defer func() {
		if err := a.env.Close(); err != nil {
			a.o.Log.Warn("saving the executable cache", "err", err)
		}
	}()
	src, err := events.Open(a.o.Source, events.Options{ProcFS: a.o.ProcFS, PollInterval: a.o.PollInterval, Logger: a.o.Log, NoFork: true})
	if err != nil {
		return fmt.Errorf("agent: event source: %w", err)
	}
	a.source.Store(src.Name())
	caps := src.Caps()
	a.o.Log.Info("agent started", "source", src.Name(), "connect_events", caps.Connect, "short_lived", caps.ShortLived,
		"net_capture", a.o.NetCapture, "rules", len(a.o.Rules.Rules()), "interval", a.o.Interval, "window", a.o.Window)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan events.Event, a.o.Queue)
	srcErr := make(chan error, 1)
	go func() { srcErr <- src.Run(ctx, queue) }()

	var wg sync.WaitGroup
	for range a.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.work(ctx, queue)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.cadence(ctx, src)
	}()

	if a.o.Reports != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.o.Reports.Run(ctx)
		}()
	}

	if a.o.NetCapture {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Processes and verdicts matter more than the wire: an agent
			// that may not capture (no CAP_NET_RAW) runs on without it.
			if err := a.watchWire(ctx); err != nil {
				a.o.Log.Error("packet capture unavailable; going on without it", "err", err)
			}
		}()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-srcErr:
		if runErr != nil {
			runErr = fmt.Errorf("agent: event source %s: %w", src.Name(), runErr)
		}
	}
	cancel()
	wg.Wait()
	a.ready.Store(false)
	a.emit(a.dedup.Drain()...)
	return runErr
}

// work evaluates events until ctx is done.
func (a *Agent) work(ctx context.Context, queue <-chan events.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-queue:
			a.o.Metrics.event(ev)
			a.handle(ctx, ev)
		}
	}
}

// cadence assesses every workload each Interval, expires alert cooldowns
// and refreshes the source's counters.
func (a *Agent) cadence(ctx context.Context, src events.Source) {
	a.assessAll(ctx)
	a.ready.Store(true)
	tick := time.NewTicker(a.o.Interval)
	defer tick.Stop()
	stats := time.NewTicker(5 * time.Second)
	defer stats.Stop()
	for {
		select {
		case <-ctx.Done():
			a.o.Metrics.source(src.Name(), src.Stats())
			return
		case <-tick.C:
			a.assessAll(ctx)
		case <-stats.C:
			a.o.Metrics.source(src.Name(), src.Stats())
			a.emit(a.dedup.Expire()...)
		}
	}
}
