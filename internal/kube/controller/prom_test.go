package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/testenv"
)

// series is one container's CPU over the backfilled history.
type series struct {
	ns, pod, container string
	// cores gives the CPU used at a time (in minutes before now).
	cores func(minAgo float64) float64
	limit float64 // 0: no limit
}

// openMetrics writes what cAdvisor and kube-state-metrics would have
// exported for the series, every 15 s over the last 25 minutes.
func openMetrics(now time.Time, ss []series) []byte {
	var b strings.Builder
	const step = 15 * time.Second
	start := now.Add(-25 * time.Minute)
	lbl := func(s series) string {
		return fmt.Sprintf(`namespace="%s",pod="%s",container="%s"`, s.ns, s.pod, s.container)
	}
	b.WriteString("# TYPE container_cpu_usage_seconds_total counter\n")
	for _, s := range ss {
		total := 0.0
		for t := start; !t.After(now); t = t.Add(step) {
			total += s.cores(now.Sub(t).Minutes()) * step.Seconds()
			fmt.Fprintf(&b, "container_cpu_usage_seconds_total{%s} %g %d\n", lbl(s), total, t.Unix())
		}
	}
	for _, m := range []string{"container_spec_cpu_quota", "container_spec_cpu_period", "kube_pod_container_resource_limits"} {
		fmt.Fprintf(&b, "# TYPE %s gauge\n", m)
		for _, s := range ss {
			if s.limit == 0 {
				continue
			}
			v, l := s.limit, lbl(s)
			switch m {
			case "container_spec_cpu_quota":
				v = s.limit * 100000
			case "container_spec_cpu_period":
				v = 100000
			default:
				l += `,resource="cpu",unit="core"`
			}
			for t := start; !t.After(now); t = t.Add(step) {
				fmt.Fprintf(&b, "%s{%s} %g %d\n", m, l, v, t.Unix())
			}
		}
	}
	b.WriteString("# EOF\n")
	return []byte(b.String())
}

func flat(c float64) func(float64) float64 { return func(float64) float64 { return c } }

// TestCPURuleAgainstPrometheus runs the rule's PromQL, with both limit
// sources, in a real Prometheus holding 25 minutes of backfilled cAdvisor
// and kube-state-metrics series.
func TestCPURuleAgainstPrometheus(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	ss := []series{
		{ns: "mine", pod: "calc-1", container: "main", cores: flat(0.46), limit: 0.5},   // 92% for 25 minutes
		{ns: "video", pod: "encode-1", container: "ffmpeg", cores: flat(1.9), limit: 2}, // 95%: hot too; exclusion is not PromQL's job
		{ns: "web", pod: "api-1", container: "api", cores: flat(0.1), limit: 1},         // 10%
		{ns: "web", pod: "burst-1", container: "job", cores: func(m float64) float64 { // hot only for the last 5 minutes
			if m < 5 {
				return 0.95
			}
			return 0.1
		}, limit: 1},
		{ns: "dev", pod: "free-1", container: "sh", cores: flat(0.8)},  // no limit, busy
		{ns: "dev", pod: "idle-1", container: "sh", cores: flat(0.05)}, // no limit, idle
	}
	base := testenv.StartPrometheus(t, testenv.PrometheusOptions{Backfill: openMetrics(now, ss)})
	for _, limits := range []string{LimitsKubeStateMetrics, LimitsCAdvisor} {
		t.Run(limits, func(t *testing.T) {
			rule := DefaultCPURule
			rule.Limits = limits
			p, err := NewPrometheus(base, rule)
			if err != nil {
				t.Fatal(err)
			}
			hot, err := p.Hot(context.Background(), now)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hot {
				got = append(got, fmt.Sprintf("%s/%s/%s limit=%v", h.Namespace, h.Pod, h.Container, !h.NoLimit))
				if !h.NoLimit && (h.Value < 0.7 || h.Value > 1) {
					t.Errorf("%s/%s ratio %v", h.Namespace, h.Pod, h.Value)
				}
			}
			slices.Sort(got)
			want := []string{"dev/free-1/sh limit=false", "mine/calc-1/main limit=true", "video/encode-1/ffmpeg limit=true"}
			if !slices.Equal(got, want) {
				t.Errorf("hot containers:\n got %v\nwant %v\nquery: %s", got, want, rule.HotQuery())
			}
		})
	}
}

func TestPrometheusDownIsAnError(t *testing.T) {
	p, err := NewPrometheus("http://127.0.0.1:1", DefaultCPURule)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Hot(context.Background(), time.Now()); err == nil {
		t.Fatal("no error from a Prometheus that is not there")
	}
}

func TestCPURuleValidate(t *testing.T) {
	bad := []CPURule{
		{Threshold: 0, Window: time.Hour, Step: time.Minute, RateWindow: time.Minute, Limits: LimitsCAdvisor},
		{Threshold: 0.7, Window: time.Second, Step: time.Second, RateWindow: time.Minute, Limits: LimitsCAdvisor},
		{Threshold: 0.7, Window: time.Hour, Step: 2 * time.Hour, RateWindow: time.Minute, Limits: LimitsCAdvisor},
		{Threshold: 0.7, Window: time.Hour, Step: time.Minute, RateWindow: time.Minute, Limits: "dcgm"},
	}
	for i, r := range bad {
		if r.Validate() == nil {
			t.Errorf("rule %d accepted: %+v", i, r)
		}
	}
	if err := DefaultCPURule.Validate(); err != nil {
		t.Error(err)
	}
	if q := DefaultCPURule.HotQuery(); !strings.Contains(q, "[10m:30s]) > 0.7") || !strings.Contains(q, `unit="core"`) {
		t.Errorf("hot query: %s", q)
	}
}
