// Package scan wires sources, detectors and the scorer into the one-shot
// scans the CLI offers.
package scan

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/report"
)

// HostOptions configure `davy scan host`.
type HostOptions struct {
	ProcFS, SysFS, RootFS string
	Window                time.Duration
	IntelDir              string
	CacheDir              string
	Selection             detect.Selection
	Thresholds            detect.Thresholds
	Log                   *slog.Logger
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
	snap, err := host.Take(ctx, host.Options{ProcFS: opts.ProcFS, SysFS: opts.SysFS, Window: opts.Window, ExcludePIDs: []int{os.Getpid()}})
	if err != nil {
		return nil, nil, fmt.Errorf("taking host snapshot: %w", err)
	}
	env.Snapshot = snap
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
