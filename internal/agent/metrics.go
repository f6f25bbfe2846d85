package agent

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/davyproject/davy/internal/events"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/respond"
)

// Triggers of an assessment, a label of the duration and verdict metrics.
const (
	triggerExec    = "exec"
	triggerCadence = "cadence"
)

// maxRuleLabels bounds the rule label of davy_rule_matches_total: rules
// come from user files, and each distinct name is a series.
const maxRuleLabels = 500

// Metrics are the agent's Prometheus metrics. A nil *Metrics records
// nothing, so tests and embedders may leave it out.
type Metrics struct {
	events      *prometheus.CounterVec
	srcEvents   *prometheus.GaugeVec
	srcLost     *prometheus.GaugeVec
	srcDropped  *prometheus.GaugeVec
	matches     *prometheus.CounterVec
	alerts      *prometheus.CounterVec
	verdicts    *prometheus.CounterVec
	assessTime  *prometheus.HistogramVec
	detectTime  *prometheus.HistogramVec
	workloads   prometheus.Gauge
	skipped     *prometheus.GaugeVec
	responses   *prometheus.CounterVec
	wireDrops   prometheus.Counter
	mu          sync.Mutex
	ruleLabels  map[string]bool
	lastSkipped map[string]bool
}

// NewMetrics registers the agent's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "davy_events_total",
			Help: "Events the agent evaluated, by source and kind."}, []string{"source", "kind"}),
		srcEvents: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "davy_source_events",
			Help: "Events the source delivered since the agent started."}, []string{"source"}),
		srcLost: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "davy_source_events_lost",
			Help: "Events the source knows it lost since the agent started (kernel queue full, undecodable, or dropped for a slow consumer)."}, []string{"source"}),
		srcDropped: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "davy_source_events_dropped",
			Help: "The part of the lost events dropped because the agent's queue was full."}, []string{"source"}),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "davy_rule_matches_total",
			Help: "Rule matches before deduplication, by rule and priority (rules beyond the first 500 names count as rule=\"other\")."}, []string{"rule", "priority"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "davy_alerts_total",
			Help: "Alerts emitted after deduplication, by priority."}, []string{"priority"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "davy_verdicts_total",
			Help: "Workload verdicts, by verdict and trigger (exec or cadence)."}, []string{"verdict", "trigger"}),
		assessTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "davy_assessment_duration_seconds",
			Help:    "Time to judge one exec'd process (trigger=exec) or every workload of the node, CPU window included (trigger=cadence).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}, []string{"trigger"}),
		detectTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "davy_detector_duration_seconds",
			Help:    "Time one detector took on one workload.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 4, 10)}, []string{"detector"}),
		workloads: prometheus.NewGauge(prometheus.GaugeOpts{Name: "davy_workloads",
			Help: "Workloads judged by the last cadence assessment."}),
		skipped: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "davy_snapshot_skipped",
			Help: "Entries the last snapshot could not read, by reason."}, []string{"reason"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "davy_responses_total",
			Help: "Response actions, by action and outcome (done, dry_run, skipped, failed)."}, []string{"action", "outcome"}),
		wireDrops: prometheus.NewCounter(prometheus.CounterOpts{Name: "davy_wire_observations_dropped_total",
			Help: "Flows the packet capture reported that the agent was too busy to attribute."}),
		ruleLabels:  map[string]bool{},
		lastSkipped: map[string]bool{},
	}
	reg.MustRegister(m.events, m.srcEvents, m.srcLost, m.srcDropped, m.matches, m.alerts, m.verdicts,
		m.assessTime, m.detectTime, m.workloads, m.skipped, m.responses, m.wireDrops)
	return m
}

func (m *Metrics) event(ev events.Event) {
	if m != nil {
		m.events.WithLabelValues(ev.Source, ev.Kind.String()).Inc()
	}
}

func (m *Metrics) source(name string, s events.Stats) {
	if m != nil {
		m.srcEvents.WithLabelValues(name).Set(float64(s.Events))
		m.srcLost.WithLabelValues(name).Set(float64(s.Lost))
		m.srcDropped.WithLabelValues(name).Set(float64(s.Dropped))
	}
}

func (m *Metrics) ruleMatch(rule, priority string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	if !m.ruleLabels[rule] {
		if len(m.ruleLabels) >= maxRuleLabels {
			rule = "other"
		} else {
			m.ruleLabels[rule] = true
		}
	}
	m.mu.Unlock()
	m.matches.WithLabelValues(rule, priority).Inc()
}

func (m *Metrics) alert(priority string) {
	if m != nil {
		m.alerts.WithLabelValues(priority).Inc()
	}
}

func (m *Metrics) verdict(trigger string, v finding.Verdict) {
	if m != nil {
		m.verdicts.WithLabelValues(string(v), trigger).Inc()
	}
}

func (m *Metrics) assessed(trigger string, d time.Duration, v finding.Verdict) {
	if m != nil {
		m.assessTime.WithLabelValues(trigger).Observe(d.Seconds())
		m.verdicts.WithLabelValues(string(v), trigger).Inc()
	}
}

func (m *Metrics) detector(name string, d time.Duration) {
	if m != nil {
		m.detectTime.WithLabelValues(name).Observe(d.Seconds())
	}
}

func (m *Metrics) cadence(d time.Duration, workloads int, skipped map[string]int) {
	if m == nil {
		return
	}
	m.assessTime.WithLabelValues(triggerCadence).Observe(d.Seconds())
	m.workloads.Set(float64(workloads))
	m.mu.Lock()
	defer m.mu.Unlock()
	for reason := range m.lastSkipped {
		if _, ok := skipped[reason]; !ok {
			m.skipped.WithLabelValues(reason).Set(0)
		}
	}
	for reason, n := range skipped {
		m.lastSkipped[reason] = true
		m.skipped.WithLabelValues(reason).Set(float64(n))
	}
}

func (m *Metrics) response(action string, r respond.Result) {
	if m == nil {
		return
	}
	outcome := "done"
	switch {
	case r.Skipped != "":
		outcome = "skipped"
	case r.Error != "":
		outcome = "failed"
	case r.DryRun:
		outcome = "dry_run"
	}
	m.responses.WithLabelValues(action, outcome).Inc()
}

func (m *Metrics) wireDropped() {
	if m != nil {
		m.wireDrops.Inc()
	}
}
