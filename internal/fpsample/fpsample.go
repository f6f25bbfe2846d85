// Package fpsample reads the floating-point control state of a running
// thread: it attaches with PTRACE_SEIZE, stops the thread with
// PTRACE_INTERRUPT, reads its FP registers and lets it go. RandomX changes
// the SSE rounding mode all the time; honest code leaves it at nearest.
// A thread is stopped for well under a millisecond per sample, and is
// never left stopped or traced: every path that attached detaches.
package fpsample

import (
	"errors"
	"time"
)

// Errors a sample can end with; callers count them as "could not look".
var (
	// ErrRefused: ptrace was not allowed (another tracer, a Yama or
	// seccomp policy, no CAP_SYS_PTRACE).
	ErrRefused = errors.New("ptrace refused")
	// ErrGone: the thread exited (or the process exec'd) while sampled.
	ErrGone = errors.New("thread gone")
	// ErrUnsupported: no sampler for this architecture.
	ErrUnsupported = errors.New("FP state sampling is not supported on this architecture")
	// ErrSlow: the thread did not reach its stop within MaxWait (a busy
	// machine, or a thread deep in the kernel); it was let go unread.
	ErrSlow = errors.New("thread did not stop in time")
)

// Sample is one reading of a thread.
type Sample struct {
	// MXCSR is the SSE control and status register.
	MXCSR uint32
	// Stopped is how long the thread was held stopped: from the moment its
	// stop was seen to its release. Before that it runs as usual.
	Stopped time.Duration
}

// Rounding is the SSE rounding mode: 0 nearest, 1 down, 2 up, 3 toward
// zero.
func (s Sample) Rounding() int { return int(s.MXCSR>>13) & 3 }

// MaxWait is how long Thread waits for a thread to reach its stop before
// it gives up on this sample (it still waits for the stop to let it go).
// The thread is not stopped meanwhile: on a crowded node a runnable thread
// can wait that long for a CPU to run on, and it stops only then.
const MaxWait = 300 * time.Millisecond
