package detect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/fpsample"
)

// fpuChurn samples the SSE rounding mode of a busy workload's busiest
// threads. RandomX programs change it many times per hash (CFROUND);
// honest code almost never leaves round-to-nearest, so a busy thread caught
// twice in another mode is the hashing loop itself, whatever the binary is
// called, packed or encrypted. Costly (ptrace), so only workloads over
// fpuMinCPU are sampled, a few threads, a few times, spaced so that each
// thread is stopped far less than 1% of its time. Evidence: DAVY-B003, and
// DAVY-B004 when it could not look.
type fpuChurn struct{}

func init() { Register(fpuChurn{}) }

func (fpuChurn) Name() string         { return "fpu" }
func (fpuChurn) Group() finding.Group { return finding.GroupBehaviour }

const (
	// fpuMinCPU is the workload CPU, in cores, from which it is sampled:
	// low, because on a crowded node a hashing thread gets a small share
	// of a core (and a throttled miner a fraction of that), yet it never
	// stops wanting one; idle workloads are still never sampled.
	fpuMinCPU = 0.05
	// fpuThreadCPU is the CPU of a thread worth sampling.
	fpuThreadCPU  = 0.02
	fpuMaxThreads = 8
	// fpuRounds samples each thread at most this many times, fpuGap apart:
	// a sample stops a thread for well under a millisecond, so with a gap
	// of 120 ms the thread is stopped for under 1% of its time. A hashing
	// thread reads non-nearest in about a third of samples: 20 rounds miss
	// two hits less than once in a hundred, and a miner usually stops the
	// rounds early.
	fpuRounds = 20
	fpuGap    = 120 * time.Millisecond
	// fpuMinHits non-nearest samples make the evidence.
	fpuMinHits = 2
)

// sampleThread is fpsample.Thread, replaced in tests.
var sampleThread = fpsample.Thread

func (d fpuChurn) Detect(ctx context.Context, env *Env, w *Workload) []finding.Evidence {
	if w.CPU() < fpuMinCPU || !liveProcFS(env.ProcFS) {
		return nil
	}
	threads := busiestThreads(w, fpuThreadCPU, fpuMaxThreads)
	if len(threads) == 0 {
		return nil
	}
	var st fpuStats
	st.modes = map[int]int{}
	for round := 0; round < fpuRounds && st.hits < fpuMinHits; round++ {
		if round > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(fpuGap):
			}
		}
		for _, t := range threads {
			// A thread that is not running now (a throttled miner between
			// bursts) shows nothing; catch it when it runs.
			if !running(env.ProcFS, t.pid, t.tid) {
				st.idle++
				continue
			}
			s, err := sampleThread(t.pid, t.tid)
			st.add(s, err)
		}
	}
	pid := threads[0].pid
	switch {
	case st.hits >= fpuMinHits:
		return []finding.Evidence{finding.New("DAVY-B003", d.Name(), pid,
			fmt.Sprintf("busy threads caught %d times in %d samples in a rounding mode other than nearest (%s), as RandomX's programs run", st.hits, st.samples, st.modeList()),
			st.values())}
	case st.samples == 0 && st.refused+st.failed > 0:
		return []finding.Evidence{finding.New("DAVY-B004", d.Name(), pid,
			fmt.Sprintf("could not sample the FP state of %d busy threads: %s", len(threads), st.lastErr), st.values())}
	}
	return nil
}

type fpuStats struct {
	samples, hits, idle, gone, refused, failed int
	maxStop                                    time.Duration
	modes                                      map[int]int
	lastErr                                    string
}

func (s *fpuStats) add(smp fpsample.Sample, err error) {
	s.maxStop = max(s.maxStop, smp.Stopped)
	switch {
	case err == nil:
		s.samples++
		if m := smp.Rounding(); m != 0 {
			s.hits++
			s.modes[m]++
		}
	case errors.Is(err, fpsample.ErrGone), errors.Is(err, fpsample.ErrSlow):
		s.gone++
	case errors.Is(err, fpsample.ErrRefused):
		s.refused++
		s.lastErr = err.Error()
	default:
		s.failed++
		s.lastErr = err.Error()
	}
}

var roundingNames = map[int]string{1: "down", 2: "up", 3: "toward zero"}

func (s *fpuStats) modeList() string {
	var out []string
	for _, m := range []int{1, 2, 3} {
		if n := s.modes[m]; n > 0 {
			out = append(out, fmt.Sprintf("%s ×%d", roundingNames[m], n))
		}
	}
	return strings.Join(out, ", ")
}

func (s *fpuStats) values() map[string]string {
	return map[string]string{
		"samples": strconv.Itoa(s.samples), "non_nearest": strconv.Itoa(s.hits), "idle": strconv.Itoa(s.idle),
		"gone": strconv.Itoa(s.gone), "refused": strconv.Itoa(s.refused), "failed": strconv.Itoa(s.failed),
		"max_stop_us": strconv.FormatInt(s.maxStop.Microseconds(), 10),
	}
}

type threadRef struct {
	pid, tid int
	cpu      float64
}

// busiestThreads lists the workload's threads using at least minCPU
// cores, busiest first, at most n. Davy's own children are left out: a
// parent's wait (os/exec waits for its children) would take the ptrace
// stops of a traced child from under the sampler.
func busiestThreads(w *Workload, minCPU float64, n int) []threadRef {
	var out []threadRef
	self := os.Getpid()
	for _, p := range w.Processes {
		if p.PPID == self {
			continue
		}
		for i, c := range p.ThreadCPU {
			if c >= minCPU && i < len(p.ThreadIDs) {
				out = append(out, threadRef{pid: p.PID, tid: p.ThreadIDs[i], cpu: c})
			}
		}
	}
	slices.SortFunc(out, func(a, b threadRef) int {
		switch {
		case a.cpu > b.cpu:
			return -1
		case a.cpu < b.cpu:
			return 1
		}
		return a.tid - b.tid
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// liveProcFS reports whether procFS is this PID namespace's /proc (or the
// host's, seen with the host's PIDs), so that its PIDs can be traced; a
// fixture tree or another namespace's /proc cannot be.
func liveProcFS(procFS string) bool {
	self, err := os.Readlink(filepath.Join(procFS, "self"))
	return err == nil && self == strconv.Itoa(os.Getpid())
}

// running reports whether the thread is on a CPU or waiting for one (R).
func running(procFS string, pid, tid int) bool {
	b, err := os.ReadFile(filepath.Join(procFS, strconv.Itoa(pid), "task", strconv.Itoa(tid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the last ')' (the name may hold parentheses).
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'R'
}
