package miner

import (
	"fmt"
	"sync/atomic"
	"time"
)

// counter is one thread's hash count, padded to its own cache line.
type counter struct {
	n atomic.Uint64
	_ [56]byte
}

// rateMeter keeps one total per second for XMRig's 10s/60s/15m windows.
type rateMeter struct {
	samples []sample // oldest first, at most 15 min + 1
	max     float64
}

type sample struct {
	at    time.Time
	total uint64
}

const rateHistory = 15*60 + 1

func (m *rateMeter) add(at time.Time, total uint64) {
	m.samples = append(m.samples, sample{at, total})
	if len(m.samples) > rateHistory {
		m.samples = m.samples[len(m.samples)-rateHistory:]
	}
	if r, ok := m.rate(10 * time.Second); ok && r > m.max {
		m.max = r
	}
}

// rate is hashes per second over the last window, if that much history exists.
func (m *rateMeter) rate(window time.Duration) (float64, bool) {
	if len(m.samples) < 2 {
		return 0, false
	}
	last := m.samples[len(m.samples)-1]
	for i := len(m.samples) - 2; i >= 0; i-- {
		if dt := last.at.Sub(m.samples[i].at); dt >= window {
			return float64(last.total-m.samples[i].total) / dt.Seconds(), true
		}
	}
	return 0, false
}

func (m *rateMeter) line() string {
	f := func(w time.Duration) string {
		if r, ok := m.rate(w); ok {
			return fmt.Sprintf("%.1f", r)
		}
		return "n/a"
	}
	mx := "n/a"
	if m.max > 0 {
		mx = fmt.Sprintf("%.1f", m.max)
	}
	return fmt.Sprintf("speed 10s/60s/15m %s %s %s H/s max %s H/s", f(10*time.Second), f(time.Minute), f(15*time.Minute), mx)
}
