package controller

import (
	"context"
	"fmt"
	"strings"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Limits name where a container's CPU limit is read from.
const (
	// LimitsKubeStateMetrics reads kube_pod_container_resource_limits, the
	// usual source where kube-state-metrics runs.
	LimitsKubeStateMetrics = "kube-state-metrics"
	// LimitsCAdvisor reads the CFS quota and period cAdvisor exports, for
	// clusters without kube-state-metrics.
	LimitsCAdvisor = "cadvisor"
)

// CPURule is the seed's CPU rule: a container above Threshold of its CPU
// limit for all of Window; containers with no limit that use at least
// UnlimitedCores for all of Window are listed apart.
type CPURule struct {
	Threshold      float64       // 0.7
	Window         time.Duration // 10m
	Step           time.Duration // the subquery resolution, 30s
	RateWindow     time.Duration // the rate() range, 2m
	UnlimitedCores float64       // 0.5
	Limits         string        // LimitsKubeStateMetrics or LimitsCAdvisor
}

// DefaultCPURule is the rule of docs/controller.md.
var DefaultCPURule = CPURule{Threshold: 0.7, Window: 10 * time.Minute, Step: 30 * time.Second, RateWindow: 2 * time.Minute, UnlimitedCores: 0.5, Limits: LimitsKubeStateMetrics}

// Validate checks the rule's values.
func (r CPURule) Validate() error {
	switch {
	case r.Threshold <= 0 || r.Threshold > 10:
		return fmt.Errorf("CPU threshold %v is not in (0, 10]", r.Threshold)
	case r.Window < time.Minute:
		return fmt.Errorf("CPU window %s is under a minute", r.Window)
	case r.Step <= 0 || r.Step > r.Window:
		return fmt.Errorf("step %s is not in (0, window]", r.Step)
	case r.RateWindow <= 0:
		return fmt.Errorf("rate window %s is not positive", r.RateWindow)
	case r.Limits != LimitsKubeStateMetrics && r.Limits != LimitsCAdvisor:
		return fmt.Errorf("limits source %q is not %s or %s", r.Limits, LimitsKubeStateMetrics, LimitsCAdvisor)
	}
	return nil
}

const byContainer = "namespace, pod, container"

// usage is each container's CPU use in cores; cAdvisor's own series for the
// pod sandbox ("POD") and the pod cgroup (container="") are not containers.
func (r CPURule) usage() string {
	return fmt.Sprintf(`sum by (%s) (rate(container_cpu_usage_seconds_total{container!="", container!="POD", pod!=""}[%s]))`,
		byContainer, promDuration(r.RateWindow))
}

// limits is each container's CPU limit in cores.
func (r CPURule) limits() string {
	if r.Limits == LimitsCAdvisor {
		sel := `{container!="", container!="POD", pod!=""}`
		// Parenthesised, as it is divided into.
		return fmt.Sprintf(`(sum by (%s) (container_spec_cpu_quota%s > 0) / sum by (%s) (container_spec_cpu_period%s > 0))`,
			byContainer, sel, byContainer, sel)
	}
	return fmt.Sprintf(`sum by (%s) (kube_pod_container_resource_limits{resource="cpu", unit="core"})`, byContainer)
}

// HotQuery is the PromQL of containers above the threshold of their limit
// at every step of the window; its value is the lowest ratio seen.
func (r CPURule) HotQuery() string {
	return fmt.Sprintf(`min_over_time((%s / %s)[%s:%s]) > %s`,
		r.usage(), r.limits(), promDuration(r.Window), promDuration(r.Step), formatFloat(r.Threshold))
}

// UnlimitedQuery is the PromQL of containers with no CPU limit that used at
// least UnlimitedCores at every step of the window.
func (r CPURule) UnlimitedQuery() string {
	return fmt.Sprintf(`(min_over_time(%s[%s:%s]) > %s) unless on (%s) (%s)`,
		r.usage(), promDuration(r.Window), promDuration(r.Step), formatFloat(r.UnlimitedCores), byContainer, r.limits())
}

// Hot is one container the CPU rule selects.
type Hot struct {
	Namespace, Pod, Container string
	// Value is the lowest usage/limit ratio over the window, or for a
	// container with no limit the lowest usage in cores.
	Value   float64
	NoLimit bool
}

// Prometheus runs the CPU rule's queries.
type Prometheus struct {
	api  promv1.API
	rule CPURule
}

// NewPrometheus returns a client of the Prometheus at url.
func NewPrometheus(url string, rule CPURule) (*Prometheus, error) {
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	c, err := promapi.NewClient(promapi.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", url, err)
	}
	return &Prometheus{api: promv1.NewAPI(c), rule: rule}, nil
}

// maxSeries bounds what one query may return; a cluster with more hot
// containers than this has a bigger problem than the tail of the list.
const maxSeries = 20000

// Hot runs both queries at time at.
func (p *Prometheus) Hot(ctx context.Context, at time.Time) ([]Hot, error) {
	hot, err := p.query(ctx, p.rule.HotQuery(), at, false)
	if err != nil {
		return nil, err
	}
	unl, err := p.query(ctx, p.rule.UnlimitedQuery(), at, true)
	if err != nil {
		return nil, err
	}
	return append(hot, unl...), nil
}

func (p *Prometheus) query(ctx context.Context, q string, at time.Time, noLimit bool) ([]Hot, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, _, _, err := p.api.Query(ctx, q, at, promv1.WithLimit(maxSeries))
	if err != nil {
		return nil, fmt.Errorf("prometheus query %s: %w", q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus query %s: a %s, not a vector", q, v.Type())
	}
	out := make([]Hot, 0, len(vec))
	for _, s := range vec {
		h := Hot{
			Namespace: string(s.Metric["namespace"]),
			Pod:       string(s.Metric["pod"]),
			Container: string(s.Metric["container"]),
			Value:     float64(s.Value),
			NoLimit:   noLimit,
		}
		if h.Namespace == "" || h.Pod == "" {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

// promDuration writes a duration as PromQL does: 10m, 30s, 1h30m.
func promDuration(d time.Duration) string {
	return model.Duration(d).String()
}

func formatFloat(f float64) string {
	s := fmt.Sprintf("%.4f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
