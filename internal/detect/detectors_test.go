package detect

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/davyproject/davy/internal/content"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/host"
)

const testWallet = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"

// fixture is a fake procfs with one entry per process: exe is a regular
// file, cwd and root are directories, fd/1 may point at a log file.
type fixture struct {
	t    *testing.T
	proc string
	root string
	env  *Env
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	env, err := NewEnv(EnvOptions{ProcFS: filepath.Join(dir, "proc"), RootFS: filepath.Join(dir, "root")})
	if err != nil {
		t.Fatal(err)
	}
	env.Snapshot = &host.Snapshot{CPUs: 2}
	return &fixture{t: t, proc: env.ProcFS, root: env.RootFS, env: env}
}

// process creates /proc/PID running /usr/bin/app with the given content;
// files land in the directory given by their path ("cwd/x" or "usr/bin/x",
// relative to /proc/PID).
func (f *fixture) process(pid int, exe []byte, files map[string]string) *host.Process {
	f.t.Helper()
	base := filepath.Join(f.proc, strconv.Itoa(pid))
	cwd := filepath.Join(base, "cwd")
	for _, d := range []string{cwd, filepath.Join(base, "root"), filepath.Join(base, "fd")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "exe"), exe, 0o755); err != nil {
		f.t.Fatal(err)
	}
	for name, data := range files {
		p := filepath.Join(base, name)
		if !strings.HasPrefix(name, "cwd/") {
			p = filepath.Join(base, "root", name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
	st, _ := os.Stat(filepath.Join(base, "exe"))
	return &host.Process{PID: pid, Comm: "app", Exe: "/usr/bin/app", ExeFile: host.FileID{Inode: uint64(pid), Size: st.Size(), Mtime: st.ModTime().UnixNano()}}
}

func (f *fixture) assess(w *Workload) Assessment {
	return Assess(context.Background(), f.env, All(), w, DefaultThresholds, nil)
}

func ids(a Assessment) map[string]bool {
	out := map[string]bool{}
	for _, e := range a.Evidence {
		out[e.ID] = true
	}
	return out
}

// minerBytes builds an executable body carrying the strong indicators of
// the given categories, as a real miner build does.
func minerBytes(t *testing.T, env *Env, cats ...string) []byte {
	t.Helper()
	want := map[string]bool{}
	for _, c := range cats {
		want[c] = true
	}
	b := []byte("\x7fELF\x02\x01\x01" + string(make([]byte, 4096)))
	for _, in := range env.Content.Indicators() {
		if want[in.Category] && !in.Weak {
			b = append(b, in.Pattern...)
			b = append(b, 0)
		}
	}
	return b
}

func TestDetectorsOnFixtures(t *testing.T) {
	f := newFixture(t)
	honest := []byte("\x7fELF\x02\x01\x01 an honest program that compresses files")
	cases := []struct {
		name    string
		proc    func() *host.Process
		want    []string
		verdict finding.Verdict
	}{
		{"renamed miner by content", func() *host.Process {
			p := f.process(101, minerBytes(t, f.env, content.CategoryAlgorithm, content.CategoryStratum), nil)
			p.Comm, p.Exe = "kworker", "/usr/sbin/kworker"
			return p
		}, []string{"DAVY-I001"}, finding.VerdictMiner},
		{"stratum url and wallet", func() *host.Process {
			p := f.process(102, honest, nil)
			p.Cmdline = []string{"app", "-o", "stratum+tcp://127.0.0.1:3333", "-u", testWallet + ".rig1", "-p", "x"}
			return p
		}, []string{"DAVY-C001", "DAVY-C002", "DAVY-C003"}, finding.VerdictMiner},
		{"config only", func() *host.Process {
			p := f.process(103, honest, map[string]string{"usr/bin/config.json": `{"donate-level":1,"pools":[{"url":"pool.supportxmr.com:443","user":"` + testWallet + `","tls":true}]}`})
			p.Cmdline = []string{"app"}
			return p
		}, []string{"DAVY-F001", "DAVY-N001"}, finding.VerdictMiner},
		{"claymore epools", func() *host.Process {
			p := f.process(104, honest, map[string]string{"usr/bin/epools.txt": "POOL: stratum+tcp://eth.2miners.com:2020, WALLET: 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, PSW: x\n"})
			p.Cmdline = []string{"app"}
			return p
		}, []string{"DAVY-F002", "DAVY-N001"}, finding.VerdictMiner},
		{"honest tool in a directory holding a miner config", func() *host.Process {
			p := f.process(108, honest, map[string]string{"cwd/config.json": `{"pools":[{"url":"pool.supportxmr.com:443","user":"` + testWallet + `"}]}`})
			p.Comm, p.Exe, p.Cmdline = "xz", "/usr/bin/xz", []string{"xz", "-9", "big.tar"}
			return p
		}, nil, finding.VerdictClean},
		{"config named on the command line", func() *host.Process {
			p := f.process(109, honest, map[string]string{"cwd/x.json": `{"pools":[{"url":"127.0.0.1:3333","user":"` + testWallet + `"}]}`})
			p.Cmdline = []string{"app", "--config=x.json"}
			return p
		}, []string{"DAVY-F001"}, finding.VerdictMiner},
		{"named xmrig but honest", func() *host.Process {
			p := f.process(105, honest, nil)
			p.Comm, p.Exe, p.Cmdline = "xmrig", "/usr/bin/xmrig", []string{"xmrig"}
			return p
		}, []string{"DAVY-C004"}, finding.VerdictClean},
		{"memfd and tmp", func() *host.Process {
			p := f.process(106, honest, nil)
			p.Exe, p.ExeMemfd, p.Cmdline = "/memfd:x", true, []string{"x"}
			return p
		}, []string{"DAVY-P004"}, finding.VerdictSuspicious},
		{"honest busy compressor", func() *host.Process {
			p := f.process(107, honest, map[string]string{"usr/bin/config.json": `{"server":{"url":"db:5432"}}`})
			p.Comm, p.Exe, p.Cmdline = "xz", "/usr/bin/xz", []string{"xz", "-9", "-T2", "big.tar"}
			p.CPU, p.ThreadCPU = 1.95, []float64{0.98, 0.97}
			return p
		}, []string{"DAVY-B001", "DAVY-B002"}, finding.VerdictClean},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.proc()
			a := f.assess(&Workload{Kind: KindProcess, ID: strconv.Itoa(p.PID), Processes: []*host.Process{p}})
			got := ids(a)
			for _, id := range c.want {
				if !got[id] {
					t.Errorf("missing %s; evidence: %+v", id, a.Evidence)
				}
			}
			if a.Verdict != c.verdict {
				t.Errorf("verdict %s (score %d), want %s; evidence: %+v", a.Verdict, a.Score, c.verdict, a.Evidence)
			}
		})
	}
}

func TestMinerLogs(t *testing.T) {
	f := newFixture(t)
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	logDir := filepath.Join(f.root, "var/lib/containers/storage/overlay-containers", id, "userdata")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := "2026-11-27T10:00:00Z stdout F [2026-11-27 10:00:00.000]  net      use pool 127.0.0.1:3333\n" +
		"2026-11-27T10:00:01Z stdout F [2026-11-27 10:00:01.000]  net      new job from 127.0.0.1:3333 diff 1000 algo rx/0 height 1\n" +
		"2026-11-27T10:00:05Z stdout F [2026-11-27 10:00:05.000]  cpu      accepted (1/0) diff 1000 (12 ms)\n"
	if err := os.WriteFile(filepath.Join(logDir, "ctr.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &host.Container{ID: id, Runtime: host.RuntimePodman}
	a := f.assess(&Workload{Kind: KindContainer, ID: id, Container: c})
	if !ids(a)["DAVY-L001"] || a.Verdict != finding.VerdictMiner {
		t.Fatalf("log not recognised: %s %+v", a.Verdict, a.Evidence)
	}

	// One quoted line is not enough.
	if err := os.WriteFile(filepath.Join(logDir, "ctr.log"), []byte("docs: miners print 'use pool' at start\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if a := f.assess(&Workload{Kind: KindContainer, ID: id, Container: c}); ids(a)["DAVY-L001"] {
		t.Fatalf("single line flagged: %+v", a.Evidence)
	}
}

func TestConfigFIFOIsRefused(t *testing.T) {
	f := newFixture(t)
	p := f.process(120, []byte("x"), nil)
	if err := mkfifo(filepath.Join(f.proc, "120", "cwd", "config.json")); err != nil {
		t.Skip("mkfifo:", err)
	}
	// Reading a FIFO would block forever; the scan must go on.
	a := f.assess(&Workload{Kind: KindProcess, ID: "120", Processes: []*host.Process{p}})
	if a.Verdict != finding.VerdictClean {
		t.Fatalf("unexpected verdict %s", a.Verdict)
	}
}

func TestSelect(t *testing.T) {
	all, err := Select(Selection{})
	if err != nil || len(all) != len(All()) {
		t.Fatalf("all: %v %d", err, len(all))
	}
	beh, err := Select(Selection{Groups: []finding.Group{finding.GroupBehaviour}, Enable: []string{"exe-location"}, Disable: []string{"cpu", "fpu"}})
	if err != nil || len(beh) != 1 || beh[0].Name() != "exe-location" {
		t.Fatalf("behaviour selection: %v %v", err, beh)
	}
	if _, err := Select(Selection{Disable: []string{"nope"}}); err == nil {
		t.Fatal("unknown detector accepted")
	}
	if _, err := (Selection{Ignore: []string{"DAVY-X999"}}).CheckIgnore(); err == nil {
		t.Fatal("unknown evidence id accepted")
	}
}
