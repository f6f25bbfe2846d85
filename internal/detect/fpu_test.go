package detect

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/davyproject/davy/internal/fpsample"
	"github.com/davyproject/davy/internal/host"
)

// withSampler replaces the ptrace sampler for one test.
func withSampler(t *testing.T, f func(pid, tid int) (fpsample.Sample, error)) {
	old := sampleThread
	sampleThread = f
	t.Cleanup(func() { sampleThread = old })
}

// busySelf is a workload of this test's own running thread, which the
// detector sees in state R when it looks (the caller locks its thread).
func busySelf(cpu float64) *Workload {
	p := &host.Process{PID: os.Getpid(), CPU: cpu, ThreadIDs: []int{unix.Gettid()}, ThreadCPU: []float64{cpu}}
	return &Workload{Kind: KindProcess, ID: "self", Processes: []*host.Process{p}}
}

func TestFPUChurnFromSamples(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	env := &Env{ProcFS: "/proc"}
	mode := 0
	withSampler(t, func(pid, tid int) (fpsample.Sample, error) {
		mode = (mode + 1) % 4 // nearest, down, up, toward zero...
		return fpsample.Sample{MXCSR: 0x1f80 | uint32(mode)<<13}, nil
	})
	ev := fpuChurn{}.Detect(context.Background(), env, busySelf(1))
	if len(ev) != 1 || ev[0].ID != "DAVY-B003" || ev[0].Values["non_nearest"] != "2" {
		t.Fatalf("evidence %+v", ev)
	}
	t.Log(ev[0].Message)

	withSampler(t, func(pid, tid int) (fpsample.Sample, error) { return fpsample.Sample{MXCSR: 0x1f80}, nil })
	if ev := (fpuChurn{}).Detect(context.Background(), env, busySelf(1)); len(ev) != 0 {
		t.Errorf("threads at nearest gave %+v", ev)
	}
}

func TestFPUSaysWhenItCouldNotLook(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	withSampler(t, func(pid, tid int) (fpsample.Sample, error) {
		return fpsample.Sample{}, fmt.Errorf("%w: operation not permitted", fpsample.ErrRefused)
	})
	ev := fpuChurn{}.Detect(context.Background(), &Env{ProcFS: "/proc"}, busySelf(1))
	if len(ev) != 1 || ev[0].ID != "DAVY-B004" || ev[0].Weight != 0 {
		t.Fatalf("evidence %+v", ev)
	}
}

func TestFPUSamplesOnlyBusyLiveWorkloads(t *testing.T) {
	called := false
	withSampler(t, func(pid, tid int) (fpsample.Sample, error) { called = true; return fpsample.Sample{}, nil })
	if ev := (fpuChurn{}).Detect(context.Background(), &Env{ProcFS: "/proc"}, busySelf(0.01)); len(ev) != 0 || called {
		t.Errorf("an idle workload was sampled: %+v", ev)
	}
	// A fixture tree's PIDs are not this machine's: never traced.
	if ev := (fpuChurn{}).Detect(context.Background(), &Env{ProcFS: t.TempDir()}, busySelf(2)); len(ev) != 0 || called {
		t.Errorf("a fixture procfs was sampled: %+v", ev)
	}
}
