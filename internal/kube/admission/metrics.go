package admission

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the webhook's Prometheus metrics. Every label takes values
// from a fixed set: results, reason codes, verdicts.
type Metrics struct {
	requests     *prometheus.CounterVec // result
	findings     *prometheus.CounterVec // reason
	latency      prometheus.Histogram
	cache        *prometheus.CounterVec // hit, miss
	scans        *prometheus.CounterVec // verdict or error
	scanTimeouts prometheus.Counter
	scanBusy     prometheus.Counter
	scansRunning prometheus.Gauge
}

// Request results.
const (
	resultAllowed    = "allowed"     // nothing found
	resultWarned     = "warned"      // allowed with warnings
	resultDenied     = "denied"      // refused (enforce)
	resultExempt     = "exempt"      // exempt namespace
	resultBadRequest = "bad_request" // HTTP 400
)

// NewMetrics registers the metrics with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davy_webhook_requests_total", Help: "Admission requests by result: allowed, warned, denied, exempt, bad_request.",
		}, []string{"result"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davy_webhook_findings_total", Help: "Findings in admitted or refused pods, by reason code.",
		}, []string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "davy_webhook_request_duration_seconds", Help: "Time to answer an admission request, scans within the budget included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davy_webhook_verdict_cache_total", Help: "Image verdict cache lookups by result: hit, miss.",
		}, []string{"result"}),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davy_webhook_scans_total", Help: "Image scans finished, by verdict (miner, suspicious, clean) or error.",
		}, []string{"verdict"}),
		scanTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "davy_webhook_scan_timeouts_total", Help: "Requests answered before an image scan finished (the scan budget ran out); the scan goes on in the background.",
		}),
		scanBusy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "davy_webhook_scans_refused_total", Help: "Images not scanned because too many scans were queued.",
		}),
		scansRunning: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "davy_webhook_scans_running", Help: "Image scans running now.",
		}),
	}
	for _, r := range []string{resultAllowed, resultWarned, resultDenied, resultExempt, resultBadRequest} {
		m.requests.WithLabelValues(r)
	}
	for _, r := range []string{"hit", "miss"} {
		m.cache.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.findings, m.latency, m.cache, m.scans, m.scanTimeouts, m.scanBusy, m.scansRunning)
	}
	return m
}
