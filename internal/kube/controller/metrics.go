package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the controller's Prometheus metrics; a nil *Metrics records
// nothing.
type Metrics struct {
	passes    prometheus.Counter
	duration  prometheus.Histogram
	degraded  prometheus.Gauge
	hot       prometheus.Gauge
	unlimited prometheus.Gauge
	excluded  prometheus.Gauge
	reports   prometheus.Gauge
	miners    prometheus.Gauge
	actions   *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		passes:    prometheus.NewCounter(prometheus.CounterOpts{Name: "davy_controller_passes_total", Help: "Passes over the cluster."}),
		duration:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "davy_controller_pass_seconds", Help: "Duration of a pass.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		degraded:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "davy_controller_degraded", Help: "1 when the last pass could not read Prometheus, the reports or the images."}),
		hot:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "davy_controller_cpu_rule_containers", Help: "Containers above the CPU rule's threshold for its window, expected high-CPU ones excluded."}),
		unlimited: prometheus.NewGauge(prometheus.GaugeOpts{Name: "davy_controller_unlimited_busy_containers", Help: "Busy containers with no CPU limit."}),
		excluded:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "davy_controller_expected_high_cpu_containers", Help: "Containers the CPU rule selected that are marked as expected high-CPU."}),
		reports:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "davy_controller_reports", Help: "MinerReports in the cluster."}),
		miners:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "davy_controller_miner_workloads", Help: "Workloads whose combined verdict is miner."}),
		actions:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "davy_controller_actions_total", Help: "Remediation decisions by action and result (done, dry_run, not_done)."}, []string{"action", "result"}),
	}
	reg.MustRegister(m.passes, m.duration, m.degraded, m.hot, m.unlimited, m.excluded, m.reports, m.miners, m.actions)
	return m
}

func (m *Metrics) pass(st Status, d time.Duration) {
	if m == nil {
		return
	}
	m.passes.Inc()
	m.duration.Observe(d.Seconds())
	deg := 0.0
	if len(st.Degraded) > 0 {
		deg = 1
	}
	m.degraded.Set(deg)
	m.hot.Set(float64(len(st.Hot)))
	m.unlimited.Set(float64(len(st.Unlimited)))
	m.excluded.Set(float64(st.Excluded))
	m.reports.Set(float64(st.Reports))
	m.miners.Set(float64(st.Miners))
}

func (m *Metrics) action(o Outcome) {
	if m == nil {
		return
	}
	result := "not_done"
	switch {
	case o.DryRun:
		result = "dry_run"
	case o.Done:
		result = "done"
	}
	m.actions.WithLabelValues(string(o.Action), result).Inc()
}
