package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/report"
	"github.com/davyproject/davy/internal/scan"
)

type scanHostFlags struct {
	hostPathFlags
	detectorFlags
	window   time.Duration
	netWin   time.Duration
	cacheDir string
	intel    string
	output   string
	all      bool
	reasons  int
	exitCode int
	failOn   string
}

func newScanHostCmd(g *globals) *cobra.Command {
	f := &scanHostFlags{}
	cmd := &cobra.Command{
		Use:   "host",
		Short: "Assess every container and process on this machine",
		Long: `Takes one snapshot of this machine (processes, containers, CPU over a sampling
window, sockets) and says for every container and every process outside a
container whether it is a miner, suspicious or clean, and why.

Run it as root to see every process. It needs no cluster, no config and no
network.`,
		Example: `  davy scan host
  davy scan host -o json --window 10s
  davy scan host --groups identity,cmdline --exit-code 3
  davy scan host --path.procfs /host/proc --path.sysfs /host/sys --path.rootfs /host`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runScanHost(cmd, g, f) },
	}
	fl := cmd.Flags()
	f.hostPathFlags.register(fl)
	fl.DurationVar(&f.window, "window", 5*time.Second, "CPU sampling window")
	fl.DurationVar(&f.netWin, "net-window", 0, "also capture packets this long (e.g. 30s): mining protocols and pool names on the wire, attributed to processes")
	fl.StringVar(&f.cacheDir, "cache-dir", defaultCacheDir(), "where executable scan results are cached between runs (empty: no disk cache)")
	fl.StringVar(&f.intel, "intel", "", "directory of extra indicator files, added to the built-in ones")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json")
	fl.BoolVar(&f.all, "all", false, "show clean workloads in the table too")
	fl.IntVar(&f.reasons, "reasons", 3, "evidence lines per workload in the table")
	fl.IntVar(&f.exitCode, "exit-code", 0, "exit with this code when a workload is at or above --fail-on")
	fl.StringVar(&f.failOn, "fail-on", "miner", "verdict that triggers --exit-code: miner, suspicious")
	f.detectorFlags.register(fl)
	return cmd
}

func runScanHost(cmd *cobra.Command, g *globals, f *scanHostFlags) error {
	failOn, err := finding.ParseVerdict(f.failOn)
	if err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	if f.window < 0 {
		return fmt.Errorf("--window must not be negative")
	}
	w, err := report.NewHost(f.output, report.Options{All: f.all, Reasons: f.reasons})
	if err != nil {
		return err
	}
	sel, err := f.selection()
	if err != nil {
		return err
	}
	log := g.logger()
	start := time.Now()
	rep, _, err := scan.Host(cmd.Context(), scan.HostOptions{
		ProcFS: f.procfs, SysFS: f.sysfs, RootFS: f.rootfs, Window: f.window, NetWindow: f.netWin,
		IntelDir: f.intel, CacheDir: f.cacheDir, Selection: sel, Thresholds: detect.DefaultThresholds, Log: log,
	})
	if err != nil {
		return err
	}
	log.Info("scan finished", "workloads", len(rep.Workloads), "duration", time.Since(start).Round(time.Millisecond), "peak_rss_kib", peakRSSKiB())
	if err := w.WriteHost(g.stdout, rep); err != nil {
		return err
	}
	if f.exitCode != 0 {
		for _, wl := range rep.Workloads {
			if wl.Verdict.Rank() >= failOn.Rank() && failOn != finding.VerdictClean {
				return exitCodeError{f.exitCode}
			}
		}
	}
	return nil
}

// defaultCacheDir follows the XDG cache convention ($XDG_CACHE_HOME or
// ~/.cache, which is /root/.cache for root).
func defaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "davy")
}
