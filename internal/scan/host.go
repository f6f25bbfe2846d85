// Package scan wires sources, detectors and the scorer into the one-shot
// scans the CLI offers.
package scan

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/netwatch"
	"github.com/davyproject/davy/internal/report"
)

// HostOptions configure `davy scan host`.
type HostOptions struct {
	ProcFS, SysFS, RootFS string
	Window                time.Duration
	// NetWindow, when set, captures packets that long, beside the CPU
	// window: mining protocols, pool names and pool cadence on the wire,
	// attributed to the processes holding the flows' sockets.
	NetWindow  time.Duration
	IntelDir   string
	CacheDir   string
	Selection  detect.Selection
	Thresholds detect.Thresholds
	Log        *slog.Logger
}

// Host takes one snapshot of the machine and assesses every workload on it.
func Host(ctx context.Context, opts HostOptions) (*report.HostReport, []detect.Assessment, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	dets, err := detect.Select(opts.Selection)
	if err != nil {
		return nil, nil, err
	}
	ignore, err := opts.Selection.CheckIgnore()
	if err != nil {
		return nil, nil, err
	}
	env, err := detect.NewEnv(detect.EnvOptions{ProcFS: opts.ProcFS, RootFS: opts.RootFS, IntelDir: opts.IntelDir, CacheDir: opts.CacheDir, Log: opts.Log})
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		// A cache that cannot be saved costs the next scan time, not this
		// scan its result.
		if err := env.Close(); err != nil {
			opts.Log.Warn("saving the executable cache", "err", err)
		}
	}()
	wire, err := startWire(ctx, env, opts)
	if err != nil {
		return nil, nil, err
	}
	snap, err := host.Take(ctx, host.Options{ProcFS: opts.ProcFS, SysFS: opts.SysFS, Window: opts.Window, ExcludePIDs: []int{os.Getpid()}})
	if err != nil {
		return nil, nil, fmt.Errorf("taking host snapshot: %w", err)
	}
	env.Snapshot = snap
	if wire != nil {
		if env.Wire, err = wire.attribute(snap); err != nil {
			return nil, nil, err
		}
	}
	opts.Log.Debug("snapshot taken", "processes", len(snap.Processes), "containers", len(snap.Containers), "skipped", snap.Skipped)
	as := detect.Run(ctx, env, dets, detect.Workloads(snap), opts.Thresholds, ignore)
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("scan interrupted: %w", err)
	}
	hostname, _ := os.Hostname()
	r := &report.HostReport{
		Schema: report.HostSchema, Hostname: hostname, Taken: snap.Taken,
		Window: snap.Window.String(), CPUs: snap.CPUs, Skipped: snap.Skipped,
		Workloads: make([]report.Workload, 0, len(as)),
	}
	for _, d := range dets {
		r.Detectors = append(r.Detectors, d.Name())
	}
	for _, a := range as {
		r.Workloads = append(r.Workloads, report.NewWorkload(a))
	}
	r.Summary = report.Summarize(r.Workloads)
	return r, as, nil
}

// wireCapture is a packet capture running beside the snapshot.
type wireCapture struct {
	mu   sync.Mutex
	obs  []netwatch.Observation
	done chan error
}

// startWire starts capturing for opts.NetWindow, or returns nil without it.
func startWire(ctx context.Context, env *detect.Env, opts HostOptions) (*wireCapture, error) {
	if opts.NetWindow <= 0 {
		return nil, nil
	}
	wc := &wireCapture{done: make(chan error, 1)}
	w, err := netwatch.New(netwatch.Options{Intel: env.Intel, Log: opts.Log, On: func(o netwatch.Observation) {
		wc.mu.Lock()
		wc.obs = append(wc.obs, o)
		wc.mu.Unlock()
	}})
	if err != nil {
		return nil, err
	}
	nctx, cancel := context.WithTimeout(ctx, opts.NetWindow)
	go func() {
		defer cancel()
		wc.done <- w.Run(nctx)
	}()
	return wc, nil
}

// attribute waits for the capture to end and gives each observation's
// evidence to the workload whose process holds the flow's socket in snap.
func (wc *wireCapture) attribute(snap *host.Snapshot) (*netwatch.Attributions, error) {
	if err := <-wc.done; err != nil {
		return nil, fmt.Errorf("--net-window: %w", err)
	}
	attr := netwatch.NewAttributions()
	ws := detect.Workloads(snap)
	wc.mu.Lock()
	defer wc.mu.Unlock()
	for _, o := range wc.obs {
		p := netwatch.Owner(snap, o.Client, o.Server)
		if p == nil {
			continue // the flow closed before the snapshot read sockets
		}
		for _, w := range ws {
			if slices.Contains(w.Processes, p) {
				attr.Add(w.Key(), netwatch.Evidence(o, p.PID))
			}
		}
	}
	return attr, nil
}
