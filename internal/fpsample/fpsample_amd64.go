//go:build linux && amd64

package fpsample

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ptraceGetFPRegs is PTRACE_GETFPREGS; user_fpregs_struct (the FXSAVE
// area) is 512 bytes with MXCSR at offset 24.
const (
	ptraceGetFPRegs = 14
	fpregsSize      = 512
	mxcsrOffset     = 24
)

// Thread samples thread tid of process pid.
func Thread(pid, tid int) (Sample, error) {
	// Every ptrace request on a tracee must come from the OS thread that
	// attached.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	if err := unix.PtraceSeize(tid); err != nil {
		switch {
		case errors.Is(err, unix.ESRCH):
			return Sample{}, ErrGone
		case errors.Is(err, unix.EPERM) && exiting(pid, tid):
			// An exiting thread cannot be attached to either.
			return Sample{}, ErrGone
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
			return Sample{}, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		return Sample{}, fmt.Errorf("seizing thread %d: %w", tid, err)
	}
	st, err := interruptAndWait(tid, time.Now().Add(MaxWait))
	stoppedAt := time.Now()
	var s Sample
	if err == nil {
		s, err = readFP(tid)
	}
	// Whatever happened, let the thread go: detaching is not optional.
	if derr := detach(tid, st); derr != nil && err == nil {
		err = derr
	}
	if st.stopped {
		s.Stopped = time.Since(stoppedAt)
	}
	return s, err
}

// stop is what the wait saw: whether the thread is stopped, and the
// signal to hand back to it if the stop was one's delivery.
type stop struct {
	stopped, gone bool
	signal        unix.Signal
}

func interruptAndWait(tid int, deadline time.Time) (stop, error) {
	if err := unix.PtraceInterrupt(tid); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return stop{gone: true}, ErrGone
		}
		return stop{}, fmt.Errorf("interrupting thread %d: %w", tid, err)
	}
	for {
		st, err := poll(tid)
		if err != nil || st.stopped || st.gone {
			if st.gone {
				err = ErrGone
			}
			return st, err
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("%w: thread %d, %s", ErrSlow, tid, MaxWait)
		}
		time.Sleep(10 * time.Microsecond)
	}
}

// poll reaps one state change of the tracee without blocking.
func poll(tid int) (stop, error) {
	var ws unix.WaitStatus
	for {
		got, err := unix.Wait4(tid, &ws, unix.WALL|unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			return stop{gone: true}, nil
		case err != nil:
			return stop{}, fmt.Errorf("waiting for thread %d: %w", tid, err)
		case got != tid:
			return stop{}, nil
		case ws.Exited() || ws.Signaled():
			return stop{gone: true}, nil
		case ws.Stopped():
			st := stop{stopped: true}
			// PTRACE_EVENT_STOP is the interrupt (or a group stop);
			// anything else is a signal on its way to the thread.
			if ws.TrapCause() != unix.PTRACE_EVENT_STOP {
				st.signal = ws.StopSignal()
			}
			return st, nil
		}
		return stop{}, nil
	}
}

func readFP(tid int) (Sample, error) {
	var buf [fpregsSize]byte
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, ptraceGetFPRegs, uintptr(tid), 0, uintptr(unsafe.Pointer(&buf[0])), 0, 0)
	if errno != 0 {
		if errno == unix.ESRCH {
			return Sample{}, ErrGone
		}
		return Sample{}, fmt.Errorf("reading the FP registers of thread %d: %w", tid, errno)
	}
	return Sample{MXCSR: binary.LittleEndian.Uint32(buf[mxcsrOffset:])}, nil
}

// detach lets the thread go with any signal its stop held back. A tracee
// can only be detached while stopped, so one that has not stopped yet is
// waited for. The stop may also have been reaped by another thread of this
// process waiting on the same child (a parent's wait reports its traced
// children's stops): PTRACE_DETACH is tried whatever the wait saw.
func detach(tid int, st stop) error {
	for i := 0; ; i++ {
		if st.gone {
			return nil
		}
		_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(tid), 0, uintptr(st.signal), 0, 0)
		switch {
		case errno == 0:
			return nil
		case errno != unix.ESRCH:
			return fmt.Errorf("detaching from thread %d: %w", tid, errno)
		case unix.Kill(tid, 0) == unix.ESRCH:
			return nil // exited
		}
		// ESRCH from a live thread: not stopped yet.
		if i > 0 && i%10000 == 0 {
			// Seconds in the kernel: ask again.
			_ = unix.PtraceInterrupt(tid)
		}
		next, err := poll(tid)
		if err != nil {
			return err
		}
		if next.stopped || next.gone {
			st = next
			continue
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// exiting reports whether the thread is gone or on its way out (a zombie
// or dead task), from the host's /proc.
func exiting(pid, tid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}
