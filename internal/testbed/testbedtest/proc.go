package testbedtest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/testbed"
	"github.com/davyproject/davy/internal/testbed/pool"
)

// Proc is a workload process started by a test.
type Proc struct {
	Cmd  *exec.Cmd
	out  *SyncBuffer
	done chan struct{}
	err  error
}

// Start runs bin with args, capturing stdout and stderr together. At test
// cleanup it stops this process (by its own PID only) and reaps it.
func Start(tb testing.TB, bin string, args ...string) *Proc {
	tb.Helper()
	p := &Proc{Cmd: exec.Command(bin, args...), out: &SyncBuffer{}, done: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = p.out, p.out
	if err := p.Cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	go func() { p.err = p.Cmd.Wait(); close(p.done) }()
	tb.Cleanup(p.Stop)
	return p
}

// PID is the process id (unchanged by the miner's memfd re-exec).
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Output is everything written so far.
func (p *Proc) Output() string { return p.out.String() }

// Exited reports whether the process has ended, and its Wait error.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Wait blocks until the process ends or timeout passes.
func (p *Proc) Wait(timeout time.Duration) (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	case <-time.After(timeout):
		return false, nil
	}
}

// WaitOutput waits until the output contains s.
func (p *Proc) WaitOutput(s string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(p.Output(), s) {
			return true
		}
		if done, _ := p.Exited(); done {
			return strings.Contains(p.Output(), s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Stop sends SIGTERM, then SIGKILL after 2 s, and reaps the process.
func (p *Proc) Stop() {
	if done, _ := p.Exited(); done {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if done, _ := p.Wait(2 * time.Second); !done {
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// CPUSeconds is the process's user+system CPU time from /proc/PID/stat.
func (p *Proc) CPUSeconds() (float64, error) {
	return CPUSeconds(p.PID())
}

// userHZ is the kernel's USER_HZ, 100 on every Linux architecture Go supports.
const userHZ = 100

// CPUSeconds reads utime+stime of pid from /proc.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The comm field may hold spaces; fields after the last ')' are fixed.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, os.ErrInvalid
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64) // field 14 overall
	st, err2 := strconv.ParseUint(f[12], 10, 64) // field 15 overall
	if err1 != nil || err2 != nil {
		return 0, os.ErrInvalid
	}
	return float64(ut+st) / userHZ, nil
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago: for "pool is down" tests that start the pool later.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// StartPool runs an in-process pool closed at cleanup.
func StartPool(tb testing.TB, cfg pool.Config) *pool.Server {
	tb.Helper()
	s, err := pool.Start(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("start pool: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// WaitPool waits until cond holds for the pool's stats.
func WaitPool(tb testing.TB, s *pool.Server, timeout time.Duration, what string, cond func(pool.Stats) bool) pool.Stats {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.Wait(ctx, cond); err != nil {
		tb.Fatalf("waiting for %s: %v; pool stats %+v", what, err, s.Stats())
	}
	return s.Stats()
}

// SyncBuffer collects a process's output while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// MinerArgs are light miner arguments for tests: the given pool URL, the
// test Monero wallet, one thread, a 2 MiB dataset and a 1 s retry pause,
// followed by extra.
func MinerArgs(url string, extra ...string) []string {
	return append([]string{"-o", url, "-u", testbed.MoneroWallet, "-t", "1", "--dataset-mib", "2", "-R", "1"}, extra...)
}
