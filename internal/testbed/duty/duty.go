// Package duty throttles a busy loop to a fraction of one CPU: work for
// duty*period, then sleep for the rest, with random jitter on both so the
// pattern does not show a clean frequency (the way stealthy miners throttle).
//
// The work slice is counted in the thread's own CPU time, so on a busy
// machine the loop still gets its share instead of "working" while
// descheduled. Callers should lock the goroutine to its OS thread
// (runtime.LockOSThread); elsewhere, or off Linux, wall time is used.
//
// It holds no miner content so benign burners can share it.
package duty

import (
	"context"
	"math/rand/v2"
	"time"
)

// DefaultPeriod is one work+sleep cycle when the caller gives none.
const DefaultPeriod = 500 * time.Millisecond

// jitter is the +/- fraction applied to each work and sleep slice.
const jitter = 0.25

// Cycle throttles one worker. A nil *Cycle never throttles.
// It is not safe for concurrent use: give each worker its own.
type Cycle struct {
	duty     float64
	period   time.Duration
	rnd      *rand.Rand
	start    time.Time
	startCPU time.Duration
	hasCPU   bool
	work     time.Duration
}

// New returns a throttle for duty in (0,1); duty <= 0 or >= 1 means full
// speed and returns nil. seed makes workers' jitter differ.
func New(duty float64, period time.Duration, seed uint64) *Cycle {
	if duty <= 0 || duty >= 1 {
		return nil
	}
	if period <= 0 {
		period = DefaultPeriod
	}
	c := &Cycle{duty: duty, period: period, rnd: rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))}
	c.reset(time.Now())
	return c
}

func (c *Cycle) reset(now time.Time) {
	c.start = now
	c.startCPU, c.hasCPU = threadCPU()
	c.work = c.jittered(time.Duration(c.duty * float64(c.period)))
}

// worked is how much of the work slice is used up.
func (c *Cycle) worked(now time.Time) time.Duration {
	if c.hasCPU {
		if cpu, ok := threadCPU(); ok && cpu >= c.startCPU {
			return cpu - c.startCPU
		}
	}
	return now.Sub(c.start)
}

func (c *Cycle) jittered(d time.Duration) time.Duration {
	f := 1 + jitter*(2*c.rnd.Float64()-1)
	return time.Duration(float64(d) * f)
}

// Step is called after each unit of work. When the work slice is used up it
// sleeps for the idle slice. It returns false once ctx is done.
func (c *Cycle) Step(ctx context.Context) bool {
	if c == nil {
		return ctx.Err() == nil
	}
	now := time.Now()
	if c.worked(now) < c.work {
		return ctx.Err() == nil
	}
	idle := c.jittered(time.Duration((1 - c.duty) * float64(c.period)))
	t := time.NewTimer(idle)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	c.reset(time.Now())
	return true
}
