package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/davyproject/davy/internal/testbed"
	"github.com/davyproject/davy/internal/testbed/pool"
)

// The bars of the agent's issue.
const (
	barSteadyCPU = 0.02 // of one core
	barChurnCPU  = 0.25
	barRSSMiB    = 100
	barLatency   = 2 * time.Second
	barRate      = 500 // execs per second
)

func run(o options) error {
	dir, err := os.MkdirTemp("", "davy-bench-agent-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	davy := filepath.Join(dir, "davy")
	build := exec.Command("go", "build", "-o", davy, "./cmd/davy")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building davy (run from the module root): %w", err)
	}
	bins, err := testbed.Build(dir)
	if err != nil {
		return fmt.Errorf("building the testbed: %w", err)
	}

	fmt.Fprintf(os.Stderr, "bench: starting %d idle containers\n", o.containers)
	ctrs, err := startIdleContainers(o.containers)
	if err != nil {
		return err
	}
	defer ctrs.stop()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	alerts := filepath.Join(dir, "alerts.json")
	agent := exec.Command(davy, "agent", "--source", o.source, "--metrics-addr", metricsAddr,
		"--stdout-priority", "none", "--file", alerts, "--cache-dir", filepath.Join(dir, "cache"), "--log-level", "info")
	agent.Stderr = os.Stderr
	if err := agent.Start(); err != nil {
		return err
	}
	defer func() { agent.Process.Signal(os.Interrupt); agent.Wait() }()
	if err := waitReady(metricsAddr, 60*time.Second); err != nil {
		return err
	}
	pid := agent.Process.Pid
	time.Sleep(2 * time.Second) // past start-up work

	fmt.Fprintf(os.Stderr, "bench: steady phase, %s\n", o.steady)
	steady, err := cpuOver(pid, o.steady, nil)
	if err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "bench: churn phase, %d execs/s for %s\n", o.rate, o.churn)
	before, err := scrape(metricsAddr)
	if err != nil {
		return err
	}
	var execs int64
	var churnDur time.Duration
	churnCPU, err := cpuOver(pid, 0, func() { execs, churnDur = churn(o.rate, o.churn) })
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // let the queue drain
	after, err := scrape(metricsAddr)
	if err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "bench: timing %d miner starts\n", o.miners)
	lat, err := minerLatency(bins, alerts, o.miners)
	if err != nil {
		return err
	}
	rss, err := peakRSS(pid)
	if err != nil {
		return err
	}

	seen := after.sum("davy_events_total", `kind="exec"`) - before.sum("davy_events_total", `kind="exec"`)
	lost := after.sum("davy_source_events_lost", "") - before.sum("davy_source_events_lost", "")
	dropped := after.sum("davy_source_events_dropped", "") - before.sum("davy_source_events_dropped", "")
	source := after.label("davy_source_events", "source")

	fmt.Printf("davy agent on this machine (%d CPUs), source %s, %d idle containers\n\n", runtimeCPUs(), source, o.containers)
	fmt.Printf("%-44s %12s %12s %8s\n", "measure", "value", "bar", "")
	row := func(name, val, bar string, ok bool) {
		verdict := "PASS"
		if !ok {
			verdict = "FAIL"
		}
		fmt.Printf("%-44s %12s %12s %8s\n", name, val, bar, verdict)
	}
	rate := float64(execs) / churnDur.Seconds()
	// What the agent would use at the bar's rate, from its cost per exec,
	// for a machine that cannot exec that fast (the generator runs flat
	// out when it falls behind).
	atBar := (churnCPU - steady) / rate * barRate
	row("agent CPU, steady (of one core)", pct(steady), pct(barSteadyCPU), steady <= barSteadyCPU)
	row(fmt.Sprintf("agent CPU, churn at %.0f execs/s", rate), pct(churnCPU), pct(barChurnCPU), churnCPU <= barChurnCPU)
	row(fmt.Sprintf("  per exec, and scaled to %d execs/s", barRate), fmt.Sprintf("%.2f ms, %s", (churnCPU-steady)/rate*1000, pct(atBar+steady)), pct(barChurnCPU), atBar+steady <= barChurnCPU)
	row("exec events seen / execs run", fmt.Sprintf("%.0f/%d", seen, execs), ">= execs", seen >= float64(execs)-lost)
	row("events the source says it lost", fmt.Sprintf("%.0f", lost), "counted", true)
	row("  of which dropped for a slow consumer", fmt.Sprintf("%.0f", dropped), "counted", true)
	row("agent peak RSS", fmt.Sprintf("%.1f MiB", rss), fmt.Sprintf("%d MiB", barRSSMiB), rss < barRSSMiB)
	row("miner exec to alert, median", lat[len(lat)/2].Round(time.Millisecond).String(), barLatency.String(), lat[len(lat)/2] < barLatency)
	row("miner exec to alert, worst", lat[len(lat)-1].Round(time.Millisecond).String(), barLatency.String(), lat[len(lat)-1] < barLatency)
	fmt.Printf("\nratios: steady CPU/bar %.2f, churn CPU/bar %.2f, RSS/bar %.2f, worst latency/bar %.3f\n",
		steady/barSteadyCPU, churnCPU/barChurnCPU, rss/barRSSMiB, lat[len(lat)-1].Seconds()/barLatency.Seconds())
	fmt.Println("seen counts every exec on the machine during the phase, the churn's and any other's")
	return nil
}

func runtimeCPUs() int {
	n := 0
	data, _ := os.ReadFile("/proc/stat")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "cpu") && len(l) > 3 && l[3] != ' ' {
			n++
		}
	}
	return n
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", f*100) }

func waitReady(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("agent not ready after %s", timeout)
}

// cpuTicks reads a process's user+system time in clock ticks.
func cpuTicks(pid int) (float64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return ut + st, nil
}

// cpuOver measures pid's CPU, in cores, over d or over fn when given.
func cpuOver(pid int, d time.Duration, fn func()) (float64, error) {
	t0, err := cpuTicks(pid)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if fn != nil {
		fn()
	} else {
		time.Sleep(d)
	}
	t1, err := cpuTicks(pid)
	if err != nil {
		return 0, err
	}
	return (t1 - t0) / 100 / time.Since(start).Seconds(), nil
}

func peakRSS(pid int) (float64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM")
}

// minerLatency starts a renamed testbed miner n times and times each exec
// to the agent's alert about it in the alerts file.
func minerLatency(bins testbed.Binaries, alerts string, n int) ([]time.Duration, error) {
	p, err := pool.Start(context.Background(), pool.Config{Difficulty: 1})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	renamed := filepath.Join(filepath.Dir(bins.Miner), "kthreadd-helper")
	data, err := os.ReadFile(bins.Miner)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(renamed, data, 0o755); err != nil {
		return nil, err
	}
	var out []time.Duration
	for range n {
		cmd := exec.Command(renamed, "-o", p.URL(), "-u", testbed.MoneroWallet, "-t", "1", "--dataset-mib", "2")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		d, err := waitAlert(alerts, cmd.Process.Pid, start, 30*time.Second)
		cmd.Process.Kill()
		cmd.Wait()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func waitAlert(file string, pid int, start time.Time, timeout time.Duration) (time.Duration, error) {
	for time.Since(start) < timeout {
		f, err := os.Open(file)
		if err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
			for sc.Scan() {
				var a struct {
					Rule   string         `json:"rule"`
					Fields map[string]any `json:"output_fields"`
				}
				if json.Unmarshal(sc.Bytes(), &a) == nil && a.Rule == "Miner executable run" && a.Fields["proc.pid"] == float64(pid) {
					f.Close()
					return time.Since(start), nil
				}
			}
			f.Close()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("no alert for miner %d within %s", pid, timeout)
}

// metrics is one scrape of the agent's /metrics.
type metrics []string

func scrape(addr string) (metrics, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return metrics(strings.Split(string(body), "\n")), err
}

// sum adds the values of name's series whose labels contain match.
func (m metrics) sum(name, match string) float64 {
	var total float64
	for _, l := range m {
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		if match != "" && !strings.Contains(l, match) {
			continue
		}
		v, _ := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		total += v
	}
	return total
}

// label returns the value of label key on name's first series.
func (m metrics) label(name, key string) string {
	for _, l := range m {
		if strings.HasPrefix(l, name+"{") {
			if i := strings.Index(l, key+`="`); i >= 0 {
				rest := l[i+len(key)+2:]
				return rest[:strings.IndexByte(rest, '"')]
			}
		}
	}
	return "?"
}
