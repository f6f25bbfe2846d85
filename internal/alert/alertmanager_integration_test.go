package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/testenv"
)

// amConfig routes every alert to a receiver with no integrations, so the
// test Alertmanager never sends anything anywhere.
const amConfig = `route:
  receiver: blackhole
receivers:
  - name: blackhole
`

// startAlertmanager runs Debian's prometheus-alertmanager on a free
// loopback port, with clustering off (it would bind 0.0.0.0:9094), and
// returns its base URL. The process is killed, by its PID, and waited for
// when the test ends; the package's own service is never used.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		// Upstream's binary name, for machines that are not Debian.
		bin, err = exec.LookPath("alertmanager")
	}
	testenv.Need(t, err == nil, "command prometheus-alertmanager (Debian package prometheus-alertmanager)")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	dir := t.TempDir()
	conf := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(conf, []byte(amConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "alertmanager.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config.file="+conf,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("alertmanager log:\n%s", b)
		}
	})

	base := "http://" + addr
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			b, _ := os.ReadFile(logPath)
			t.Fatalf("alertmanager exited before it was ready: %v\n%s", err, b)
		default:
		}
		resp, err := client.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("alertmanager did not become ready on %s", addr)
	return ""
}

// gettableAlert is the part of GET /api/v2/alerts the test reads.
type gettableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func TestAlertmanagerIntegration(t *testing.T) {
	base := startAlertmanager(t)
	sink, err := NewAlertmanager(AlertmanagerOptions{URL: base, ResolveTimeout: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher(sink, DispatchOptions{MinPriority: PriorityWarning, Logger: quiet})

	now := time.Now().UTC().Truncate(time.Millisecond)
	inPod := sampleAlert()
	inPod.Time = now
	inPod.OutputFields[FieldRepeats] = 4
	onHost := Alert{
		Output:       "Outbound connection to a mining pool (proc.name=kworker fd.name=10.0.0.5:41234->192.0.2.7:3333)",
		Priority:     PriorityWarning,
		Rule:         "Mining pool connection",
		Time:         now,
		OutputFields: map[string]any{"proc.name": "kworker", "fd.name": "10.0.0.5:41234->192.0.2.7:3333", "container.id": "host"},
		Source:       SourceSyscall,
		Hostname:     "node-1",
	}
	onHost.SetWorkload("pid:4242")
	ignored := onHost
	ignored.Rule, ignored.Priority = "Below the minimum", PriorityNotice

	d.Enqueue(inPod, onHost, ignored)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if left, err := d.Close(ctx); left != 0 || err != nil {
		t.Fatalf("Close = %d, %v; stats %+v", left, err, d.Stats())
	}
	if s := d.Stats(); s.Sent != 2 || s.Filtered != 1 || s.Failed != 0 {
		t.Fatalf("stats = %+v", s)
	}

	want := map[string]map[string]string{
		"Crypto miner started": {
			"alertname": "Crypto miner started", "severity": "critical", "source": "davy", "hostname": "node-1",
			"k8s_ns_name": "default", "k8s_pod_name": "web-1", "container_id": "abc123", "proc_name": "xmrig",
		},
		"Mining pool connection": {
			"alertname": "Mining pool connection", "severity": "warning", "source": "davy", "hostname": "node-1",
			"container_id": "host", "proc_name": "kworker",
		},
	}
	outputs := map[string]Alert{inPod.Rule: inPod, onHost.Rule: onHost}

	client := &http.Client{Timeout: 5 * time.Second}
	var got []gettableAlert
	for deadline := time.Now().Add(10 * time.Second); ; {
		got = listAlerts(t, client, base)
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != len(want) {
		t.Fatalf("alertmanager holds %d alerts, want %d: %+v", len(got), len(want), got)
	}
	for _, g := range got {
		name := g.Labels["alertname"]
		wl, ok := want[name]
		if !ok {
			t.Errorf("unexpected alert %v", g.Labels)
			continue
		}
		if fmt.Sprint(g.Labels) != fmt.Sprint(wl) {
			t.Errorf("%s labels\n got %v\nwant %v", name, g.Labels, wl)
		}
		out := outputs[name].Output
		if g.Annotations["summary"] != out || g.Annotations["description"] != out {
			t.Errorf("%s annotations %v", name, g.Annotations)
		}
		if g.Status.State != "active" {
			t.Errorf("%s state %q, want active", name, g.Status.State)
		}
		if !g.StartsAt.Equal(now) || g.EndsAt.Sub(g.StartsAt) != 15*time.Minute {
			t.Errorf("%s startsAt %v endsAt %v, want %v and 15m later", name, g.StartsAt, g.EndsAt, now)
		}
	}
	for _, g := range got {
		if g.Labels["alertname"] == inPod.Rule && (g.Annotations["repeats"] != "4" || g.Annotations["workload"] != "abc123") {
			t.Errorf("repeats/workload annotations %v", g.Annotations)
		}
	}
}

func listAlerts(t *testing.T, c *http.Client, base string) []gettableAlert {
	t.Helper()
	resp, err := c.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v2/alerts: %s", resp.Status)
	}
	var out []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
