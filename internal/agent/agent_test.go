package agent

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/alert"
	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/rules"
	"github.com/davyproject/davy/internal/testbed/pool"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

// collector keeps every alert the agent emits.
type collector struct {
	mu      sync.Mutex
	all     []alert.Alert
	new     chan struct{}
	forward func(alert.Alert) // also gets every alert, when set
}

func newCollector() *collector { return &collector{new: make(chan struct{}, 1)} }

func (c *collector) emit(a alert.Alert) {
	if c.forward != nil {
		c.forward(a)
	}
	c.mu.Lock()
	c.all = append(c.all, a)
	c.mu.Unlock()
	select {
	case c.new <- struct{}{}:
	default:
	}
}

// wait returns the first alert for which ok holds, failing after timeout.
func (c *collector) wait(t *testing.T, timeout time.Duration, what string, ok func(alert.Alert) bool) alert.Alert {
	t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		for _, a := range c.all {
			if ok(a) {
				c.mu.Unlock()
				return a
			}
		}
		n := len(c.all)
		c.mu.Unlock()
		select {
		case <-c.new:
		case <-deadline:
			t.Fatalf("no alert for %s within %s; %d alerts: %s", what, timeout, n, c.rules())
		}
	}
}

func (c *collector) rules() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, a := range c.all {
		names = append(names, a.Rule+"@"+a.Key.Workload)
	}
	return strings.Join(names, ", ")
}

func pidIs(pid int) func(alert.Alert) bool {
	return func(a alert.Alert) bool {
		v, ok := a.OutputFields["proc.pid"]
		return ok && v == int64(pid)
	}
}

// withOptions, when set, changes the options of the next startAgent.
var withOptions func(*Options)

// startAgent runs an agent with the default rules until the test ends.
func startAgent(t *testing.T, source string, interval time.Duration, m *Metrics, forward ...func(alert.Alert)) (*Agent, *collector) {
	t.Helper()
	rs, err := rules.Load(rules.Options{}, rules.DefaultSource())
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	if len(forward) > 0 {
		c.forward = forward[0]
	}
	o := Options{Source: source, Rules: rs, Thresholds: detect.DefaultThresholds, Interval: interval,
		Window: 500 * time.Millisecond, Emit: c.emit, Metrics: m, Cooldown: time.Hour}
	if withOptions != nil {
		withOptions(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !a.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("agent not ready after 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return a, c
}

// TestAgentCatchesMinerOnExec runs a renamed miner under each event source
// and expects an alert about its content within seconds of its exec, long
// before the (hour-long) cadence would look.
func TestAgentCatchesMinerOnExec(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	p := testbedtest.StartPool(t, pool.Config{Difficulty: 1})
	for _, source := range []string{"ebpf", "proc-connector", "poll"} {
		t.Run(source, func(t *testing.T) {
			a, c := startAgent(t, source, time.Hour, nil)
			if a.Source() != source {
				t.Fatalf("source = %s, want %s", a.Source(), source)
			}
			renamed := filepath.Join(t.TempDir(), "kswapd0")
			copyFile(t, bins.Miner, renamed)
			start := time.Now()
			m := testbedtest.Start(t, renamed, testbedtest.MinerArgs(p.URL())...)
			got := c.wait(t, 15*time.Second, "the miner's exec", func(al alert.Alert) bool {
				return al.Rule == "Miner executable run" && pidIs(m.PID())(al)
			})
			t.Logf("%s: exec to alert %s: %s", source, time.Since(start).Round(time.Millisecond), got.Output)
			if got.Priority < alert.PriorityCritical {
				t.Errorf("priority %s, want Critical or above", got.Priority)
			}
			c.wait(t, 5*time.Second, "the miner verdict", func(al alert.Alert) bool {
				return al.Rule == "Miner verdict" && pidIs(m.PID())(al)
			})
			c.wait(t, 5*time.Second, "the pool URL", func(al alert.Alert) bool {
				return al.Rule == "Miner pool URL on command line" && pidIs(m.PID())(al)
			})
		})
	}
}

// TestAgentShortLivedMiner runs a miner binary that exits at once (bad
// flags): eBPF still sees its exec, and its file is judged by content.
func TestAgentShortLivedMiner(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	_, c := startAgent(t, "ebpf", time.Hour, nil)
	renamed := filepath.Join(t.TempDir(), "updater")
	copyFile(t, bins.Miner, renamed)
	cmd := exec.Command(renamed, "--no-such-flag")
	cmd.Run() // it fails, quickly: that is the point
	c.wait(t, 15*time.Second, "the short-lived miner", func(al alert.Alert) bool {
		return al.Rule == "Miner executable run" && strings.Contains(al.Output, renamed)
	})
}

// TestAgentLeavesHonestWorkAlone runs honest CPU-heavy work through the
// whole agent, cadence included, and expects no miner alert about it.
func TestAgentLeavesHonestWorkAlone(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	_, c := startAgent(t, "auto", time.Second, nil)
	b := testbedtest.Start(t, bins.Burner, "--mode", "sha", "--threads", "1", "--duration", "6s")
	time.Sleep(4 * time.Second) // an exec and at least two cadence passes
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, al := range c.all {
		if pidIs(b.PID())(al) && (al.Rule == "Miner executable run" || al.Rule == "Miner verdict") {
			t.Errorf("honest burner raised %q: %s", al.Rule, al.Output)
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func benchAgent(tb testing.TB, c *collector) *Agent {
	tb.Helper()
	rs, err := rules.Load(rules.Options{}, rules.DefaultSource())
	if err != nil {
		tb.Fatal(err)
	}
	a, err := New(Options{Rules: rs, Thresholds: detect.DefaultThresholds, Emit: c.emit})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// exec1 runs one short process.
func exec1() error { return exec.Command("true").Run() }

func itoa(n int) string { return strconv.Itoa(n) }

// findProcess reads one process as the agent would.
func findProcess(t *testing.T, pid int) *host.Process {
	t.Helper()
	snap, err := host.Take(context.Background(), host.Options{PIDs: []int{pid}, NoSockets: true})
	if err != nil || len(snap.Processes) != 1 {
		t.Fatalf("process %d: %v", pid, err)
	}
	return snap.Processes[0]
}
