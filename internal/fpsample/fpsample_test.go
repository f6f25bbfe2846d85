package fpsample_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/fpsample"
	"github.com/davyproject/davy/internal/testbed/pool"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

func threads(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// sampleAll samples every thread of pid rounds times, from a helper
// process, and counts the readings in a rounding mode other than nearest.
// Not from this process: it is pid's parent, and a parent's wait (os/exec
// waits for its children) would reap the stops of its traced child.
func sampleAll(t *testing.T, pid, rounds int) (samples, nonNearest int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSamplerHelper$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("FPSAMPLE_HELPER=%d:%d", pid, rounds))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sampler: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if n, _ := fmt.Sscanf(l, "samples %d non-nearest %d", &samples, &nonNearest); n == 2 {
			return samples, nonNearest
		}
	}
	t.Fatalf("sampler said: %s", out)
	return 0, 0
}

// TestSamplerHelper is the sampling process of sampleAll.
func TestSamplerHelper(t *testing.T) {
	arg := os.Getenv("FPSAMPLE_HELPER")
	if arg == "" {
		return
	}
	var pid, rounds int
	if _, err := fmt.Sscanf(arg, "%d:%d", &pid, &rounds); err != nil {
		t.Fatal(err)
	}
	samples, nonNearest := 0, 0
	for range rounds {
		for _, tid := range threads(t, pid) {
			s, err := fpsample.Thread(pid, tid)
			if errors.Is(err, fpsample.ErrGone) || errors.Is(err, fpsample.ErrSlow) {
				continue
			}
			if err != nil {
				t.Fatalf("sampling %d/%d: %v", pid, tid, err)
			}
			samples++
			if s.Rounding() != 0 {
				nonNearest++
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("samples %d non-nearest %d\n", samples, nonNearest)
}

// assertRunning checks that no thread of pid is left stopped or traced.
func assertRunning(t *testing.T, pid int) {
	t.Helper()
	for _, tid := range threads(t, pid) {
		dir := filepath.Join("/proc", strconv.Itoa(pid), "task", strconv.Itoa(tid))
		status, err := os.ReadFile(filepath.Join(dir, "status"))
		if err != nil {
			continue // gone
		}
		for _, l := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(l, "TracerPid:") && strings.TrimSpace(strings.TrimPrefix(l, "TracerPid:")) != "0" {
				t.Errorf("thread %d still traced: %s", tid, l)
			}
			if strings.HasPrefix(l, "State:") && (strings.Contains(l, "t (tracing stop)") || strings.Contains(l, "T (stopped)")) {
				t.Errorf("thread %d left stopped: %s", tid, l)
			}
		}
	}
}

func TestMinerThreadsShowRoundingChurn(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	p := testbedtest.StartPool(t, pool.Config{Difficulty: 1})
	m := testbedtest.Start(t, bins.Miner, testbedtest.MinerArgs(p.URL())...)
	time.Sleep(500 * time.Millisecond) // dataset built, hashing
	samples, hits := sampleAll(t, m.PID(), 25)
	t.Logf("miner: %d of %d samples not round-to-nearest", hits, samples)
	if hits < 2 {
		t.Errorf("only %d of %d samples of a RandomX-like miner left nearest", hits, samples)
	}
	assertRunning(t, m.PID())
	// And it keeps hashing: its shares keep coming.
	before := p.Stats().SharesAccepted
	deadline := time.Now().Add(20 * time.Second)
	for p.Stats().SharesAccepted == before {
		if time.Now().After(deadline) {
			t.Fatal("no share after sampling: the miner is not running")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestHonestThreadsStayAtNearest(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	b := testbedtest.Start(t, bins.Burner, "--mode", "matrix", "--threads", "2", "--duration", "20s")
	time.Sleep(200 * time.Millisecond)
	samples, hits := sampleAll(t, b.PID(), 15)
	if samples == 0 || hits != 0 {
		t.Errorf("honest burner: %d of %d samples not nearest", hits, samples)
	}
	assertRunning(t, b.PID())
}

// A process another tracer holds cannot be sampled: the sampler says so
// and leaves it to its tracer.
func TestTracedElsewhereIsRefused(t *testing.T) {
	testenv.NeedRoot(t)
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	_, err := fpsample.Thread(cmd.Process.Pid, cmd.Process.Pid)
	if !errors.Is(err, fpsample.ErrRefused) {
		t.Errorf("sampling a traced process: %v, want ErrRefused", err)
	}
}

// Processes that exit while sampled end the sample with ErrGone (or a
// reading), never a hang or a panic.
func TestExitingProcesses(t *testing.T) {
	testenv.NeedRoot(t)
	for range 30 {
		cmd := exec.Command("true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		_, err := fpsample.Thread(pid, pid)
		if err != nil && !errors.Is(err, fpsample.ErrGone) {
			t.Errorf("sampling an exiting process: %v", err)
		}
		cmd.Wait()
	}
}
