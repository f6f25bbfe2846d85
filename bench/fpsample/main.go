// Command fpsample measures what the fpu detector's sampling costs the
// threads it samples: how long each sample holds a thread stopped (the bar:
// at most 1 ms) and what share of its time that is at the detector's pace
// (the bar: at most 1%), on the testbed's miner and an honest burner, in
// one run. The workloads are this process's children, and nothing waits
// for them while they are sampled: a parent's wait would take their ptrace
// stops.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/davyproject/davy/internal/fpsample"
	"github.com/davyproject/davy/internal/testbed"
)

func main() {
	samples := flag.Int("samples", 200, "samples per workload")
	gap := flag.Duration("gap", 120*time.Millisecond, "time between two samples of a thread (the detector's pace)")
	flag.Parse()
	if err := run(*samples, *gap); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n int, gap time.Duration) error {
	if os.Geteuid() != 0 {
		return errors.New("run as root (ptrace)")
	}
	dir, err := os.MkdirTemp("", "davy-fpbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins, err := testbed.Build(dir)
	if err != nil {
		return err
	}
	cases := []struct {
		name string
		argv []string
	}{
		// No pool: the simulator hashes its idle job all the same.
		{"miner (RandomX-like, 2 threads)", []string{bins.Miner, "-o", "stratum+tcp://127.0.0.1:1", "-u", "x", "-t", "2", "--dataset-mib", "8"}},
		{"honest float burner (2 threads)", []string{bins.Burner, "--mode", "matrix", "--threads", "2", "--duration", "10m"}},
	}
	fmt.Printf("%-34s %8s %10s %10s %10s %10s %12s\n", "workload", "samples", "non-near", "p50 stop", "p99 stop", "max stop", "stopped/time")
	for _, c := range cases {
		cmd := exec.Command(c.argv[0], c.argv[1:]...)
		if err := cmd.Start(); err != nil {
			return err
		}
		res, err := measure(cmd.Process.Pid, n, gap)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Printf("%-34s %8d %10d %10s %10s %10s %11.4f%%\n", c.name, len(res.stops), res.hits,
			pct(res.stops, 50), pct(res.stops, 99), pct(res.stops, 100), 100*res.share)
	}
	fmt.Println("\nbars: a sample stops a thread for at most 1 ms; sampling takes at most 1% of its time")
	return nil
}

type result struct {
	stops []time.Duration
	hits  int
	share float64 // of the busiest thread's wall time, stopped
}

// measure samples pid's busiest thread n times, gap apart.
func measure(pid, n int, gap time.Duration) (result, error) {
	time.Sleep(time.Second) // let it start hashing
	tid, err := busiest(pid)
	if err != nil {
		return result{}, err
	}
	var r result
	var stopped time.Duration
	start := time.Now()
	for range n {
		s, err := fpsample.Thread(pid, tid)
		switch {
		case errors.Is(err, fpsample.ErrSlow):
		case err != nil:
			return r, err
		default:
			r.stops = append(r.stops, s.Stopped)
			stopped += s.Stopped
			if s.Rounding() != 0 {
				r.hits++
			}
		}
		time.Sleep(gap)
	}
	r.share = float64(stopped) / float64(time.Since(start))
	return r, nil
}

// busiest returns the thread of pid with the most CPU time so far.
func busiest(pid int) (int, error) {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		return 0, err
	}
	best, bestTicks := 0, -1
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) < 13 {
			continue
		}
		ticks, _ := strconv.Atoi(f[11]) // utime
		if ticks > bestTicks {
			best, bestTicks = atoi(e.Name()), ticks
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("no thread of %d", pid)
	}
	return best, nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s) - 1) * p / 100
	return s[i].Round(time.Microsecond).String()
}
