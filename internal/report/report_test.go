package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/finding"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() *HostReport {
	ev := func(id, msg string, pid int) finding.Evidence {
		return finding.New(id, "test", pid, msg, map[string]string{"k": "v"})
	}
	ws := []Workload{
		{Kind: "container", ID: "3f2a9c1e07b4aa", Name: "3f2a9c1e07b4", Runtime: "podman", PIDs: []int{42}, Verdict: finding.VerdictMiner, Score: 99,
			CPU: CPU{Cores: 0.49, Limit: 0.5, Ratio: 0.98},
			Evidence: []finding.Evidence{
				ev("DAVY-I001", `executable "/usr/bin/kworker" matches miner content`, 42),
				ev("DAVY-F001", `miner config "/etc/k.json" lists pools`, 42),
				ev("DAVY-L001", "log shows miner output", 0),
				ev("DAVY-B001", "uses 0.49 of 0.50 cores", 0),
			},
			Processes: []Process{{PID: 42, PPID: 1, Comm: "kworker", Exe: "/usr/bin/kworker", Cmdline: []string{"kworker", "-c", "/etc/k.json"}, CPU: 0.49}}},
		{Kind: "process", ID: "77", Name: "evil\nname\t", PIDs: []int{77}, Verdict: finding.VerdictSuspicious, Score: 40,
			Evidence:  []finding.Evidence{ev("DAVY-P004", `executable "/memfd:x" is an anonymous memory file`, 77)},
			Processes: []Process{{PID: 77, PPID: 1, Comm: "evil\nname\t", Exe: "/memfd:x"}}},
		{Kind: "process", ID: "1", Name: "init", PIDs: []int{1}, Verdict: finding.VerdictClean, Evidence: []finding.Evidence{}},
	}
	return &HostReport{Schema: HostSchema, Hostname: "node-1", Taken: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		Window: "5s", CPUs: 2, Detectors: []string{"cmdline", "exe-content"}, Summary: Summarize(ws),
		Skipped: map[string]int{"vanished": 2}, Workloads: ws}
}

func TestWritersGolden(t *testing.T) {
	for _, c := range []struct {
		format string
		opts   Options
		file   string
	}{
		{"table", Options{}, "host.table"},
		{"table", Options{All: true, Reasons: 2}, "host-all.table"},
		{"json", Options{}, "host.json"},
	} {
		t.Run(c.file, func(t *testing.T) {
			w, err := NewHost(c.format, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := w.WriteHost(&b, sample()); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.file, b.Bytes())
		})
	}
	if _, err := NewHost("xml", Options{}); err == nil {
		t.Fatal("unknown format accepted")
	}
}

// checkGolden compares output with testdata/NAME, rewriting it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (run with -update if intended):\n%s", golden, got)
	}
}
