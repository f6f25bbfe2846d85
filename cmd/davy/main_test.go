package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/davyproject/davy/internal/content"
	"github.com/davyproject/davy/internal/intel"
	"github.com/davyproject/davy/internal/report"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

var (
	buildOnce sync.Once
	davyBin   string
	buildErr  error
)

// davy builds the real binary once per test run.
func davy(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "davy-bin-")
		if err != nil {
			buildErr = err
			return
		}
		davyBin = filepath.Join(dir, "davy")
		out, err := exec.Command("go", "build", "-o", davyBin, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building davy: %v", buildErr)
	}
	return davyBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if davyBin != "" {
		os.RemoveAll(filepath.Dir(davyBin))
	}
	os.Exit(code)
}

// TestBinaryDoesNotMatchItself guards against the miner vocabulary leaking
// into davy as plain strings: davy scans executables for exactly that.
func TestBinaryDoesNotMatchItself(t *testing.T) {
	in, err := intel.Load("")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := content.NewScanner(in.ContentIndicators(), content.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(davy(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := sc.Scan(f)
	if err != nil {
		t.Fatal(err)
	}
	if res.Classify() != content.None {
		t.Fatalf("davy's own binary classifies as %s: %s", res.Classify(), res.Summary())
	}
}

func runDavy(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	c := exec.Command(davy(t), args...)
	c.Stdout, c.Stderr = &o, &e
	err := c.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func TestVersion(t *testing.T) {
	out, _, code := runDavy(t, "version")
	if code != 0 || !strings.HasPrefix(out, "davy ") {
		t.Fatalf("version: code %d, %q", code, out)
	}
}

func TestBadFlagsExitOneWithMessage(t *testing.T) {
	cases := map[string][]string{
		"unknown group":    {"scan", "host", "--groups", "nope"},
		"unknown detector": {"scan", "host", "--no-detector.nope"},
		"unknown format":   {"scan", "host", "-o", "xml"},
		"unknown verdict":  {"scan", "host", "--fail-on", "bad"},
		"unknown evidence": {"scan", "host", "--ignore", "DAVY-Z000", "--window", "0"},
		"missing procfs":   {"scan", "host", "--path.procfs", "/nonexistent", "--window", "0"},
		"garbage intel":    {"scan", "host", "--intel", "/nonexistent-intel", "--window", "0"},
		"agent priority":   {"agent", "--stdout-priority", "loud"},
		"agent response":   {"agent", "--respond", "delete"},
		"agent no output":  {"agent", "--stdout-priority", "none"},
		"agent header":     {"agent", "--webhook", "http://127.0.0.1:1/", "--webhook-header", "novalue"},
		"agent rules":      {"agent", "--rules", "/nonexistent/rules.yaml"},
		"agent source":     {"agent", "--source", "telepathy", "--metrics-addr", ""},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runDavy(t, args...)
			// Details (such as each rules problem) may come first; the
			// last line says what failed.
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != 1 || !strings.HasPrefix(lines[len(lines)-1], "davy: ") {
				t.Fatalf("code %d, stderr %q", code, stderr)
			}
		})
	}
}

// TestScanHostJSONAndExitCode runs the real binary against a real miner.
func TestScanHostJSONAndExitCode(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	miner := testbedtest.Start(t, bins.Miner, testbedtest.MinerArgs("stratum+tcp://"+testbedtest.FreeAddr(t))...)

	out, stderr, code := runDavy(t, "scan", "host", "-o", "json", "--window", "500ms", "--exit-code", "3", "--cache-dir", t.TempDir())
	if code != 3 {
		t.Fatalf("exit code %d, want 3; stderr %s", code, stderr)
	}
	var rep report.HostReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if rep.Schema != report.HostSchema || len(rep.Workloads) == 0 || rep.Summary["miner"] < 1 {
		t.Fatalf("unexpected report: schema %q, %d workloads, summary %v", rep.Schema, len(rep.Workloads), rep.Summary)
	}
	found := false
	for _, w := range rep.Workloads {
		for _, pid := range w.PIDs {
			if pid == miner.PID() {
				found = w.Verdict == "miner" && w.Kind == "process" && len(w.Evidence) > 0 && w.Evidence[0].ID != ""
			}
		}
	}
	if !found {
		t.Fatal("the miner is not reported as a miner with evidence")
	}

	// The same scan limited to location detectors cannot call it a miner.
	_, _, code = runDavy(t, "scan", "host", "--groups", "location", "--window", "0", "--exit-code", "3", "--cache-dir", "")
	if code != 0 {
		t.Fatalf("location-only scan exit code %d, want 0", code)
	}
	// The table names it.
	table, _, _ := runDavy(t, "scan", "host", "--window", "0", "--cache-dir", "")
	if !strings.Contains(table, "VERDICT") || !strings.Contains(table, "miner") {
		t.Fatalf("table:\n%s", table)
	}
}
