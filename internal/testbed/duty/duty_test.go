package duty

import (
	"context"
	"testing"
	"time"
)

func TestFullSpeedIsNil(t *testing.T) {
	for _, d := range []float64{0, 1, -1, 2} {
		if New(d, time.Second, 1) != nil {
			t.Errorf("duty %v throttles", d)
		}
	}
	var c *Cycle
	if !c.Step(context.Background()) {
		t.Error("nil Cycle stopped")
	}
}

func TestStepStopsOnCancel(t *testing.T) {
	c := New(0.01, time.Hour, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	time.Sleep(time.Millisecond) // use up the tiny work slice
	if c.Step(ctx) {
		t.Error("Step went on after cancel")
	}
}
