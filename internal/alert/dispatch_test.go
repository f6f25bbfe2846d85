package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The dispatcher tests run in synctest bubbles: time is fake, advancing
// only when every goroutine in the bubble waits, so backoffs and timeouts
// are exact and cost no wall-clock time.

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeSink records deliveries; fail decides each call's result.
type fakeSink struct {
	mu    sync.Mutex
	calls int
	got   []Alert
	fail  func(call int, batch []Alert) error
}

func (s *fakeSink) Name() string { return "fake" }

func (s *fakeSink) Send(ctx context.Context, batch []Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		if err := s.fail(s.calls, batch); err != nil {
			var pe *PartialError
			if errors.As(err, &pe) {
				s.got = append(s.got, batch[:pe.Sent]...)
			}
			return err
		}
	}
	s.got = append(s.got, batch...)
	return nil
}

func (s *fakeSink) snapshot() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var outs []string
	for _, a := range s.got {
		outs = append(outs, a.Output)
	}
	return s.calls, outs
}

func numbered(n int, p Priority) []Alert {
	out := make([]Alert, n)
	for i := range out {
		out[i] = Alert{Rule: "r", Output: fmt.Sprint(i), Priority: p}
	}
	return out
}

// checkInvariant: every accepted alert is sent, dropped, abandoned or queued.
func checkInvariant(t *testing.T, s Stats, accepted int) {
	t.Helper()
	if got := s.Sent + s.Dropped + s.Abandoned + uint64(s.Queued); got != uint64(accepted) {
		t.Fatalf("sent+dropped+abandoned+queued = %d, want %d accepted (%+v)", got, accepted, s)
	}
}

func TestDispatcherMinPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &fakeSink{}
		d := NewDispatcher(sink, DispatchOptions{MinPriority: PriorityError, Logger: quiet})
		d.Enqueue(
			Alert{Output: "debug", Priority: PriorityDebug},
			Alert{Output: "warning", Priority: PriorityWarning},
			Alert{Output: "error", Priority: PriorityError},
			Alert{Output: "emergency", Priority: PriorityEmergency},
			Alert{Output: "invalid", Priority: Priority(99)},
		)
		synctest.Wait()
		_, got := sink.snapshot()
		if fmt.Sprint(got) != "[error emergency]" {
			t.Fatalf("delivered %v", got)
		}
		s := d.Stats()
		if s.Sent != 2 || s.Filtered != 3 || s.Queued != 0 || s.Sink != "fake" {
			t.Fatalf("stats = %+v", s)
		}
		if left, err := d.Close(t.Context()); left != 0 || err != nil {
			t.Fatalf("Close = %d, %v", left, err)
		}
	})
}

func TestDispatcherRetriesThenSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &fakeSink{fail: func(call int, _ []Alert) error {
			if call <= 3 {
				return errors.New("connection refused")
			}
			return nil
		}}
		// Jitter fixed at 0 waits half the doubled delay: 0.5s, 1s, 2s.
		d := newDispatcher(sink, DispatchOptions{RetryInitial: time.Second, RetryMax: time.Minute, Logger: quiet}, func() float64 { return 0 })
		start := time.Now()
		d.Enqueue(numbered(3, PriorityCritical)...)
		synctest.Wait()
		for _, step := range []struct {
			wait  time.Duration
			calls int
		}{{499 * time.Millisecond, 1}, {time.Millisecond, 2}, {time.Second, 3}, {2 * time.Second, 4}} {
			time.Sleep(step.wait)
			synctest.Wait()
			if calls, _ := sink.snapshot(); calls != step.calls {
				t.Fatalf("after %v: %d calls, want %d", time.Since(start), calls, step.calls)
			}
		}
		s := d.Stats()
		if s.Sent != 3 || s.Failed != 3 || s.Abandoned != 0 || s.Queued != 0 {
			t.Fatalf("stats = %+v", s)
		}
		if _, got := sink.snapshot(); fmt.Sprint(got) != "[0 1 2]" {
			t.Fatalf("delivered %v", got)
		}
		d.Close(t.Context())
	})
}

func TestDispatcherBufferOverflowCountedExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		sink := &fakeSink{}
		blocking := sinkFunc{name: "gated", send: func(ctx context.Context, b []Alert) error {
			<-gate
			return sink.Send(ctx, b)
		}}
		d := NewDispatcher(blocking, DispatchOptions{BufferSize: 4, BatchSize: 1, SendTimeout: time.Hour, Logger: quiet})
		all := numbered(11, PriorityCritical)
		d.Enqueue(all[0])
		synctest.Wait() // alert 0 is now in flight, held by the gate
		d.Enqueue(all[1:]...)
		s := d.Stats()
		// 10 more into a buffer of 4: the 6 oldest (1-6) are dropped.
		if s.Dropped != 6 || s.Queued != 5 || s.Sent != 0 {
			t.Fatalf("stats while blocked = %+v", s)
		}
		checkInvariant(t, s, 11)
		close(gate)
		synctest.Wait()
		if _, got := sink.snapshot(); fmt.Sprint(got) != "[0 7 8 9 10]" {
			t.Fatalf("delivered %v, want the in-flight one and the newest four", got)
		}
		s = d.Stats()
		if s.Sent != 5 || s.Dropped != 6 || s.Queued != 0 {
			t.Fatalf("stats after release = %+v", s)
		}
		checkInvariant(t, s, 11)
		d.Close(t.Context())
	})
}

type sinkFunc struct {
	name string
	send func(context.Context, []Alert) error
}

func (s sinkFunc) Name() string                                   { return s.name }
func (s sinkFunc) Send(ctx context.Context, alerts []Alert) error { return s.send(ctx, alerts) }

func TestDispatcherHungSinkDoesNotBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		calls := 0
		// Ignores its context, like a write to a pipe nobody reads.
		hung := sinkFunc{name: "hung", send: func(context.Context, []Alert) error {
			mu.Lock()
			calls++
			mu.Unlock()
			<-release
			return nil
		}}
		d := NewDispatcher(hung, DispatchOptions{BufferSize: 8, SendTimeout: time.Second, Logger: quiet})
		start := time.Now()
		for _, a := range numbered(100, PriorityCritical) {
			d.Enqueue(a)
		}
		if time.Since(start) != 0 {
			t.Fatal("Enqueue waited on the sink")
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		mu.Lock()
		n := calls
		mu.Unlock()
		// The first call timed out and never returned: no second call
		// runs beside it.
		if n != 1 {
			t.Fatalf("%d calls to a hung sink, want 1", n)
		}
		s := d.Stats()
		if s.Failed != 1 {
			t.Fatalf("stats = %+v, want the timed-out attempt counted", s)
		}
		checkInvariant(t, s, 100)

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		closeStart := time.Now()
		left, err := d.Close(ctx)
		if el := time.Since(closeStart); el != 5*time.Second {
			t.Fatalf("Close returned after %v of fake time, want its 5s deadline", el)
		}
		if !errors.Is(err, context.DeadlineExceeded) || left != s.Queued {
			t.Fatalf("Close = %d, %v; want %d left and a deadline error", left, err, s.Queued)
		}
		s = d.Stats()
		if s.Queued != 0 || s.Sent != 0 {
			t.Fatalf("stats after Close = %+v", s)
		}
		checkInvariant(t, s, 100)
		close(release) // let the abandoned call end so the bubble can exit
	})
}

func TestDispatcherCloseFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &fakeSink{fail: func(call int, _ []Alert) error {
			if call == 2 {
				return errors.New("blip")
			}
			return nil
		}}
		d := NewDispatcher(sink, DispatchOptions{BatchSize: 10, Logger: quiet})
		d.Enqueue(numbered(100, PriorityCritical)...)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if left, err := d.Close(ctx); left != 0 || err != nil {
			t.Fatalf("Close = %d, %v", left, err)
		}
		if s := d.Stats(); s.Sent != 100 || s.Failed != 1 {
			t.Fatalf("stats = %+v", s)
		}
		// After Close, alerts are counted, not queued.
		d.Enqueue(numbered(2, PriorityCritical)...)
		s := d.Stats()
		if s.Abandoned != 2 || s.Queued != 0 {
			t.Fatalf("stats after late Enqueue = %+v", s)
		}
		checkInvariant(t, s, 102)
		if left, err := d.Close(ctx); left != 0 || err != nil {
			t.Fatalf("second Close = %d, %v", left, err)
		}
	})
}

func TestDispatcherGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		perm := &fakeSink{fail: func(call int, _ []Alert) error {
			if call == 1 {
				return Permanent(errors.New("400 bad request"))
			}
			return nil
		}}
		d := NewDispatcher(perm, DispatchOptions{BatchSize: 2, Logger: quiet})
		d.Enqueue(numbered(3, PriorityCritical)...)
		synctest.Wait()
		if s := d.Stats(); s.Abandoned != 2 || s.Failed != 1 || s.Sent != 1 {
			t.Fatalf("permanent error: stats = %+v", s)
		}
		d.Close(t.Context())

		down := &fakeSink{fail: func(int, []Alert) error { return errors.New("down") }}
		d = NewDispatcher(down, DispatchOptions{MaxAttempts: 4, RetryInitial: time.Second, RetryMax: 2 * time.Second, Logger: quiet})
		d.Enqueue(numbered(5, PriorityCritical)...)
		time.Sleep(time.Hour)
		synctest.Wait()
		if s := d.Stats(); s.Abandoned != 5 || s.Failed != 4 || s.Queued != 0 {
			t.Fatalf("attempts exhausted: stats = %+v", s)
		}
		d.Close(t.Context())
	})
}

func TestDispatcherPartialSuccessIsNotResent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &fakeSink{fail: func(call int, _ []Alert) error {
			if call == 1 {
				return &PartialError{Sent: 2, Err: errors.New("reset by peer")}
			}
			return nil
		}}
		d := NewDispatcher(sink, DispatchOptions{Logger: quiet})
		d.Enqueue(numbered(4, PriorityCritical)...)
		time.Sleep(time.Minute)
		synctest.Wait()
		if _, got := sink.snapshot(); fmt.Sprint(got) != "[0 1 2 3]" {
			t.Fatalf("delivered %v", got)
		}
		if s := d.Stats(); s.Sent != 4 || s.Failed != 1 {
			t.Fatalf("stats = %+v", s)
		}
		d.Close(t.Context())
	})
}

func TestOutputsClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := &fakeSink{}, &fakeSink{}
		outs := Outputs{
			NewDispatcher(a, DispatchOptions{Logger: quiet}),
			NewDispatcher(b, DispatchOptions{MinPriority: PriorityCritical, Logger: quiet}),
		}
		outs.Enqueue(Alert{Output: "w", Priority: PriorityWarning}, Alert{Output: "c", Priority: PriorityCritical})
		if left, err := outs.Close(t.Context()); left != 0 || err != nil {
			t.Fatalf("Close = %d, %v", left, err)
		}
		st := outs.Stats()
		if st[0].Sent != 2 || st[1].Sent != 1 || st[1].Filtered != 1 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		attempt int
		j       float64
		want    time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.999999, time.Second - time.Microsecond/2},
		{2, 0, time.Second},
		{3, 0.5, 3 * time.Second}, // 4s: half plus half of the other half
		{7, 0, 30 * time.Second},  // capped at 60s
		{100, 0, 30 * time.Second},
	} {
		got := backoff(c.attempt, time.Second, time.Minute, c.j)
		if c.j > 0.9 {
			if got <= 999*time.Millisecond || got >= time.Second {
				t.Errorf("backoff(%d, %v) = %v", c.attempt, c.j, got)
			}
			continue
		}
		if got != c.want {
			t.Errorf("backoff(%d, %v) = %v, want %v", c.attempt, c.j, got, c.want)
		}
	}
}
