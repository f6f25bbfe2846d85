package events

import (
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davyproject/davy/internal/testenv"
)

func openEBPFTest(t *testing.T, opts Options) Source {
	t.Helper()
	testenv.NeedRoot(t)
	src, err := Open(EBPF, opts)
	if err != nil {
		t.Fatalf("eBPF source: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func TestEBPFProcessEvents(t *testing.T) {
	checkProcessEvents(t, openEBPFTest(t, Options{}))
}

// TestEBPFConnect dials listeners on loopback from the test itself and
// waits for the connect events, matched by process and destination.
func TestEBPFConnect(t *testing.T) {
	src := openEBPFTest(t, Options{})
	rec := record(t, src)
	for _, c := range []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		ln, err := net.Listen(c.network, c.addr)
		if err != nil {
			if c.network == "tcp6" {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
		conn, err := net.Dial(c.network, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		want := ln.Addr().(*net.TCPAddr).AddrPort()
		ev := rec.wait(t, "connect to "+want.String(), func(e Event) bool {
			return e.Kind == Connect && e.TGID == os.Getpid() && e.Dst == want
		})
		if ev.FD <= 0 || ev.PID == 0 || ev.Comm == "" || ev.Source != EBPF {
			t.Errorf("connect %+v", ev)
		}
	}
}

func TestEBPFDropsWhenConsumerStalls(t *testing.T) {
	checkDrops(t, openEBPFTest(t, Options{}))
}

// TestEBPFKernelLoss leaves a one-page ring unread: the BPF program must
// count what it could not queue.
func TestEBPFKernelLoss(t *testing.T) {
	src := openEBPFTest(t, Options{RingSize: 1})
	for range 64 {
		runProcess(t, "/bin/true")
	}
	st := src.Stats()
	if st.Lost == 0 || st.Dropped != 0 {
		t.Errorf("stats %+v: want kernel-side losses", st)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if after := src.Stats(); after.Lost < st.Lost {
		t.Errorf("losses forgotten at Close: %+v then %+v", st, after)
	}
}

func TestRingSize(t *testing.T) {
	page := uint32(os.Getpagesize())
	for _, c := range []struct {
		in   int
		want uint32
	}{{0, defaultRingSize}, {1, page}, {int(page) + 1, 2 * page}, {3 << 20, 4 << 20}, {maxRingSize, maxRingSize}} {
		got, err := ringSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ringSize(%d) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, n := range []int{-1, maxRingSize + 1} {
		if _, err := ringSize(n); err == nil {
			t.Errorf("ringSize(%d) accepted", n)
		}
	}
}

// Formats as on Linux 6.18 (exit with group_dead) and as on older kernels.
const (
	formatExec = `name: sched_process_exec
ID: 365
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] filename;	offset:8;	size:4;	signed:0;
	field:pid_t pid;	offset:12;	size:4;	signed:1;
	field:pid_t old_pid;	offset:16;	size:4;	signed:1;

print fmt: "filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid
`
	formatExit618 = `format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:char comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t pid;	offset:24;	size:4;	signed:1;
	field:int prio;	offset:28;	size:4;	signed:1;
	field:bool group_dead;	offset:32;	size:1;	signed:0;
`
	formatExitOld = `format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:char comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t pid;	offset:24;	size:4;	signed:1;
	field:int prio;	offset:28;	size:4;	signed:1;
`
	formatNewtask = `format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:pid_t pid;	offset:8;	size:4;	signed:1;
	field:char comm[16];	offset:12;	size:16;	signed:0;
	field:u64 clone_flags;	offset:32;	size:8;	signed:0;
	field:short oom_score_adj;	offset:40;	size:2;	signed:1;
`
	formatConnect = `format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:int fd;	offset:16;	size:8;	signed:0;
	field:struct sockaddr * uservaddr;	offset:24;	size:8;	signed:0;
	field:int addrlen;	offset:32;	size:8;	signed:0;
`
	// A 32-bit kernel's syscall arguments are 4 bytes.
	formatConnect32 = `format:
	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:int fd;	offset:12;	size:4;	signed:0;
	field:struct sockaddr * uservaddr;	offset:16;	size:4;	signed:0;
	field:int addrlen;	offset:20;	size:4;	signed:0;
`
)

// fixtureTraceFS writes format files under events/GROUP/NAME/.
func fixtureTraceFS(t *testing.T, formats map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for tp, text := range formats {
		d := filepath.Join(dir, "events", tp)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "format"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTracepointOffsets(t *testing.T) {
	base := map[string]string{
		"sched/sched_process_exec":   formatExec,
		"sched/sched_process_exit":   formatExit618,
		"task/task_newtask":          formatNewtask,
		"syscalls/sys_enter_connect": formatConnect,
	}
	with := func(k, v string) map[string]string {
		m := maps.Clone(base)
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	log := testLogger(t)

	consts, connect, err := tracepointOffsets(fixtureTraceFS(t, base), log)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint32{
		eventsVarExecFilenameOff: 8, eventsVarExitGroupDeadOff: 32,
		eventsVarNewtaskPidOff: 8, eventsVarNewtaskFlagsOff: 32,
		eventsVarConnectFdOff: 16, eventsVarConnectAddrOff: 24, eventsVarConnectLenOff: 32,
	}
	if !connect || !maps.Equal(consts, want) {
		t.Errorf("6.18 layout: %v %v", consts, connect)
	}

	consts, connect, err = tracepointOffsets(fixtureTraceFS(t, with("sched/sched_process_exit", formatExitOld)), log)
	if err != nil || !connect || consts[eventsVarExitGroupDeadOff] != 0 {
		t.Errorf("old exit layout: %v %v %v", consts, connect, err)
	}

	consts, connect, err = tracepointOffsets(fixtureTraceFS(t, with("syscalls/sys_enter_connect", "")), log)
	if err != nil || connect || consts[eventsVarConnectAddrOff] != 0 || consts[eventsVarExecFilenameOff] != 8 {
		t.Errorf("no syscall tracepoints: %v %v %v", consts, connect, err)
	}

	for name, formats := range map[string]map[string]string{
		"32-bit syscall args": with("syscalls/sys_enter_connect", formatConnect32),
		"no exec tracepoint":  with("sched/sched_process_exec", ""),
		"no clone_flags":      with("task/task_newtask", strings.ReplaceAll(formatNewtask, "clone_flags", "flags")),
		"malformed format":    with("sched/sched_process_exec", "format:\n\tfield:int x;\n"),
	} {
		if _, _, err := tracepointOffsets(fixtureTraceFS(t, formats), log); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
