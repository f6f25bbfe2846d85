package miner

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/davyproject/davy/internal/testbed/duty"
)

// share is a found result waiting to be submitted.
type share struct {
	job    *job
	nonce  uint32
	result [32]byte
}

type miner struct {
	opts   Options
	url    poolURL
	log    *logger
	ds     *datasets
	job    atomic.Pointer[job]
	shares chan share
	counts []counter
	gen    atomic.Uint64
	// accepted and rejected are touched only by the connection goroutine.
	accepted, rejected uint64
}

// Run mines until ctx ends, writing XMRig-like log lines to out. It keeps
// hashing while the pool is unreachable and reconnects every RetryPause.
func Run(ctx context.Context, o Options, out io.Writer) error {
	if err := o.normalize(); err != nil {
		return err
	}
	u, err := parsePoolURL(o.URL, o.TLS)
	if err != nil {
		return err
	}
	log := &logger{w: out}
	m := &miner{
		opts:   o,
		url:    u,
		log:    log,
		ds:     newDatasets(o.DatasetMiB, o.Threads, o.Algo, o.HugePages, log),
		shares: make(chan share, 16),
		counts: make([]counter, o.Threads),
	}
	m.banner()
	var wg sync.WaitGroup
	// Connect first so the pool sees us while the dataset builds.
	wg.Go(func() { m.connectLoop(ctx) })
	m.ds.initial()
	m.job.CompareAndSwap(nil, idleJob(o.Algo))
	start := time.Now()
	for i := range o.Threads {
		wg.Go(func() { m.worker(ctx, i) })
	}
	log.printf("cpu", "READY threads %d/%d (%d) huge pages 0%% 0/%d memory %d KB (%d ms)",
		o.Threads, o.Threads, o.Threads, o.Threads, o.Threads*scratchpadWords*8/1024, time.Since(start).Milliseconds())
	wg.Go(func() { m.report(ctx) })
	wg.Wait()
	return nil
}

func (m *miner) banner() {
	o := m.opts
	m.log.raw(" * ABOUT        XMRig/%s gcc/12.2.0 (built for Linux x86-64, 64 bit)", Version)
	m.log.raw(" * LIBS         libuv/1.44.2 OpenSSL/3.0.11 hwloc/2.9.0")
	m.log.raw(" * HUGE PAGES   supported")
	m.log.raw(" * 1GB PAGES    disabled")
	m.log.raw(" * CPU          %d threads, 64-bit AES", runtime.NumCPU())
	m.log.raw(" * DONATE       %d%%", o.DonateLevel)
	m.log.raw(" * POOL #1      %s algo %s", m.url, o.Algo)
	m.log.raw(" * COMMANDS     'h' hashrate, 'p' pause, 'r' resume, 's' results, 'c' connection")
	m.log.printf("msr", "FAILED TO APPLY MSR MOD, HASHRATE COULD BE LOW")
	m.log.printf("cpu", "use profile  rx  (%d threads) scratchpad %d KB", o.Threads, scratchpadWords*8/1024)
}

// publish makes j the work of every thread.
func (m *miner) publish(j *job, host string) {
	m.job.Store(j)
	h := ""
	if j.height > 0 {
		h = fmt.Sprintf(" height %d", j.height)
	}
	m.log.printf("net", "new job from %s diff %d algo %s%s", host, j.diff, j.algo, h)
}

// worker hashes on its own OS thread, as XMRig's CPU workers do.
func (m *miner) worker(ctx context.Context, idx int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// RandomX compiles each program into an RWX page and changes the
	// rounding mode as it runs; CryptoNight does neither.
	rx := strings.HasPrefix(m.opts.Algo, "rx/")
	if rx {
		jit := jitPage()
		defer freeJIT(jit)
		defer setRounding(0)
	}
	sp := newScratchpad()
	cyc := duty.New(m.opts.Duty, m.opts.DutyPeriod, uint64(idx)+1)
	var cur *job
	var blob []byte
	for cyc.Step(ctx) {
		j := m.job.Load()
		if j != cur {
			cur, blob = j, bytes.Clone(j.blob)
		}
		n := j.nonce.Add(1) - 1
		binary.LittleEndian.PutUint32(blob[j.nonceOff:], n)
		res := hashBlob(m.ds.cur.Load(), sp, blob, rx)
		m.counts[idx].n.Add(1)
		if j.conn != 0 && meetsTarget(res, j.target) {
			select {
			case m.shares <- share{job: j, nonce: n, result: res}:
			default: // submitter busy: drop, as a full send queue would
			}
		}
		if m.opts.Yield {
			yieldCPU()
		}
	}
}

// report prints the hashrate every PrintTime.
func (m *miner) report(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var meter rateMeter
	next := time.Now().Add(m.opts.PrintTime)
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var total uint64
			for i := range m.counts {
				total += m.counts[i].n.Load()
			}
			meter.add(now, total)
			if !now.Before(next) {
				m.log.printf("miner", "%s", meter.line())
				next = now.Add(m.opts.PrintTime)
			}
		}
	}
}
