package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
)

// The generated events_bpf{el,eb}.{go,o} are committed so that building
// needs no clang; scripts/gen-bpf.sh installs the tools and runs this.
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel,bpfeb -cflags "-O2 -g -Wall -Werror" events bpf/events.bpf.c

const (
	defaultRingSize = 1 << 20
	maxRingSize     = 256 << 20
)

// ebpfSource reads the events of bpf/events.bpf.c from its ring buffer.
type ebpfSource struct {
	objs    eventsObjects
	links   []link.Link
	rd      *ringbuf.Reader
	connect bool          // sys_enter_connect is attached
	batch   time.Duration // poll interval of the ring when records do not wake the reader

	c   counters
	ran atomic.Bool

	mu         sync.Mutex // guards closed, kernelLost and map reads
	closed     bool
	kernelLost uint64 // last sum of the per-CPU "lost" map
}

// tracepoint is one program and where it attaches.
type tracepoint struct {
	group, name string
	prog        *ebpf.Program
}

func openEBPF(opts Options) (*ebpfSource, error) {
	log := opts.logger()
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK, whose
	// default (8 MiB or less) a 1 MiB ring and the programs can exceed.
	// Failing to raise it is only reported if loading then fails: without
	// privilege it fails either way, and the loader's error says why.
	memlockErr := rlimit.RemoveMemlock()
	tfs, err := traceFS(log)
	if err != nil {
		return nil, err
	}
	consts, connect, err := tracepointOffsets(tfs, log)
	if err != nil {
		return nil, err
	}
	spec, err := loadEvents()
	if err != nil {
		return nil, err
	}
	for name, v := range consts {
		vs, ok := spec.Variables[name]
		if !ok {
			return nil, fmt.Errorf("eBPF object has no variable %s", name)
		}
		if err := vs.Set(v); err != nil {
			return nil, fmt.Errorf("setting %s: %w", name, err)
		}
	}
	size, err := ringSize(opts.RingSize)
	if err != nil {
		return nil, err
	}
	spec.Maps[eventsMapEvents].MaxEntries = size
	batch := opts.batchWindow()
	if batch > 0 {
		// A quarter of the ring wakes the reader early, long before the
		// ring fills between two polls.
		if err := spec.Variables[eventsVarWakeupBytes].Set(size / 4); err != nil {
			return nil, fmt.Errorf("setting %s: %w", eventsVarWakeupBytes, err)
		}
	}

	s := &ebpfSource{connect: connect, batch: batch}
	if err := spec.LoadAndAssign(&s.objs, nil); err != nil {
		// A *ebpf.VerifierError's message ends with the verifier log's
		// last lines; %+v of it gives the whole log.
		if memlockErr != nil {
			return nil, fmt.Errorf("loading eBPF programs: %w (memlock limit not raised: %v)", err, memlockErr)
		}
		return nil, fmt.Errorf("loading eBPF programs: %w", err)
	}
	tps := []tracepoint{
		{"sched", "sched_process_exec", s.objs.DavyExec},
		{"sched", "sched_process_exit", s.objs.DavyExit},
	}
	if !opts.NoFork {
		tps = append(tps, tracepoint{"task", "task_newtask", s.objs.DavyFork})
	}
	if connect {
		tps = append(tps, tracepoint{"syscalls", "sys_enter_connect", s.objs.DavyConnect})
	}
	for _, tp := range tps {
		l, err := link.Tracepoint(tp.group, tp.name, tp.prog, nil)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("attaching to tracepoint %s/%s: %w", tp.group, tp.name, err)
		}
		s.links = append(s.links, l)
	}
	if s.rd, err = ringbuf.NewReader(s.objs.Events); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening the ring buffer: %w", err)
	}
	return s, nil
}

// tracepointOffsets reads where the fields the program reads sit in this
// kernel's tracepoint records. It returns the program's constants and
// whether connect(2) can be traced: syscall tracepoints need
// CONFIG_FTRACE_SYSCALLS, which some kernels lack, and processes matter
// more than connections, so their absence only costs Connect events.
func tracepointOffsets(tracefs string, log *slog.Logger) (map[string]uint32, bool, error) {
	type want struct {
		group, name, field string
		size               int // 0: any
		constant           string
		optional           bool
	}
	wants := []want{
		{"sched", "sched_process_exec", "filename", 4, eventsVarExecFilenameOff, false},
		{"sched", "sched_process_exit", "group_dead", 1, eventsVarExitGroupDeadOff, true},
		{"task", "task_newtask", "pid", 4, eventsVarNewtaskPidOff, false},
		{"task", "task_newtask", "clone_flags", 8, eventsVarNewtaskFlagsOff, false},
		{"syscalls", "sys_enter_connect", "fd", 8, eventsVarConnectFdOff, false},
		{"syscalls", "sys_enter_connect", "uservaddr", 8, eventsVarConnectAddrOff, false},
		{"syscalls", "sys_enter_connect", "addrlen", 8, eventsVarConnectLenOff, false},
	}
	formats := make(map[string]map[string]tpField)
	consts := make(map[string]uint32)
	connect := true
	for _, w := range wants {
		key := w.group + "/" + w.name
		fields, ok := formats[key]
		if !ok {
			var err error
			fields, err = readFormat(tracefs, w.group, w.name)
			if err != nil {
				if w.group == "syscalls" && errors.Is(err, os.ErrNotExist) {
					if connect {
						log.Warn("no syscall tracepoints (CONFIG_FTRACE_SYSCALLS off?): eBPF source without connect events")
					}
					connect = false
					continue
				}
				return nil, false, fmt.Errorf("tracepoint %s: %w", key, err)
			}
			formats[key] = fields
		}
		f, ok := fields[w.field]
		switch {
		case !ok && w.optional:
			consts[w.constant] = 0
			continue
		case !ok:
			return nil, false, fmt.Errorf("tracepoint %s has no field %s", key, w.field)
		case w.size != 0 && f.Size != w.size:
			// A 32-bit kernel's syscall arguments, say: the program
			// reads 8 bytes and would mix two fields.
			return nil, false, fmt.Errorf("tracepoint %s field %s is %d bytes, the eBPF program reads %d", key, w.field, f.Size, w.size)
		case f.Offset == 0 || f.Offset > 0xffff:
			return nil, false, fmt.Errorf("tracepoint %s field %s at unusable offset %d", key, w.field, f.Offset)
		}
		consts[w.constant] = uint32(f.Offset)
	}
	if !connect {
		for _, c := range []string{eventsVarConnectFdOff, eventsVarConnectAddrOff, eventsVarConnectLenOff} {
			consts[c] = 0
		}
	}
	return consts, connect, nil
}

// ringSize rounds a requested ring size up to what the kernel accepts: a
// power of two and a multiple of the page size.
func ringSize(n int) (uint32, error) {
	if n == 0 {
		n = defaultRingSize
	}
	if n < 0 || n > maxRingSize {
		return 0, fmt.Errorf("ring size %d out of range (at most %d)", n, maxRingSize)
	}
	n = max(n, os.Getpagesize())
	return uint32(1) << bits.Len(uint(n-1)), nil
}

func (s *ebpfSource) Name() string { return EBPF }

func (s *ebpfSource) Caps() Caps {
	return Caps{Connect: s.connect, ShortLived: true, Filename: true}
}

func (s *ebpfSource) Run(ctx context.Context, out chan<- Event) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errRunning
	}
	defer s.Close()
	// Closing the reader is what interrupts a blocked ReadInto.
	stop := context.AfterFunc(ctx, func() { s.rd.Close() })
	defer stop()

	var (
		rec ringbuf.Record // its buffer is reused for every record
		dec recordDecoder
	)
	for {
		if s.batch > 0 {
			// Records arrive without a wakeup (see wakeup_bytes): an
			// empty ring is polled again after the batch window.
			s.rd.SetDeadline(time.Now().Add(s.batch))
		}
		if err := s.rd.ReadInto(&rec); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if ctx.Err() != nil || errors.Is(err, os.ErrClosed) && s.isClosed() {
				return nil
			}
			return fmt.Errorf("reading the eBPF ring buffer: %w", err)
		}
		ev, ok := dec.decode(rec.RawSample)
		if !ok {
			s.c.lost.Add(1)
			continue
		}
		s.c.send(out, ev)
	}
}

func (s *ebpfSource) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.readKernelLost()
	}
	return s.c.stats(s.kernelLost)
}

// readKernelLost sums the BPF program's per-CPU loss counters; s.mu held.
func (s *ebpfSource) readKernelLost() {
	var perCPU []uint64
	if err := s.objs.Lost.Lookup(uint32(0), &perCPU); err != nil {
		return // keep the last sum rather than report fewer losses
	}
	var sum uint64
	for _, n := range perCPU {
		sum += n
	}
	s.kernelLost = sum
}

func (s *ebpfSource) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close detaches the programs and frees them; a running Run returns nil.
func (s *ebpfSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	// Detach first so that nothing writes to the ring while it goes.
	for _, l := range s.links {
		errs = append(errs, l.Close())
	}
	if s.rd != nil {
		errs = append(errs, s.rd.Close())
	}
	if s.objs.Lost != nil {
		s.readKernelLost()
	}
	errs = append(errs, s.objs.Close())
	return errors.Join(errs...)
}
