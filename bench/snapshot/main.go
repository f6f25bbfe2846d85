// Command snapshot measures `davy scan host` against `ps` on the same
// machine in one run and prints ratios: the snapshot's cost with 1,000 extra
// idle processes, davy's peak RSS, and a cold scan against a warm-cache one.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/davyproject/davy/internal/host"
)

func main() {
	idle := flag.Int("idle", 1000, "extra idle processes to start")
	rounds := flag.Int("rounds", 7, "timed rounds per contender (the median is reported)")
	flag.Parse()
	if err := run(*idle, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(idle, rounds int) error {
	dir, err := os.MkdirTemp("", "davy-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	davy := filepath.Join(dir, "davy")
	build := exec.Command("go", "build", "-o", davy, "./cmd/davy")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building davy (run from the module root): %w", err)
	}

	stop, err := startIdle(idle)
	defer stop()
	if err != nil {
		return err
	}
	fmt.Printf("processes on the machine: %d (%d idle ones started for the benchmark)\n", countProcs(), idle)

	ps := median(rounds, func() error { return exec.Command("ps", "-eo", "pid,comm,args").Run() })
	take := median(rounds, func() error {
		_, err := host.Take(context.Background(), host.Options{ExcludePIDs: []int{os.Getpid()}})
		return err
	})

	cache := filepath.Join(dir, "cache")
	scan := func() (time.Duration, int64, error) {
		c := exec.Command(davy, "scan", "host", "--window", "0", "-o", "json", "--cache-dir", cache)
		start := time.Now()
		err := c.Run()
		el := time.Since(start)
		if err != nil {
			return 0, 0, fmt.Errorf("davy scan host: %w", err)
		}
		ru := c.ProcessState.SysUsage().(*syscall.Rusage)
		return el, ru.Maxrss, nil
	}
	cold, coldRSS, err := scan()
	if err != nil {
		return err
	}
	warm, warmRSS, err := scan()
	if err != nil {
		return err
	}

	fmt.Printf("\n%-44s %12s %8s\n", "contender", "time", "ratio")
	fmt.Printf("%-44s %12s %8s\n", "ps -eo pid,comm,args", ps.Round(time.Microsecond), "1.00x")
	fmt.Printf("%-44s %12s %7.2fx  (bar: <= 5x)\n", "host snapshot (host.Take, window 0)", take.Round(time.Microsecond), ratio(take, ps))
	fmt.Printf("%-44s %12s %7.2fx\n", "davy scan host --window 0, cold cache", cold.Round(time.Millisecond), ratio(cold, ps))
	fmt.Printf("%-44s %12s %7.2fx  (warm/cold %.2f, bar: < 0.50)\n", "davy scan host --window 0, warm cache", warm.Round(time.Millisecond), ratio(warm, ps), float64(warm)/float64(cold))
	fmt.Printf("\npeak RSS: cold %.1f MiB, warm %.1f MiB (bar: < 64 MiB)\n", float64(coldRSS)/1024, float64(warmRSS)/1024)
	return nil
}

// startIdle starts n sleeping processes and returns a function that ends
// exactly those processes.
func startIdle(n int) (func(), error) {
	var cmds []*exec.Cmd
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_, _ = c.Process.Wait()
		}
	}
	for i := 0; i < n; i++ {
		c := exec.Command("sleep", "3600")
		if err := c.Start(); err != nil {
			return stop, fmt.Errorf("starting idle process %d: %w", i, err)
		}
		cmds = append(cmds, c)
	}
	return stop, nil
}

func countProcs() int {
	m, _ := filepath.Glob("/proc/[0-9]*")
	return len(m)
}

func median(n int, f func() error) time.Duration {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := f(); err != nil {
			fmt.Fprintln(os.Stderr, "bench round failed:", err)
			continue
		}
		ds = append(ds, time.Since(start))
	}
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
