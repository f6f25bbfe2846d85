package agent

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/davyproject/davy/internal/testenv"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestHealthAndReadiness(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := false
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeListener(ctx, ln, prometheus.NewRegistry(), func() bool { return ready }, quietLog())
	}()
	base := "http://" + ln.Addr().String()
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before ready = %d, want 503", code)
	}
	ready = true
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz when ready = %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// TestMetricsCountEvents runs the agent with metrics and expects exec
// events, a verdict and the source's counters on /metrics.
func TestMetricsCountEvents(t *testing.T) {
	testenv.NeedRoot(t)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	startAgent(t, "auto", time.Hour, m)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go ServeListener(ctx, ln, reg, func() bool { return true }, quietLog())
	for range 5 {
		if err := exec1(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body := get(t, "http://"+ln.Addr().String()+"/metrics")
		if strings.Contains(body, `davy_events_total{kind="exec"`) && strings.Contains(body, "davy_verdicts_total") &&
			strings.Contains(body, "davy_detector_duration_seconds_count") && strings.Contains(body, "davy_source_events_lost") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics missing after 15 s:\n%s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
