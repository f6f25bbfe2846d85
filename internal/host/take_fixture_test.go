package host

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The fixture tree testdata/proc (made by testdata/mkfixture.py) holds a
// host process, kernel threads, a miner in a docker container, a Kubernetes
// container with odd names and a memfd executable, and broken entries.
const (
	fixtureProc = "testdata/proc"
	fixtureSys  = "testdata/sys"
	fixturePod  = podUID
	dockerID    = id1
	k8sID       = id2
	k8sPath     = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSD + ".slice/cri-containerd-" + k8sID + ".scope"
)

func takeFixture(t *testing.T, opts Options) *Snapshot {
	t.Helper()
	if opts.ProcFS == "" {
		opts.ProcFS = fixtureProc
	}
	if opts.SysFS == "" {
		opts.SysFS = fixtureSys
	}
	s, err := Take(context.Background(), opts)
	if err != nil {
		t.Fatalf("Take(%+v): %v", opts, err)
	}
	return s
}

func pids(s *Snapshot) []int {
	var out []int
	for _, p := range s.Processes {
		out = append(out, p.PID)
	}
	return out
}

func TestTakeFixture(t *testing.T) {
	s := takeFixture(t, Options{})
	fixtureUID := ownerUID(t, filepath.Join(fixtureProc, "1"))
	boot := time.Unix(1700000000, 0)

	if got, want := pids(s), []int{1, 100, 200, 201, 305}; !slices.Equal(got, want) {
		t.Fatalf("PIDs = %v, want %v (kernel threads 2 and 3 and broken 300-306 left out)", got, want)
	}
	if s.CPUs != 2 {
		t.Errorf("CPUs = %d, want 2", s.CPUs)
	}

	t.Run("skipped", func(t *testing.T) {
		want := map[string]int{
			SkipExited:           1, // 300: stat gone
			SkipStatFormat:       5, // 301 302 303 304 306
			SkipCmdline:          1, // 305: cmdline is a directory
			SkipCgroup:           1, // 305
			SkipNetNS:            1, // 305
			SkipFD:               1, // 200 has no fd directory
			SkipNet:              1, // the udp table of 200's namespace has a garbage line
			SkipVanished:         0,
			SkipUID:              0,
			SkipSystemStat:       0,
			SkipCmdlineTruncated: 0,
		}
		for k, v := range want {
			if s.Skipped[k] != v {
				t.Errorf("Skipped[%q] = %d, want %d (all: %v)", k, s.Skipped[k], v, s.Skipped)
			}
		}
		if s.Skipped[SkipExeStat] < 3 { // /tmp/x (deleted), /memfd:foo (deleted), /nonexistent/broken
			t.Errorf("Skipped[exe_stat] = %d, want >= 3", s.Skipped[SkipExeStat])
		}
	})

	tests := []struct {
		pid   int
		check func(t *testing.T, p *Process)
	}{
		{1, func(t *testing.T, p *Process) {
			wantProcess(t, p, Process{PID: 1, PPID: 0, Comm: "systemd", Exe: "/usr/lib/systemd/systemd",
				Cmdline: []string{"/sbin/init", "splash"}, Cwd: "/", UID: fixtureUID, Threads: 1,
				NetNS: 4026531840, CgroupPath: "/init.scope", Start: boot.Add(10 * time.Millisecond)})
			wantCPU(t, p.CPU, 40.0/(1000-0.01))
			wantSockets(t, p.Sockets, []Socket{
				{Proto: "tcp", Local: ap("0.0.0.0:22"), Remote: ap("0.0.0.0:0"), State: "LISTEN", Inode: 1001, UID: 0},
				{Proto: "udp", Local: ap("127.0.0.53:53"), Remote: ap("0.0.0.0:0"), Inode: 1003, UID: 101},
			})
		}},
		{100, func(t *testing.T, p *Process) {
			wantProcess(t, p, Process{PID: 100, PPID: 1, Comm: "xmrig", Exe: "/tmp/x", ExeDeleted: true,
				Cmdline: []string{"./xmrig", "-o", "pool.example:3333", "-u", "WALLET"}, Cwd: "/tmp",
				UID: fixtureUID, Threads: 2, NetNS: 4026532000, CgroupPath: "/docker/" + dockerID, ContainerID: dockerID,
				Start: boot.Add(500 * time.Second)})
			wantCPU(t, p.CPU, 450.0/500)
			wantSockets(t, p.Sockets, []Socket{
				{Proto: "tcp", Local: ap("172.17.0.2:45678"), Remote: ap("10.0.0.5:3333"), State: "ESTABLISHED", Inode: 2001},
			})
		}},
		{200, func(t *testing.T, p *Process) {
			wantProcess(t, p, Process{PID: 200, PPID: 1, Comm: "a\nb\xff", Exe: "/memfd:foo", ExeDeleted: true, ExeMemfd: true,
				Cmdline: []string{"[kworker/0:1]"}, Cwd: "/", UID: fixtureUID, Threads: 1, NetNS: 4026532100,
				CgroupPath: k8sPath, ContainerID: k8sID, Start: boot.Add(900 * time.Second)})
			wantCPU(t, p.CPU, 1.0/100)
		}},
		{201, func(t *testing.T, p *Process) {
			if p.Comm != ") (evil) x" || p.PPID != 200 || p.ContainerID != k8sID {
				t.Errorf("got Comm %q PPID %d ContainerID %q", p.Comm, p.PPID, p.ContainerID)
			}
			// The udp table of this namespace was dropped (garbage line), tcp is there.
			wantSockets(t, p.Sockets, []Socket{
				{Proto: "tcp", Local: ap("10.1.0.7:50000"), Remote: ap("10.96.0.10:443"), State: "ESTABLISHED", Inode: 3001},
			})
		}},
		{305, func(t *testing.T, p *Process) {
			wantProcess(t, p, Process{PID: 305, PPID: 1, Comm: "broken", Exe: "/nonexistent/broken",
				UID: fixtureUID, Threads: 1, Start: boot.Add(990 * time.Second)})
		}},
	}
	for _, tc := range tests {
		t.Run("pid "+itoa(tc.pid), func(t *testing.T) {
			p := s.Process(tc.pid)
			if p == nil {
				t.Fatalf("process %d missing", tc.pid)
			}
			tc.check(t, p)
		})
	}

	t.Run("containers", func(t *testing.T) {
		if len(s.Containers) != 2 {
			t.Fatalf("%d containers, want 2: %+v", len(s.Containers), s.Containers)
		}
		byID := map[string]*Container{}
		for _, c := range s.Containers {
			byID[c.ID] = c
		}
		d, k := byID[dockerID], byID[k8sID]
		if d == nil || k == nil {
			t.Fatalf("containers %+v", s.Containers)
		}
		if d.Runtime != RuntimeDocker || !slices.Equal(d.PIDs, []int{100}) || d.CgroupPath != "/docker/"+dockerID ||
			!near(d.CPULimit, 1.5) || !approx(d.CPU, 0.9) {
			t.Errorf("docker container %+v", *d)
		}
		if !approx(d.CPURatio(), 0.6) {
			t.Errorf("CPURatio = %v, want 0.6", d.CPURatio())
		}
		// The container's own quota (0.5) is below the pod's (2).
		if k.Runtime != RuntimeContainerd || k.PodUID != fixturePod || k.QoS != QoSBurstable ||
			!slices.Equal(k.PIDs, []int{200, 201}) || k.CgroupPath != k8sPath || !near(k.CPULimit, 0.5) || !approx(k.CPU, 0.01) {
			t.Errorf("k8s container %+v", *k)
		}
	})
}

func TestTakeFixtureWindow(t *testing.T) {
	s := takeFixture(t, Options{Window: 30 * time.Millisecond})
	if got, want := pids(s), []int{1, 100, 200, 201, 305}; !slices.Equal(got, want) {
		t.Fatalf("PIDs = %v, want %v", got, want)
	}
	if s.Skipped[SkipVanished] != 0 || s.Skipped[SkipContainerCPU] != 0 || s.Skipped[SkipThreads] != 0 {
		t.Errorf("Skipped = %v", s.Skipped)
	}
	tests := []struct {
		pid  int
		tids []int
	}{
		{1, []int{1}},
		{100, []int{100, 101}},
		{201, []int{201}},
	}
	for _, tc := range tests {
		t.Run("pid "+itoa(tc.pid), func(t *testing.T) {
			p := s.Process(tc.pid)
			if p == nil {
				t.Fatal("missing")
			}
			// The fixture does not move: no CPU over the window.
			if p.CPU != 0 || !slices.Equal(p.ThreadIDs, tc.tids) || len(p.ThreadCPU) != len(tc.tids) {
				t.Errorf("CPU %v threads %v %v, want 0 and %v", p.CPU, p.ThreadIDs, p.ThreadCPU, tc.tids)
			}
		})
	}
	for _, c := range s.Containers {
		if c.CPU != 0 {
			t.Errorf("container %s CPU %v, want 0 from a still counter", c.ID, c.CPU)
		}
	}
}

func TestTakeFixtureOptions(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		wantPIDs []int
		check    func(t *testing.T, s *Snapshot)
	}{
		{"exclude the miner", Options{ExcludePIDs: []int{100, 4242}}, []int{1, 200, 201, 305},
			func(t *testing.T, s *Snapshot) {
				for _, c := range s.Containers {
					if c.ID == dockerID {
						t.Errorf("container of an excluded process listed: %+v", c)
					}
				}
			}},
		{"no sysfs: no limits, CPU summed", Options{SysFS: filepath.Join(t.TempDir(), "none")}, []int{1, 100, 200, 201, 305},
			func(t *testing.T, s *Snapshot) {
				for _, c := range s.Containers {
					if c.CPULimit != 0 {
						t.Errorf("container %s limit %v without sysfs", c.ID, c.CPULimit)
					}
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := takeFixture(t, tc.opts)
			if got := pids(s); !slices.Equal(got, tc.wantPIDs) {
				t.Fatalf("PIDs = %v, want %v", got, tc.wantPIDs)
			}
			tc.check(t, s)
		})
	}
}

func TestTakeErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		opts   Options
		target error
		inMsg  string
	}{
		{"missing proc", context.Background(), Options{ProcFS: "/nonexistent/proc"}, fs.ErrNotExist, "/nonexistent/proc"},
		{"proc is a file", context.Background(), Options{ProcFS: file}, nil, file},
		{"cancelled", cancelled, Options{ProcFS: fixtureProc}, context.Canceled, ""},
		{"cancelled in the window", cancelled, Options{ProcFS: fixtureProc, Window: time.Hour}, context.Canceled, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Take(tc.ctx, tc.opts)
			if err == nil {
				t.Fatalf("Take = %+v, want an error", s)
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %v is not %v", err, tc.target)
			}
			if !strings.Contains(err.Error(), tc.inMsg) {
				t.Errorf("error %q does not name %q", err, tc.inMsg)
			}
		})
	}
}

// TestTakeGarbageTree runs Take over trees of random junk: it must neither
// fail nor panic.
func TestTakeGarbageTree(t *testing.T) {
	junk := []string{"", "\x00", "(", ")", "1 (", "1 () S", strings.Repeat("(", 5000), "\xff\xfe\xfd", "0::", ":::", "socket:[",
		"net:[99999999999999999999999]", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 99999999999999999999 0 0 0 20 0 1 0 5 0",
		"  sl local\n 0: zz:zz zz:zz\n", "  sl\n 0: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1\n"}
	files := []string{"stat", "cmdline", "cgroup", "net/tcp", "net/tcp6", "net/udp", "net/udp6", "task/1/stat", "uptime"}
	links := []string{"exe", "cwd", "ns/net", "fd/3"}
	for seed := range 8 {
		t.Run("seed "+itoa(seed), func(t *testing.T) {
			root := t.TempDir()
			tree := map[string]string{"stat": junk[seed%len(junk)], "uptime": junk[(seed+3)%len(junk)]}
			for pid := 1; pid <= 30; pid++ {
				for i, f := range files {
					tree[itoa(pid)+"/"+f] = junk[(pid*7+i*3+seed)%len(junk)]
				}
				for i, l := range links {
					j := junk[(pid*5+i+seed)%len(junk)]
					if j == "" {
						j = "x"
					}
					// symlink targets are bounded and hold no NUL
					j = strings.ReplaceAll(j[:min(len(j), 200)], "\x00", "@")
					tree[itoa(pid)+"/"+l] = "-> " + j
				}
			}
			writeTree(t, root, tree)
			s, err := Take(context.Background(), Options{ProcFS: root, SysFS: root, Window: time.Millisecond})
			if err != nil {
				t.Fatalf("Take: %v", err)
			}
			if len(s.Skipped) == 0 {
				t.Errorf("nothing counted as skipped in a tree of junk")
			}
		})
	}
}

func wantProcess(t *testing.T, got *Process, want Process) {
	t.Helper()
	g := *got
	g.CPU, g.Sockets, g.ExeFile, g.ThreadCPU, g.ThreadIDs = 0, nil, FileID{}, nil, nil
	if !g.Start.Equal(want.Start) {
		t.Errorf("Start = %v, want %v", g.Start, want.Start)
	}
	g.Start, want.Start = time.Time{}, time.Time{}
	if !equalProcess(g, want) {
		t.Errorf("process\n got  %+v\n want %+v", g, want)
	}
}

func equalProcess(a, b Process) bool {
	if !slices.Equal(a.Cmdline, b.Cmdline) {
		return false
	}
	a.Cmdline, b.Cmdline = nil, nil
	return a.PID == b.PID && a.PPID == b.PPID && a.Comm == b.Comm && a.Exe == b.Exe &&
		a.ExeDeleted == b.ExeDeleted && a.ExeMemfd == b.ExeMemfd && a.CmdlineTruncated == b.CmdlineTruncated &&
		a.Cwd == b.Cwd && a.UID == b.UID && a.Threads == b.Threads && a.NetNS == b.NetNS &&
		a.ContainerID == b.ContainerID && a.CgroupPath == b.CgroupPath
}

func wantSockets(t *testing.T, got, want []Socket) {
	t.Helper()
	sortSockets := func(s []Socket) {
		slices.SortFunc(s, func(a, b Socket) int { return int(a.Inode) - int(b.Inode) })
	}
	got = slices.Clone(got)
	sortSockets(got)
	sortSockets(want)
	if !slices.Equal(got, want) {
		t.Errorf("sockets\n got  %+v\n want %+v", got, want)
	}
}

func wantCPU(t *testing.T, got, want float64) {
	t.Helper()
	if !approx(got, want) {
		t.Errorf("CPU = %v, want %v", got, want)
	}
}

func approx(a, b float64) bool {
	d := a - b
	return d < 1e-6 && d > -1e-6
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func itoa(i int) string { return strconv.Itoa(i) }

func ownerUID(t *testing.T, path string) int {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return int(st.Uid)
}
