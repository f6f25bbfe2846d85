// Package events gives davy agent the processes and connections of a node
// as they happen: an exec within milliseconds, including processes that
// live too briefly to be seen in a snapshot, and each connect(2) as it is
// made.
//
// Three sources share one interface: eBPF tracepoints (everything,
// including connections and exec'd paths), the netlink proc connector
// (exec, fork and exit, no connections) and polling /proc (a fallback that
// misses short-lived processes). Open("auto", …) picks the best one that
// works and logs why the others did not. See docs/events.md.
package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Source names, as accepted by Open and returned by Source.Name.
const (
	Auto          = "auto"
	EBPF          = "ebpf"
	ProcConnector = "proc-connector"
	Poll          = "poll"
)

// Kind is what happened. The values are shared with the eBPF program.
type Kind uint8

const (
	Exec    Kind = 1 // a process ran a new program (execve)
	Fork    Kind = 2 // a new process (not a thread) was created
	Exit    Kind = 3 // a process (its whole thread group) ended
	Connect Kind = 4 // a process called connect(2) for an IPv4 or IPv6 address
)

func (k Kind) String() string {
	switch k {
	case Exec:
		return "exec"
	case Fork:
		return "fork"
	case Exit:
		return "exit"
	case Connect:
		return "connect"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Event is one process or connection event. PIDs are those of the initial
// PID namespace (the host's), as /proc shows them to a process that shares
// the host's PID namespace or reads the host's /proc. Consumers should key
// processes by TGID.
type Event struct {
	Kind Kind
	// Time is when the kernel reported the event (poll: when the process
	// started, or when its absence was noticed).
	Time time.Time
	// PID is the thread the event concerns (Fork: the child), TGID its
	// process, PPID the parent process; 0 when the source does not know.
	PID, TGID, PPID int
	// Comm is the task's command name from the kernel, "" when the source
	// does not have it (proc-connector).
	Comm string
	// Filename is, for Exec from eBPF, the path given to execve (possibly
	// relative, cut at 511 bytes).
	Filename string
	// Dst is, for Connect, the destination address (IPv4-mapped IPv6
	// addresses unmapped) and FD the socket's descriptor in TGID.
	Dst netip.AddrPort
	FD  int
	// Source is the name of the source that produced the event.
	Source string
}

// Stats counts a source's events since it was opened.
type Stats struct {
	// Events were delivered to the consumer.
	Events uint64
	// Lost events were seen to be missing: the kernel could not queue them
	// (ring buffer full, netlink socket overrun: each overrun counts one,
	// though it may hide several), they could not be decoded, or they were
	// dropped because the consumer's channel was full (see Dropped).
	Lost uint64
	// Dropped is the part of Lost dropped because the consumer was slow.
	Dropped uint64
}

// Caps says what a source can see, so that the agent knows what it must
// make up for by other means (socket inventories, /proc reads).
type Caps struct {
	Connect    bool // Connect events are reported
	ShortLived bool // processes that end within milliseconds are seen
	Filename   bool // Exec events carry the exec'd path
}

// Source is a running supply of events.
type Source interface {
	// Name is one of EBPF, ProcConnector or Poll.
	Name() string
	Caps() Caps
	// Run sends events to out until ctx is done, then releases the
	// source and returns nil; on a fatal error it returns the error. It
	// never closes out and never blocks on it: when out is full the event
	// is dropped and counted (give out a buffer of a few thousand). A
	// source runs at most once.
	Run(ctx context.Context, out chan<- Event) error
	Stats() Stats
	// Close releases the source, for one that will not run (Run releases
	// its own on return); a Run in progress then returns nil.
	Close() error
}

// Options configure Open. The zero value is usable.
type Options struct {
	// ProcFS is where proc is mounted, "" for /proc (/host/proc for an
	// agent in a container). The poll source lists it.
	ProcFS string
	// PollInterval is how often the poll source lists ProcFS, 0 for 1 s.
	PollInterval time.Duration
	// RingSize is the eBPF ring buffer's size in bytes, 0 for 1 MiB; it is
	// rounded up to a power of two of at least one page.
	RingSize int
	// Logger receives the choice of source and rare incidents; nil for
	// slog.Default().
	Logger *slog.Logger
	// BatchWindow is, for eBPF, how late an event may be delivered so that
	// a burst wakes the reader once instead of once per event: 0 means 20
	// ms, a negative value wakes it on every event. Under process churn
	// the per-event wakeups cost more than the events.
	BatchWindow time.Duration
	// NoFork leaves Fork events out where the source can (eBPF does not
	// attach its fork program): a consumer that judges programs, not
	// processes, saves a third of the events under process churn.
	NoFork bool
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// defaultBatchWindow is BatchWindow's default: far below the time anything
// acts on an event, far above the cost of a wakeup.
const defaultBatchWindow = 20 * time.Millisecond

func (o Options) batchWindow() time.Duration {
	switch {
	case o.BatchWindow < 0:
		return 0
	case o.BatchWindow == 0:
		return defaultBatchWindow
	}
	return o.BatchWindow
}

func (o Options) procFS() string {
	if o.ProcFS != "" {
		return o.ProcFS
	}
	return "/proc"
}

// errRunning is returned by a second call to Run.
var errRunning = errors.New("event source already ran")

// Open opens the named source: EBPF, ProcConnector, Poll, or Auto (or "")
// for the first of them that works on this machine.
func Open(name string, opts Options) (Source, error) {
	log := opts.logger()
	switch name {
	case EBPF:
		return openEBPF(opts)
	case ProcConnector:
		return openProcConn(opts)
	case Poll:
		return openPoll(opts)
	case Auto, "":
	default:
		return nil, fmt.Errorf("unknown event source %q (want %s)", name,
			strings.Join([]string{Auto, EBPF, ProcConnector, Poll}, ", "))
	}
	eb, ebpfErr := openEBPF(opts)
	if ebpfErr == nil {
		log.Info("event source", "source", EBPF)
		return eb, nil
	}
	pc, connErr := openProcConn(opts)
	if connErr == nil {
		log.Info("event source", "source", ProcConnector, "ebpf_unavailable", ebpfErr.Error())
		return pc, nil
	}
	s, err := openPoll(opts)
	if err != nil {
		return nil, fmt.Errorf("no event source works: ebpf: %v; proc-connector: %v; poll: %w", ebpfErr, connErr, err)
	}
	log.Warn("event source", "source", Poll, "interval", s.interval,
		"ebpf_unavailable", ebpfErr.Error(), "proc_connector_unavailable", connErr.Error(),
		"blind_to", "processes shorter than the interval and connections")
	return s, nil
}

// counters are a source's Stats, updated by its reader and read by anyone.
type counters struct {
	events, lost, dropped atomic.Uint64
}

// send hands ev to the consumer without waiting: a reader that blocks on
// a slow consumer would let the kernel's buffer overflow, losing events
// without knowing which, while a drop here is counted.
func (c *counters) send(out chan<- Event, ev Event) {
	select {
	case out <- ev:
		c.events.Add(1)
	default:
		c.dropped.Add(1)
	}
}

// stats returns the counters, with kernel-side losses added to Lost.
func (c *counters) stats(kernelLost uint64) Stats {
	d := c.dropped.Load()
	return Stats{Events: c.events.Load(), Lost: c.lost.Load() + d + kernelLost, Dropped: d}
}

// monoClock turns the kernel's CLOCK_MONOTONIC nanoseconds
// (bpf_ktime_get_ns, the proc connector's timestamp) into wall time. It
// re-reads the offset once per second of event time so that wall-clock
// steps are followed. Not safe for concurrent use.
type monoClock struct {
	wall time.Time
	mono uint64
}

func (c *monoClock) time(ns uint64) time.Time {
	if ns == 0 {
		return time.Now()
	}
	if c.mono == 0 || ns > c.mono+uint64(time.Second) {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			return time.Now()
		}
		c.wall, c.mono = time.Now(), uint64(ts.Nano())
	}
	return c.wall.Add(time.Duration(int64(ns - c.mono)))
}

// interner returns one string per distinct byte content, so that the few
// command names and paths seen over and over cost no allocation each. It
// forgets everything when full, which bounds its memory. Not safe for
// concurrent use.
type interner struct {
	m map[string]string
}

const internMax = 4096

func (in *interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in.m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	if in.m == nil {
		in.m = make(map[string]string, 256)
	} else if len(in.m) >= internMax {
		clear(in.m)
	}
	s := string(b)
	in.m[s] = s
	return s
}

// cstr returns b up to its first NUL.
func cstr(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
