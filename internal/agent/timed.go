package agent

import (
	"context"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
)

// timed wraps a detector to record its duration per workload.
type timed struct {
	detect.Detector
	m *Metrics
}

func (t timed) Detect(ctx context.Context, env *detect.Env, w *detect.Workload) []finding.Evidence {
	start := time.Now()
	ev := t.Detector.Detect(ctx, env, w)
	t.m.detector(t.Name(), time.Since(start))
	return ev
}

// withTimers wraps every detector when metrics are on.
func withTimers(dets []detect.Detector, m *Metrics) []detect.Detector {
	if m == nil {
		return dets
	}
	out := make([]detect.Detector, len(dets))
	for i, d := range dets {
		out[i] = timed{d, m}
	}
	return out
}
