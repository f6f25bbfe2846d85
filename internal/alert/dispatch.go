package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Sink is one output. A Dispatcher never calls Send concurrently with
// itself, and retries a failed batch, so Send should not be left half done
// without saying so: return a *PartialError when the first alerts were
// delivered, and wrap errors that retrying cannot fix with Permanent.
// Send must not modify the alerts, which other outputs share.
type Sink interface {
	Name() string
	Send(ctx context.Context, alerts []Alert) error
}

// PartialError reports that the first Sent alerts of a batch were
// delivered before Err, so that only the rest is retried.
type PartialError struct {
	Sent int
	Err  error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d alerts sent, then: %v", e.Sent, e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }

// permanentError marks a failure that the same request would meet again.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying (a receiver rejecting the
// payload), so that the batch is given up at once instead of holding back
// the alerts behind it through every retry.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Defaults for DispatchOptions.
const (
	DefaultBufferSize   = 1024
	DefaultBatchSize    = 64
	DefaultSendTimeout  = 10 * time.Second
	DefaultRetryInitial = time.Second
	DefaultRetryMax     = time.Minute
	DefaultMaxAttempts  = 10
)

// DispatchOptions configures a Dispatcher. Zero values take the defaults.
type DispatchOptions struct {
	// MinPriority drops alerts less severe than it before they are queued.
	MinPriority Priority
	// BufferSize is how many alerts wait for the sink at most; past it
	// the oldest are dropped and counted.
	BufferSize int
	// BatchSize is the most alerts handed to one Send.
	BatchSize int
	// SendTimeout bounds each Send; a sink that outlives it is treated
	// as failed and is not called again until that call returns.
	SendTimeout time.Duration
	// RetryInitial is the wait after the first failure; each further
	// failure doubles it up to RetryMax, and jitter picks a wait between
	// half of that and all of it, so outputs failing together spread out.
	RetryInitial time.Duration
	RetryMax     time.Duration
	// MaxAttempts is how many times a batch is tried before it is given
	// up (counted in Abandoned), so one batch cannot hold the queue
	// forever.
	MaxAttempts int
	Logger      *slog.Logger
}

func (o *DispatchOptions) fill() {
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = DefaultRetryInitial
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultRetryMax
	}
	o.RetryMax = max(o.RetryMax, o.RetryInitial)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Stats are one output's counters. Every alert that passes the priority
// filter ends up in exactly one of Sent, Dropped or Abandoned, or is still
// counted in Queued.
type Stats struct {
	Sink      string
	Sent      uint64 // alerts the sink accepted
	Failed    uint64 // failed Send attempts (each retry counts)
	Dropped   uint64 // oldest alerts pushed out of a full buffer
	Abandoned uint64 // alerts given up: attempts exhausted, a permanent error, unsent at Close, or enqueued after it
	Filtered  uint64 // alerts below the minimum priority, or with an invalid one
	Queued    int    // alerts waiting now, in the buffer or in a Send
}

// Dispatcher feeds one Sink from a bounded buffer on its own goroutine, so
// a slow or dead output never blocks the agent.
type Dispatcher struct {
	sink Sink
	opt  DispatchOptions
	log  *slog.Logger

	mu       sync.Mutex
	buf      []Alert // ring buffer of opt.BufferSize
	head, n  int
	inflight int
	closed   bool
	dropLog  bool // an overflow was logged since the last delivery
	stats    Stats

	notify  chan struct{} // an alert was queued (capacity 1)
	closing chan struct{} // Close was called: flush and stop
	stop    chan struct{} // Close's deadline passed: stop now
	done    chan struct{} // the goroutine has returned

	// base is cancelled at stop, which ends a Send in progress.
	base   context.Context
	cancel context.CancelFunc
	// stuck is a Send that outlived its timeout and has not returned;
	// the next attempt waits for it, so the sink is never called twice
	// at once and at most one goroutine is left behind per output.
	stuck    chan struct{}
	jitter   func() float64
	closeMu  sync.Mutex
	closeRes int
}

// NewDispatcher starts a Dispatcher for the sink.
func NewDispatcher(sink Sink, opt DispatchOptions) *Dispatcher {
	return newDispatcher(sink, opt, rand.Float64)
}

// newDispatcher takes the jitter source, which tests fix.
func newDispatcher(sink Sink, opt DispatchOptions, jitter func() float64) *Dispatcher {
	opt.fill()
	base, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{
		sink:    sink,
		opt:     opt,
		log:     opt.Logger.With("output", sink.Name()),
		buf:     make([]Alert, opt.BufferSize),
		stats:   Stats{Sink: sink.Name()},
		notify:  make(chan struct{}, 1),
		closing: make(chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		base:    base,
		cancel:  cancel,
		jitter:  jitter,
	}
	go d.run()
	return d
}

// Name is the sink's name.
func (d *Dispatcher) Name() string { return d.sink.Name() }

// Enqueue queues the alerts that reach the minimum priority. It never
// blocks on the sink: when the buffer is full the oldest alerts are
// dropped and counted.
func (d *Dispatcher) Enqueue(alerts ...Alert) {
	d.mu.Lock()
	var dropped uint64
	for _, a := range alerts {
		// An invalid priority could not be written in Falco's shape.
		if a.Priority < d.opt.MinPriority || !a.Priority.Valid() {
			d.stats.Filtered++
			continue
		}
		if d.closed {
			d.stats.Abandoned++
			continue
		}
		if d.n == len(d.buf) {
			d.buf[d.head] = Alert{}
			d.head = (d.head + 1) % len(d.buf)
			d.n--
			d.stats.Dropped++
			dropped++
		}
		d.buf[(d.head+d.n)%len(d.buf)] = a
		d.n++
	}
	logDrop := dropped > 0 && !d.dropLog
	if logDrop {
		d.dropLog = true
	}
	d.mu.Unlock()
	if logDrop {
		// Once per episode: the counter has the totals, and a log line
		// per alert would flood the log exactly when the output is down.
		d.log.Warn("alert buffer full, dropping the oldest alerts", "buffer", len(d.buf), "dropped", dropped)
	}
	select {
	case d.notify <- struct{}{}:
	default:
	}
}

// Stats returns the counters.
func (d *Dispatcher) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.Queued = d.n + d.inflight
	return s
}

// Close stops accepting alerts and sends what is queued, retrying as
// usual, until ctx ends. It returns how many alerts were left unsent (also
// counted in Abandoned) and, if any were, an error wrapping ctx's. Calling
// it again returns the first call's count.
func (d *Dispatcher) Close(ctx context.Context) (int, error) {
	d.closeMu.Lock()
	defer d.closeMu.Unlock()
	d.mu.Lock()
	already := d.closed
	d.closed = true
	d.mu.Unlock()
	if already {
		return d.closeRes, nil
	}
	close(d.closing)
	var ctxErr error
	select {
	case <-d.done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
	}
	// Every wait in the goroutine also watches stop, so it returns at once.
	close(d.stop)
	d.cancel()
	<-d.done

	d.mu.Lock()
	left := d.n + d.inflight
	d.stats.Abandoned += uint64(left)
	clear(d.buf)
	d.n, d.inflight = 0, 0
	d.mu.Unlock()
	d.closeRes = left
	if left == 0 {
		return 0, nil
	}
	if ctxErr == nil {
		ctxErr = context.Canceled
	}
	d.log.Warn("output closed with alerts unsent", "unsent", left)
	return left, fmt.Errorf("output %s: %d alerts left unsent: %w", d.sink.Name(), left, ctxErr)
}

// run sends batches until Close has flushed the buffer or stopped it.
func (d *Dispatcher) run() {
	defer close(d.done)
	for {
		select {
		case <-d.stop:
			// Past Close's deadline a sink that ignores its context
			// could otherwise go on draining the buffer.
			return
		default:
		}
		batch := d.take()
		if batch == nil {
			select {
			case <-d.notify:
				continue
			case <-d.closing:
				if d.queued() == 0 {
					return
				}
				continue
			case <-d.stop:
				return
			}
		}
		if !d.deliver(batch) {
			return
		}
	}
}

// take moves up to BatchSize alerts from the buffer into flight.
func (d *Dispatcher) take() []Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 {
		return nil
	}
	k := min(d.n, d.opt.BatchSize)
	batch := make([]Alert, k)
	for i := range batch {
		j := (d.head + i) % len(d.buf)
		batch[i] = d.buf[j]
		d.buf[j] = Alert{}
	}
	d.head = (d.head + k) % len(d.buf)
	d.n -= k
	d.inflight = k
	return batch
}

func (d *Dispatcher) queued() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

// deliver tries the batch until it is sent or given up; false means stop.
func (d *Dispatcher) deliver(batch []Alert) bool {
	for attempt := 1; ; attempt++ {
		err := d.attempt(batch)
		var pe *PartialError
		if errors.As(err, &pe) && pe.Sent > 0 {
			sent := min(pe.Sent, len(batch))
			d.settle(sent, 0, 0)
			batch = batch[sent:]
			if len(batch) == 0 {
				return true
			}
		}
		if err == nil {
			d.settle(len(batch), 0, 0)
			return true
		}
		select {
		case <-d.stop:
			// Close counts what is still in flight.
			return false
		default:
		}
		d.settle(0, 1, 0)
		if IsPermanent(err) || attempt >= d.opt.MaxAttempts {
			d.settle(0, 0, len(batch))
			d.log.Error("giving up alerts", "alerts", len(batch), "attempts", attempt, "permanent", IsPermanent(err), "err", err)
			return true
		}
		wait := backoff(attempt, d.opt.RetryInitial, d.opt.RetryMax, d.jitter())
		d.log.Warn("sending alerts failed, retrying", "alerts", len(batch), "attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-d.stop:
			t.Stop()
			return false
		}
	}
}

// settle moves alerts out of flight into Sent or Abandoned and counts
// failed attempts.
func (d *Dispatcher) settle(sent, failed, abandoned int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats.Sent += uint64(sent)
	d.stats.Failed += uint64(failed)
	d.stats.Abandoned += uint64(abandoned)
	d.inflight -= sent + abandoned
	if sent > 0 {
		d.dropLog = false
	}
}

var errStopped = errors.New("output stopped")

// attempt runs one Send on its own goroutine so that a sink ignoring its
// context (a write to a pipe nobody reads) still times out.
func (d *Dispatcher) attempt(batch []Alert) error {
	if d.stuck != nil {
		select {
		case <-d.stuck:
			d.stuck = nil
		case <-d.stop:
			return errStopped
		}
	}
	ctx, cancel := context.WithTimeout(d.base, d.opt.SendTimeout)
	defer cancel()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = d.sink.Send(ctx, batch)
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		select {
		case <-done:
			// It returned as the deadline passed: keep its result.
			return err
		default:
		}
		d.stuck = done
		return fmt.Errorf("output %s: send did not return within %s: %w", d.sink.Name(), d.opt.SendTimeout, ctx.Err())
	}
}

// backoff is the wait after the attempt-th failure: RetryInitial doubled
// per failure, capped at RetryMax, then scaled into [half, all] by j in
// [0, 1).
func backoff(attempt int, initial, maxWait time.Duration, j float64) time.Duration {
	w := initial
	for i := 1; i < attempt && w < maxWait; i++ {
		w *= 2
	}
	w = min(w, maxWait)
	return w/2 + time.Duration(j*float64(w/2))
}

// Outputs are the dispatchers every alert goes to.
type Outputs []*Dispatcher

// Enqueue queues the alerts on every output.
func (o Outputs) Enqueue(alerts ...Alert) {
	for _, d := range o {
		d.Enqueue(alerts...)
	}
}

// Stats returns each output's counters.
func (o Outputs) Stats() []Stats {
	s := make([]Stats, len(o))
	for i, d := range o {
		s[i] = d.Stats()
	}
	return s
}

// Close closes every output at once, so one slow output does not eat the
// others' share of the deadline, and returns the total left unsent.
func (o Outputs) Close(ctx context.Context) (int, error) {
	lefts := make([]int, len(o))
	errs := make([]error, len(o))
	var wg sync.WaitGroup
	for i, d := range o {
		wg.Go(func() { lefts[i], errs[i] = d.Close(ctx) })
	}
	wg.Wait()
	total := 0
	for _, n := range lefts {
		total += n
	}
	return total, errors.Join(errs...)
}
