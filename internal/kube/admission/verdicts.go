package admission

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// lookupStatus says where a verdict came from, or why there is none.
type lookupStatus int

const (
	fromCache   lookupStatus = iota
	fromScan                 // scanned within the budget
	scanPending              // the budget ran out; the scan goes on
	scanBusy                 // too many scans queued; none started
)

// verdicts gives image verdicts from the cache or a scan. Each image is
// scanned at most once at a time (later requests wait on the same scan),
// at most Concurrency scans run, at most MaxQueued wait, and a scan keeps
// running after the request that started it gave up, so its verdict lands
// in the cache.
type verdicts struct {
	cache       VerdictCache
	scanner     ImageScanner
	scanTimeout time.Duration
	maxQueued   int
	metrics     *Metrics
	log         *slog.Logger

	slots    chan struct{}
	mu       sync.Mutex
	inflight map[string]*flight // by pull reference
	ctx      context.Context    // cancelled by close
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

type flight struct {
	done chan struct{}
	v    ImageVerdict
}

func newVerdicts(o Options, m *Metrics) *verdicts {
	ctx, cancel := context.WithCancel(context.Background())
	return &verdicts{
		cache: o.Cache, scanner: o.Scanner, scanTimeout: o.ScanTimeout, maxQueued: o.MaxQueuedScans,
		metrics: m, log: o.Log, slots: make(chan struct{}, o.ScanConcurrency),
		inflight: map[string]*flight{}, ctx: ctx, cancel: cancel,
	}
}

// cached returns a verdict from the cache only: by digest first (the
// content), then by reference.
func (vs *verdicts) cached(r imageRef) (ImageVerdict, bool) {
	if r.Digest != "" {
		if v, ok := vs.cache.Get(r.Digest); ok {
			return v, true
		}
	}
	return vs.cache.Get(r.pullRef())
}

// start returns the flight scanning r, starting one if none runs. It
// returns nil when the queue is full or the verdicts are closed.
func (vs *verdicts) start(r imageRef) *flight {
	key := r.pullRef()
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if f, ok := vs.inflight[key]; ok {
		return f
	}
	if len(vs.inflight) >= vs.maxQueued || vs.ctx.Err() != nil {
		return nil
	}
	f := &flight{done: make(chan struct{})}
	vs.inflight[key] = f
	vs.wg.Add(1)
	go vs.run(key, r, f)
	return f
}

func (vs *verdicts) run(key string, r imageRef, f *flight) {
	defer vs.wg.Done()
	defer func() {
		vs.mu.Lock()
		delete(vs.inflight, key)
		vs.mu.Unlock()
		close(f.done)
	}()
	select {
	case vs.slots <- struct{}{}:
		defer func() { <-vs.slots }()
	case <-vs.ctx.Done():
		f.v = ImageVerdict{Ref: key, Err: "webhook shutting down", At: time.Now()}
		return
	}
	vs.metrics.scansRunning.Inc()
	defer vs.metrics.scansRunning.Dec()
	ctx, cancel := context.WithTimeout(vs.ctx, vs.scanTimeout)
	defer cancel()
	start := time.Now()
	v, err := vs.scanner.ScanImage(ctx, key)
	if err != nil {
		v = ImageVerdict{Ref: key, Err: err.Error()}
		vs.metrics.scans.WithLabelValues("error").Inc()
		vs.log.Warn("image scan failed", "image", key, "err", err)
	} else {
		vs.metrics.scans.WithLabelValues(string(v.Verdict)).Inc()
		vs.log.Info("image scanned", "image", key, "digest", v.Digest, "verdict", v.Verdict, "score", v.Score, "took", time.Since(start).Round(time.Millisecond))
	}
	v.At = time.Now()
	f.v = v
	if vs.ctx.Err() == nil {
		vs.cache.Add(v, key, v.Digest)
	}
}

// lookup waits for a verdict until ctx, which carries the scan budget, ends.
func (vs *verdicts) lookup(ctx context.Context, r imageRef) (ImageVerdict, lookupStatus) {
	if v, ok := vs.cached(r); ok {
		vs.metrics.cache.WithLabelValues("hit").Inc()
		return v, fromCache
	}
	vs.metrics.cache.WithLabelValues("miss").Inc()
	f := vs.start(r)
	if f == nil {
		vs.metrics.scanBusy.Inc()
		return ImageVerdict{}, scanBusy
	}
	select {
	case <-f.done:
		return f.v, fromScan
	case <-ctx.Done():
	}
	vs.metrics.scanTimeouts.Inc()
	return ImageVerdict{}, scanPending
}

// close stops queued and running scans and waits for them.
func (vs *verdicts) close() {
	vs.cancel()
	vs.wg.Wait()
}
