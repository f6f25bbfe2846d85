// Command snapshot measures `davy scan host` against `ps` on the same
// machine in one run and prints ratios: the snapshot's cost with 1,000 extra
// idle processes, davy's peak RSS, and a cold scan against a warm-cache one.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/davyproject/davy/internal/host"
)

func main() {
	idle := flag.Int("idle", 1000, "extra idle processes to start")
	large := flag.Int("large", 20, "extra idle processes from distinct large executables (for the cache comparison)")
	largeMiB := flag.Int("large-mib", 32, "size of each large executable")
	rounds := flag.Int("rounds", 7, "timed rounds per contender (the median is reported)")
	flag.Parse()
	if err := run(*idle, *large, *largeMiB, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(idle, large, largeMiB, rounds int) error {
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

	var sleeps []string
	for i := 0; i < idle; i++ {
		sleeps = append(sleeps, "sleep")
	}
	// A node runs many distinct large binaries (kubelet, containerd, runtimes,
	// apps); copies of sleep padded to largeMiB stand in for them, each its
	// own inode so each is read once when the cache is cold.
	for i := 0; i < large; i++ {
		p, err := paddedSleep(dir, i, largeMiB)
		if err != nil {
			return err
		}
		sleeps = append(sleeps, p)
	}
	stop, err := startIdle(sleeps)
	defer stop()
	if err != nil {
		return err
	}
	fmt.Printf("processes on the machine: %d (%d idle ones started for the benchmark, %d of them from distinct %d MiB executables)\n", countProcs(), len(sleeps), large, largeMiB)

	ps := median(rounds, func() error { return exec.Command("ps", "-eo", "pid,comm,args").Run() })
	take := median(rounds, func() error {
		_, err := host.Take(context.Background(), host.Options{ExcludePIDs: []int{os.Getpid()}})
		return err
	})

	cache := filepath.Join(dir, "cache")
	scan := func() (time.Duration, int64, error) {
		var logs bytes.Buffer
		c := exec.Command(davy, "scan", "host", "--window", "0", "-o", "json", "--cache-dir", cache, "--log-level", "info")
		c.Stderr = &logs
		start := time.Now()
		err := c.Run()
		el := time.Since(start)
		if err != nil {
			return 0, 0, fmt.Errorf("davy scan host: %w: %s", err, logs.String())
		}
		// davy reports its own VmHWM: a child's ru_maxrss would include this
		// benchmark's memory from before the exec.
		m := regexp.MustCompile(`peak_rss_kib=(\d+)`).FindStringSubmatch(logs.String())
		if m == nil {
			return 0, 0, fmt.Errorf("no peak_rss_kib in davy's log: %s", logs.String())
		}
		rss, _ := strconv.ParseInt(m[1], 10, 64)
		return el, rss, nil
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

// paddedSleep copies sleep(1) and appends pseudo-random bytes: the ELF loader
// ignores them, the content scanner reads them.
func paddedSleep(dir string, i, mib int) (string, error) {
	src, err := exec.LookPath("sleep")
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, fmt.Sprintf("idle-%02d", i))
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		return "", err
	}
	_, err = io.CopyN(f, rand.NewChaCha8([32]byte{byte(i), byte(i >> 8)}), int64(mib)<<20)
	return p, err
}

// startIdle starts one sleeping process per executable and returns a
// function that ends exactly those processes.
func startIdle(exes []string) (func(), error) {
	var cmds []*exec.Cmd
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_, _ = c.Process.Wait()
		}
	}
	for i, exe := range exes {
		c := exec.Command(exe, "3600")
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
