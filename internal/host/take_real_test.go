package host

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests look at real processes that they start on this machine.

func takeReal(t *testing.T, window time.Duration) *Snapshot {
	t.Helper()
	s, err := Take(context.Background(), Options{Window: window})
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	return s
}

// takeMeasured takes a snapshot with a 1 s window and returns, as well, the
// CPU use of process pid (or of its thread tid) by the kernel's count read
// just before and after Take.
func takeMeasured(t *testing.T, pid int, tid string) (*Snapshot, float64) {
	t.Helper()
	statPath := "/proc/" + strconv.Itoa(pid) + "/stat"
	if tid != "" {
		statPath = "/proc/" + strconv.Itoa(pid) + "/task/" + tid + "/stat"
	}
	ticks := func() uint64 {
		data, err := os.ReadFile(statPath)
		if err != nil {
			t.Fatal(err)
		}
		st, err := parseStat(data)
		if err != nil {
			t.Fatal(err)
		}
		return st.ticks()
	}
	t0, at0 := ticks(), time.Now()
	s := takeReal(t, time.Second)
	t1, at1 := ticks(), time.Now()
	return s, float64(t1-t0) / userHZ / at1.Sub(at0).Seconds()
}

func mustFind(t *testing.T, s *Snapshot, pid int) *Process {
	t.Helper()
	p := s.Process(pid)
	if p == nil {
		t.Fatalf("process %d not in the snapshot (%d processes, skipped %v)", pid, len(s.Processes), s.Skipped)
	}
	return p
}

func selfNetNS(t *testing.T) uint64 {
	t.Helper()
	target, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Skipf("no /proc/self/ns/net: %v", err)
	}
	ino, ok := parseLinkInode(target, "net:[")
	if !ok {
		t.Fatalf("bad ns link %q", target)
	}
	return ino
}

func TestTakeRealProcesses(t *testing.T) {
	sleepPath, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	shPath, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh binary")
	}
	sleeper := startChild(t, exec.Command(sleepPath, "300"))
	burner := startChild(t, exec.Command(shPath, "-c", "while :; do :; done"))
	before := time.Now()

	var s *Snapshot
	busyAgreement(t, "burner", func() (float64, float64) {
		var kernel float64
		s, kernel = takeMeasured(t, burner.pid(), "")
		return mustFind(t, s, burner.pid()).CPU, kernel
	})
	if s.Window != time.Second || s.CPUs < 1 {
		t.Errorf("Window %v CPUs %d", s.Window, s.CPUs)
	}
	ns := selfNetNS(t)
	sleepExe, _ := filepath.EvalSymlinks(sleepPath)
	shExe, _ := filepath.EvalSymlinks(shPath)

	tests := []struct {
		name    string
		c       *child
		comm    string
		exe     string
		cmdline []string
		cpu     func(float64) bool
	}{
		{"sleep", sleeper, "sleep", sleepExe, []string{sleepPath, "300"}, func(c float64) bool { return c < 0.2 }},
		{"burner", burner, filepath.Base(shPath), shExe, []string{shPath, "-c", "while :; do :; done"}, func(c float64) bool { return c > 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustFind(t, s, tc.c.pid())
			if p.PPID != os.Getpid() {
				t.Errorf("PPID = %d, want %d", p.PPID, os.Getpid())
			}
			if p.Comm != tc.comm {
				t.Errorf("Comm = %q, want %q", p.Comm, tc.comm)
			}
			if p.Exe != tc.exe || p.ExeDeleted || p.ExeMemfd {
				t.Errorf("Exe = %q (deleted %v memfd %v), want %q", p.Exe, p.ExeDeleted, p.ExeMemfd, tc.exe)
			}
			if !slices.Equal(p.Cmdline, tc.cmdline) || p.CmdlineTruncated {
				t.Errorf("Cmdline = %q, want %q", p.Cmdline, tc.cmdline)
			}
			var st unix.Stat_t
			if err := unix.Stat(tc.exe, &st); err == nil {
				want := FileID{Dev: st.Dev, Inode: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano()}
				if p.ExeFile != want {
					t.Errorf("ExeFile = %+v, want %+v", p.ExeFile, want)
				}
			}
			wd, _ := os.Getwd()
			if p.Cwd != wd || p.UID != os.Geteuid() || p.NetNS != ns || p.Threads != 1 {
				t.Errorf("Cwd %q UID %d NetNS %d Threads %d; want %q %d %d 1", p.Cwd, p.UID, p.NetNS, p.Threads, wd, os.Geteuid(), ns)
			}
			// Start has one-second precision from btime.
			if p.Start.Before(before.Add(-3*time.Second)) || p.Start.After(time.Now()) {
				t.Errorf("Start = %v, started at about %v", p.Start, before)
			}
			if !tc.cpu(p.CPU) {
				t.Errorf("CPU = %.3f cores, out of range", p.CPU)
			}
			if !slices.Equal(p.ThreadIDs, []int{p.PID}) || len(p.ThreadCPU) != 1 || p.ThreadCPU[0] != p.CPU {
				t.Errorf("threads %v %v, want one thread with the process's CPU", p.ThreadIDs, p.ThreadCPU)
			}
			if p.CgroupPath == "" {
				t.Errorf("no cgroup path")
			}
		})
	}

	t.Run("self excluded", func(t *testing.T) {
		s, err := Take(context.Background(), Options{ExcludePIDs: []int{os.Getpid()}})
		if err != nil {
			t.Fatal(err)
		}
		if s.Process(os.Getpid()) != nil {
			t.Errorf("excluded PID %d in the snapshot", os.Getpid())
		}
		mustFind(t, s, sleeper.pid())
	})

	t.Run("vanished during the window", func(t *testing.T) {
		short := startChild(t, exec.Command(sleepPath, "0.3"))
		s := takeReal(t, time.Second)
		if s.Process(short.pid()) != nil {
			t.Errorf("process %d that exited during the window is listed", short.pid())
		}
		if s.Skipped[SkipVanished] < 1 {
			t.Errorf("Skipped[vanished] = %d, want >= 1", s.Skipped[SkipVanished])
		}
	})
}

// TestTakeRealThreads checks per-thread CPU on this test binary, whose
// spinning goroutine is pinned to one thread.
func TestTakeRealThreads(t *testing.T) {
	stop := make(chan struct{})
	tid := make(chan int)
	go func() {
		runtime.LockOSThread()
		tid <- unix.Gettid()
		for {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	spinner := <-tid
	defer close(stop)

	var p *Process
	i := -1
	busyAgreement(t, "spinning thread", func() (float64, float64) {
		s, kernel := takeMeasured(t, os.Getpid(), strconv.Itoa(spinner))
		p = mustFind(t, s, os.Getpid())
		if i = slices.Index(p.ThreadIDs, spinner); i < 0 {
			t.Fatalf("thread %d not among %v", spinner, p.ThreadIDs)
		}
		return p.ThreadCPU[i], kernel
	})
	if p.CPU < p.ThreadCPU[i]-0.05 {
		t.Errorf("process CPU %.2f below its thread's %.2f", p.CPU, p.ThreadCPU[i])
	}
	if len(p.ThreadIDs) != len(p.ThreadCPU) || !slices.IsSorted(p.ThreadIDs) {
		t.Errorf("ThreadIDs %v ThreadCPU %v", p.ThreadIDs, p.ThreadCPU)
	}
}

func TestTakeRealSockets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()

	dialer := startHelper(t, "dial", []string{"DAVY_HOST_ADDR=" + ln.Addr().String()})
	var conn net.Conn
	select {
	case conn = <-accepted:
		defer conn.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("no connection from the helper")
	}
	server := netip.MustParseAddrPort(ln.Addr().String())
	client := netip.MustParseAddrPort(conn.RemoteAddr().String())
	if got := strings.TrimPrefix(dialer.ready, "ready "); got != client.String() {
		t.Fatalf("helper dialled from %s, server saw %s", got, client)
	}

	s := takeReal(t, 0)
	tests := []struct {
		name string
		pid  int
		want Socket
	}{
		{"dialler's end", dialer.pid(), Socket{Proto: "tcp", Local: client, Remote: server, State: "ESTABLISHED"}},
		{"accepted end", os.Getpid(), Socket{Proto: "tcp", Local: server, Remote: client, State: "ESTABLISHED"}},
		{"listener", os.Getpid(), Socket{Proto: "tcp", Local: server, Remote: netip.MustParseAddrPort("0.0.0.0:0"), State: "LISTEN"}},
		{"udp", os.Getpid(), Socket{Proto: "udp", Local: netip.MustParseAddrPort(udp.LocalAddr().String()), Remote: netip.MustParseAddrPort("0.0.0.0:0")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustFind(t, s, tc.pid)
			var found *Socket
			for i, sk := range p.Sockets {
				if sk.Proto == tc.want.Proto && sk.Local == tc.want.Local && sk.Remote == tc.want.Remote {
					found = &p.Sockets[i]
				}
			}
			if found == nil {
				t.Fatalf("socket %+v not attributed to PID %d; it holds %+v", tc.want, tc.pid, p.Sockets)
			}
			if found.State != tc.want.State || found.Inode == 0 || found.UID != os.Geteuid() {
				t.Errorf("socket %+v, want state %q, an inode and UID %d", *found, tc.want.State, os.Geteuid())
			}
			// The other end belongs to the other process only.
			for _, other := range s.Processes {
				if other.PID == tc.pid {
					continue
				}
				for _, sk := range other.Sockets {
					if sk.Inode == found.Inode {
						t.Errorf("socket inode %d also attributed to PID %d", sk.Inode, other.PID)
					}
				}
			}
		})
	}
}

func TestTakeRealLongCmdline(t *testing.T) {
	big := strings.Repeat("x", 120<<10) // under MAX_ARG_STRLEN (128 KiB)
	tests := []struct {
		name     string
		args     []string
		wantArgs int
	}{
		{"100,000 arguments", slices.Repeat([]string{"a"}, 100000), maxCmdlineArgs},
		{"over 1 MiB", slices.Repeat([]string{big}, 10), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := startHelper(t, "block", nil, tc.args...)
			s := takeReal(t, 0)
			p := mustFind(t, s, c.pid())
			if !p.CmdlineTruncated || s.Skipped[SkipCmdlineTruncated] < 1 {
				t.Errorf("CmdlineTruncated %v, Skipped[cmdline_truncated] %d", p.CmdlineTruncated, s.Skipped[SkipCmdlineTruncated])
			}
			if tc.wantArgs > 0 && len(p.Cmdline) != tc.wantArgs {
				t.Errorf("%d args kept, want %d", len(p.Cmdline), tc.wantArgs)
			}
			size := 0
			for _, a := range p.Cmdline {
				size += len(a) + 1
			}
			if size > maxCmdlineSize+1 {
				t.Errorf("%d bytes of cmdline kept, over the %d limit", size, maxCmdlineSize)
			}
			if p.Cmdline[0] != os.Args[0] || p.Cmdline[1] != tc.args[0][:min(len(tc.args[0]), len(p.Cmdline[1]))] {
				t.Errorf("cmdline starts %q %.20q", p.Cmdline[0], p.Cmdline[1])
			}
		})
	}
}

// busyAgreement checks a busy loop's CPU as Take measured it against the
// kernel's own count taken around the window, and wants over half a core.
// On a machine other jobs keep busy the loop may get less: the kernel's
// count tells that apart from a wrong measurement, and after three tries
// only the agreement is asserted.
func busyAgreement(t *testing.T, what string, measure func() (got, kernel float64)) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		got, kernel := measure()
		if d := got - kernel; d > 0.25 || d < -0.25 {
			t.Errorf("%s at %.2f cores, the kernel counted %.2f around the window", what, got, kernel)
		}
		switch {
		case got > 0.5:
			return
		case kernel > 0.6:
			t.Errorf("%s at %.2f cores, want > 0.5 (kernel count %.2f, attempt %d)", what, got, kernel, attempt)
			return
		case attempt == 3:
			t.Logf("machine too busy for the absolute check (kernel count %.2f)", kernel)
			return
		}
		t.Logf("attempt %d: the machine gave the %s only %.2f cores; again", attempt, what, kernel)
	}
}
