package scan

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/report"
	"github.com/davyproject/davy/internal/testbed"
	"github.com/davyproject/davy/internal/testbed/pool"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

// expectation is one real workload and the verdict the scan must give it.
type expectation struct {
	name string
	pid  int    // for bare processes
	cid  string // for containers
	// verdict is exact for miners and the worst allowed for honest work.
	verdict  finding.Verdict
	evidence []string // IDs that must be present
}

// TestScanHostRealWorkloads starts simulated miners of every variant and
// honest heavy work side by side, takes one real snapshot, and checks each
// verdict. Everything runs on this machine; the pool listens on loopback.
func TestScanHostRealWorkloads(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	xmrPool := testbedtest.StartPool(t, pool.Config{Difficulty: 1})
	tlsPool := testbedtest.StartPool(t, pool.Config{TLS: true, Difficulty: 1})
	var want []expectation
	tmp := t.TempDir()

	// A miner renamed "kworker", run from a temporary directory.
	renamed := copyExe(t, bins.Miner, filepath.Join(tmp, "kworker"))
	p := testbedtest.Start(t, renamed, testbedtest.MinerArgs(xmrPool.URL())...)
	want = append(want, expectation{name: "renamed miner in /tmp", pid: p.PID(), verdict: finding.VerdictMiner, evidence: []string{"DAVY-I001", "DAVY-C001", "DAVY-C002", "DAVY-P001"}})

	// Stratum v1 over TLS.
	p = testbedtest.Start(t, bins.Miner, testbedtest.MinerArgs(strings.Replace(tlsPool.URL(), "stratum+tcp", "stratum+ssl", 1), "--dialect", "stratum", "--tls")...)
	want = append(want, expectation{name: "stratum v1 over TLS", pid: p.PID(), verdict: finding.VerdictMiner, evidence: []string{"DAVY-I001", "DAVY-C001"}})

	// Pool and wallet only in a config file in the working directory; a
	// clean command line and a harmless name.
	cfgDir := t.TempDir()
	writeFile(t, filepath.Join(cfgDir, "config.json"), minerConfig(xmrPool.Addr()))
	quiet := copyExe(t, bins.Miner, filepath.Join(t.TempDir(), "node-exporter"))
	p = startIn(t, cfgDir, quiet, "-c", "config.json", "--dataset-mib", "2")
	want = append(want, expectation{name: "config-only miner", pid: p.PID(), verdict: finding.VerdictMiner, evidence: []string{"DAVY-I001", "DAVY-F001"}})

	// Loaded into a memfd: nothing on disk.
	p = testbedtest.Start(t, bins.Miner, testbedtest.MinerArgs(xmrPool.URL(), "--memfd")...)
	want = append(want, expectation{name: "memfd miner", pid: p.PID(), verdict: finding.VerdictMiner, evidence: []string{"DAVY-I001", "DAVY-P004"}})

	// Throttled to a 30% duty cycle (stealth).
	p = testbedtest.Start(t, bins.Miner, testbedtest.MinerArgs(xmrPool.URL(), "--duty", "0.3")...)
	want = append(want, expectation{name: "throttled miner", pid: p.PID(), verdict: finding.VerdictMiner, evidence: []string{"DAVY-I001"}})

	// Honest heavy work: compressors and a hash of a large file, a Go build.
	big := filepath.Join(tmp, "big.img")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 64<<30); err != nil { // sparse: reading it costs CPU, not disk
		t.Fatal(err)
	}
	for _, c := range [][]string{
		{"xz", "-9", "-c", big},
		{"gzip", "-9", "-c", big},
		{"sha256sum", big},
	} {
		p := startSh(t, c)
		want = append(want, expectation{name: "honest " + c[0], pid: p, verdict: finding.VerdictClean})
	}
	goBuild := startGoBuild(t)
	want = append(want, expectation{name: "honest go build", pid: goBuild, verdict: finding.VerdictClean})
	// A burner from a temporary directory saturating every core may look
	// suspicious (weak signals add up); it must never look like a miner.
	p = testbedtest.Start(t, bins.Burner, "--mode", "sha", "--threads", "2", "--duration", "5m")
	want = append(want, expectation{name: "benign burner process", pid: p.PID(), verdict: finding.VerdictSuspicious})

	// Containers (podman + runc) with CPU limits: a miner that reads its
	// pool from a config file and an honest burner.
	pm := testenv.NewPodman(t)
	rootfs := testenv.Rootfs(t, map[string]string{"usr/bin/kworker": bins.Miner, "usr/bin/burner": bins.Burner})
	writeFile(t, filepath.Join(rootfs, "etc/k.json"), minerConfig(xmrPool.Addr()))
	mc := pm.Run(rootfs, []string{"--cpus", "0.5", "--network=host"}, "/usr/bin/kworker", "-c", "/etc/k.json", "--dataset-mib", "2")
	want = append(want, expectation{name: "miner container", cid: mc.ID, verdict: finding.VerdictMiner, evidence: []string{"DAVY-I001", "DAVY-F001", "DAVY-L001"}})
	bc := pm.Run(rootfs, []string{"--cpus", "0.5"}, "/usr/bin/burner", "--mode", "compress", "--threads", "2", "--duration", "5m")
	want = append(want, expectation{name: "benign burner container", cid: bc.ID, verdict: finding.VerdictClean})

	// Let every miner reach the pool (so logs hold pool output) before the snapshot.
	testbedtest.WaitPool(t, xmrPool, 60*time.Second, "miner logins", func(s pool.Stats) bool { return s.LoginCount >= 5 })
	testbedtest.WaitPool(t, tlsPool, 60*time.Second, "TLS login", func(s pool.Stats) bool { return s.LoginCount >= 1 })
	time.Sleep(time.Second)

	rep, _, err := Host(context.Background(), HostOptions{Window: 2 * time.Second, Thresholds: detect.DefaultThresholds})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		t.Run(w.name, func(t *testing.T) {
			got := find(rep, w)
			if got == nil {
				t.Fatalf("workload not in the report (pid %d, container %q)", w.pid, w.cid)
			}
			if got.Verdict != w.verdict && (w.verdict == finding.VerdictMiner || got.Verdict.Rank() > w.verdict.Rank()) {
				t.Errorf("verdict %s (score %d), want %s; evidence:\n%s", got.Verdict, got.Score, w.verdict, evidenceText(got))
			}
			have := map[string]bool{}
			for _, e := range got.Evidence {
				have[e.ID] = true
			}
			for _, id := range w.evidence {
				if !have[id] {
					t.Errorf("missing evidence %s; evidence:\n%s", id, evidenceText(got))
				}
			}
		})
	}
	// The compilers `go build` spawned are honest too.
	for _, wl := range rep.Workloads {
		for _, pr := range wl.Processes {
			if pr.PPID == goBuild && wl.Verdict != finding.VerdictClean {
				t.Errorf("go build child %d %q: %s\n%s", pr.PID, pr.Comm, wl.Verdict, evidenceText(&wl))
			}
		}
	}
	if c := findContainer(rep, mc.ID); c != nil && (c.CPU.Limit != 0.5 || c.Runtime != "podman") {
		t.Errorf("miner container: limit %.2f runtime %q, want 0.5 podman", c.CPU.Limit, c.Runtime)
	}
}

func find(rep *report.HostReport, w expectation) *report.Workload {
	if w.cid != "" {
		return findContainer(rep, w.cid)
	}
	for i, wl := range rep.Workloads {
		if wl.Kind == detect.KindProcess && wl.ID == strconv.Itoa(w.pid) {
			return &rep.Workloads[i]
		}
	}
	return nil
}

func findContainer(rep *report.HostReport, id string) *report.Workload {
	for i, wl := range rep.Workloads {
		if wl.Kind == detect.KindContainer && wl.ID == id {
			return &rep.Workloads[i]
		}
	}
	return nil
}

func evidenceText(w *report.Workload) string {
	var b strings.Builder
	for _, e := range w.Evidence {
		fmt.Fprintf(&b, "  %s %d %s\n", e.ID, e.Weight, e.Message)
	}
	for _, p := range w.Processes {
		fmt.Fprintf(&b, "  pid %d comm %q exe %q cpu %.2f\n", p.PID, p.Comm, p.Exe, p.CPU)
	}
	return b.String()
}

func minerConfig(addr string) string {
	return `{"donate-level": 1, "cpu": {"enabled": true, "max-threads-hint": 50},
 "pools": [{"url": "` + addr + `", "user": "` + testbed.MoneroWallet + `", "pass": "x", "keepalive": true}]}`
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyExe(t *testing.T, src, dst string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// startIn starts a program in a working directory, stopped at cleanup.
func startIn(t *testing.T, dir, bin string, args ...string) *testbedtest.Proc {
	t.Helper()
	old, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// exec.Cmd.Dir would do, but testbedtest.Start owns the Cmd; chdir
	// around the start is safe because this test does not run in parallel.
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(old)
	return testbedtest.Start(t, bin, args...)
}

// startSh runs an honest command with output discarded and stops it (by
// its PID) at cleanup.
func startSh(t *testing.T, argv []string) int {
	t.Helper()
	c := exec.Command(argv[0], argv[1:]...)
	c.Stdout = nil
	if err := c.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	return c.Process.Pid
}

// startGoBuild starts a real `go build` with an empty build cache in its own
// process group, so the compilers it spawns are ended with it.
func startGoBuild(t *testing.T) int {
	t.Helper()
	testenv.NeedCommand(t, "go")
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := exec.Command("go", "build", "-o", filepath.Join(dir, "out"), "./internal/testbed/cmd/burner")
	c.Dir = root
	c.Env = append(os.Environ(), "GOCACHE="+filepath.Join(dir, "cache"), "GOFLAGS=-p=2")
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		_ = c.Wait()
	})
	return c.Process.Pid
}

// TestScanHostNetWindow captures packets during the scan while a miner,
// started before it, talks to its pool on a random loopback port: the flow
// is joined mid-stream and still read, and the evidence lands on the
// miner's process.
func TestScanHostNetWindow(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	p := testbedtest.StartPool(t, pool.Config{Difficulty: 1, JobInterval: 300 * time.Millisecond})
	m := testbedtest.Start(t, bins.Miner, testbedtest.MinerArgs(p.URL())...)
	testbedtest.WaitPool(t, p, 10*time.Second, "the miner's login", func(s pool.Stats) bool { return len(s.Logins) > 0 })
	rep, _, err := Host(context.Background(), HostOptions{Window: time.Second, NetWindow: 3 * time.Second, Thresholds: detect.DefaultThresholds})
	if err != nil {
		t.Fatal(err)
	}
	w := find(rep, expectation{name: "miner", pid: m.PID()})
	if w == nil {
		t.Fatalf("miner %d not in the report", m.PID())
	}
	if !strings.Contains(evidenceText(w), "DAVY-N004") {
		t.Errorf("miner evidence %s, want DAVY-N004 from the wire", evidenceText(w))
	}
}
