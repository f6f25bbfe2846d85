package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/testenv"
)

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
	base := testenv.StartAlertmanager(t)
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
