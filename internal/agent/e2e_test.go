package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/alert"
	"github.com/davyproject/davy/internal/testbed/pool"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

// TestAgentContainersToAlertmanager runs a renamed miner and an honest
// burner in podman containers with CPU limits while the agent runs, and
// expects the miner, and only the miner, to reach a real Alertmanager.
func TestAgentContainersToAlertmanager(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	am := testenv.StartAlertmanager(t)
	sink, err := alert.NewAlertmanager(alert.AlertmanagerOptions{URL: am})
	if err != nil {
		t.Fatal(err)
	}
	out := alert.NewDispatcher(sink, alert.DispatchOptions{MinPriority: alert.PriorityWarning})
	t.Cleanup(func() { out.Close(context.Background()) })

	p := testbedtest.StartPool(t, pool.Config{Difficulty: 1})
	pm := testenv.NewPodman(t)
	rootfs := testenv.Rootfs(t, map[string]string{"usr/bin/kworker": bins.Miner, "usr/bin/burner": bins.Burner})
	_, c := startAgent(t, "auto", 2*time.Second, nil, func(a alert.Alert) { out.Enqueue(a) })

	miner := pm.Run(rootfs+":O", []string{"--network=host", "--cpus", "0.5"}, append([]string{"/usr/bin/kworker"}, testbedtest.MinerArgs(p.URL())...)...)
	burner := pm.Run(rootfs+":O", []string{"--cpus", "0.5"}, "/usr/bin/burner", "--mode", "sha", "--threads", "1", "--duration", "5m")

	// The miner's content, its verdict, and its pool URL reach Alertmanager,
	// labelled with its container.
	want := map[string]bool{"Miner executable run": false, "Miner verdict": false, "Miner pool URL on command line": false}
	deadline := time.Now().Add(60 * time.Second)
	var got []amAlert
	for {
		got = amAlerts(t, am)
		for _, a := range got {
			if a.Labels["container_name"] == miner.ID[:12] {
				if _, ok := want[a.Labels["alertname"]]; ok {
					want[a.Labels["alertname"]] = true
				}
			}
		}
		done := true
		for _, ok := range want {
			done = done && ok
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager has %v for the miner container %s; all alerts: %+v; agent alerts: %s", want, miner.ID[:12], got, c.rules())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Two more cadence passes for the burner to be judged at full CPU.
	time.Sleep(5 * time.Second)
	for _, a := range amAlerts(t, am) {
		if a.Labels["container_name"] == burner.ID[:12] && a.Labels["severity"] == "critical" {
			t.Errorf("honest burner container raised %s: %s", a.Labels["alertname"], a.Annotations["description"])
		}
	}
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func amAlerts(t *testing.T, base string) []amAlert {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
