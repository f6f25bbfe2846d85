package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/image"
	"github.com/davyproject/davy/internal/report"
	"github.com/davyproject/davy/internal/scan"
)

// exitIncomplete is returned when a layer or file could not be scanned and
// no --exit-code finding took precedence.
const exitIncomplete = 4

type scanImageFlags struct {
	input        string
	insecure     bool
	platform     string
	allPlatforms bool
	output       string
	exitCode     int
	severity     string
	cacheDir     string
	cacheMaxMiB  int64
	intel        string
	parallel     int
}

func (f *scanImageFlags) register(cmd *cobra.Command, local bool) {
	fl := cmd.Flags()
	if !local {
		fl.StringVar(&f.input, "input", "", "a docker/podman save archive, OCI layout directory, OCI archive or unpacked root filesystem")
		fl.BoolVar(&f.insecure, "insecure", false, "allow plain-HTTP registries")
		fl.StringVar(&f.platform, "platform", "", "platform to scan from a multi-platform image (default linux/amd64)")
		fl.BoolVar(&f.allPlatforms, "all-platforms", false, "scan every platform of a multi-platform image")
	}
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json, sarif")
	fl.IntVar(&f.exitCode, "exit-code", 0, "exit with this code when a finding has one of --severity")
	fl.StringVar(&f.severity, "severity", severityNames(), "severities reported and counted for --exit-code (comma-separated)")
	fl.StringVar(&f.cacheDir, "cache-dir", defaultCacheDir(), "where per-layer results are cached (empty: no cache)")
	fl.Int64Var(&f.cacheMaxMiB, "cache-max-mib", image.DefaultCacheMaxBytes>>20, "size of the layer cache in MiB; the least recently used results go first (-1: never pruned)")
	fl.StringVar(&f.intel, "intel", "", "directory of extra indicator files, added to the built-in ones")
	fl.IntVar(&f.parallel, "parallel", 2, "layers scanned at once")
}

const imageExitCodes = `

Exit codes:
  0  no finding of --severity (or --exit-code not set) and everything was scanned
  1  the scan failed (bad flags, image not found, corrupt manifest)
  4  a layer or file could not be scanned; the report says which, the rest was scanned
  N  the value of --exit-code, when a finding has one of --severity (takes precedence over 4)`

func newScanImageCmd(g *globals) *cobra.Command {
	f := &scanImageFlags{}
	cmd := &cobra.Command{
		Use:   "image [REF...]",
		Short: "Find miners, miner configs and droppers in container images",
		Long: `Scans every layer of container images, including files that a later layer
deletes, for miner executables, miner configs, dropper scripts and crontabs,
and the image config (entrypoint, command, environment, labels, history).
REF is a registry reference; --input scans a local archive, OCI layout or
root filesystem instead.` + imageExitCodes,
		Example: `  davy scan image registry.example.com/team/app:1.4
  davy scan image --insecure 127.0.0.1:5000/app:dev -o sarif > davy.sarif
  davy scan image --input app.tar --exit-code 3 --severity CRITICAL,HIGH
  davy scan image --all-platforms docker.io/library/alpine:3`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && f.input == "" {
				return fmt.Errorf("give an image reference or --input PATH")
			}
			return runScanImage(cmd, g, f, args)
		},
	}
	f.register(cmd, false)
	return cmd
}

func newScanFSCmd(g *globals) *cobra.Command {
	f := &scanImageFlags{}
	cmd := &cobra.Command{
		Use:   "fs PATH",
		Short: "Find miners, miner configs and droppers in a directory tree",
		Long: `Scans a directory tree (a host filesystem, a build context, an unpacked
image) with the same file scanners as 'davy scan image'.` + imageExitCodes,
		Example: `  davy scan fs ./build-context
  davy scan fs / -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.input = args[0]
			return runScanImage(cmd, g, f, nil)
		},
	}
	f.register(cmd, true)
	return cmd
}

func runScanImage(cmd *cobra.Command, g *globals, f *scanImageFlags, refs []string) error {
	tuneGC()
	sev, err := finding.ParseSeverities(f.severity)
	if err != nil {
		return fmt.Errorf("--severity: %w", err)
	}
	w, err := report.NewImage(f.output, report.Options{Version: version})
	if err != nil {
		return err
	}
	if f.parallel < 1 {
		return fmt.Errorf("--parallel must be at least 1")
	}
	bar := newProgress(g.stderr)
	rep, err := scan.Images(cmd.Context(), refs, scan.ImageOptions{
		Input: f.input, Insecure: f.insecure, Platform: f.platform, AllPlatforms: f.allPlatforms,
		CacheDir: f.cacheDir, CacheMaxBytes: cacheBytes(f.cacheMaxMiB), IntelDir: f.intel, Parallel: f.parallel,
		Thresholds: detect.DefaultThresholds, Progress: bar.event, Log: g.logger(),
	})
	bar.finish()
	if err != nil {
		return err
	}
	hit := false
	for i := range rep.Images {
		img := &rep.Images[i]
		kept := img.Findings[:0]
		for _, fd := range img.Findings {
			if sev[fd.Severity] {
				kept = append(kept, fd)
			}
		}
		img.Findings = kept
		hit = hit || len(kept) > 0
	}
	if err := w.WriteImages(g.stdout, rep); err != nil {
		return err
	}
	g.logger().Info("scan finished", "images", len(rep.Images), "peak_rss_kib", peakRSSKiB())
	switch {
	case f.exitCode != 0 && hit:
		return exitCodeError{f.exitCode}
	case scan.Incomplete(rep):
		return exitCodeError{exitIncomplete}
	}
	return nil
}

// severityNames lists severities for help text.
func severityNames() string {
	var s []string
	for _, v := range finding.Severities {
		s = append(s, string(v))
	}
	return strings.Join(s, ",")
}

// tuneGC trades memory for CPU in a scan that streams gigabytes through
// short-lived buffers: the collector runs at a quarter of its default
// frequency, under a soft limit that keeps the heap well inside what a CI
// runner offers. GOGC and GOMEMLIMIT, when set, win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(192 << 20)
	}
}

// cacheBytes turns --cache-max-mib into bytes, keeping -1 (never prune).
func cacheBytes(mib int64) int64 {
	if mib < 0 {
		return -1
	}
	return max(mib, 1) << 20
}
