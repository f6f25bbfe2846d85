// Package capture reads packets from the kernel in pure Go, for Davy's
// network watcher: DNS answers (for passive DNS, see package dns) and the
// headers and first bytes of TCP segments (for the flow tracker in this
// package, whose first bytes and message timing feed protocol and cadence
// detectors).
//
// A Capture is one AF_PACKET socket in cooked mode (SOCK_DGRAM) with a
// TPACKET_V3 ring shared with the kernel through mmap, so that packets are
// read in blocks without a system call each, and a classic BPF filter
// (filter.go) that keeps only what Davy looks at. It watches every
// interface of a network namespace, or one of them; the namespace is the
// caller's or another one named by path or by `ip netns` name. Packets the
// kernel could not queue are counted (Stats.Dropped), never silently lost.
// See docs/netwatch-capture.md.
package capture

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/davyproject/davy/internal/netns"
)

// Defaults for Options' zero values.
const (
	DefaultSnapLen      = 256
	DefaultDNSSnapLen   = 4096
	DefaultRingBlocks   = 8
	DefaultBlockSize    = 1 << 20
	DefaultBlockTimeout = 50 * time.Millisecond
)

// Options configure Open. The zero value captures on every interface of
// the caller's network namespace.
type Options struct {
	// Netns is the network namespace to capture in: "" for the caller's,
	// a path (/proc/PID/ns/net, /run/netns/NAME, a bind mount), or a name
	// that `ip netns` manages (taken under /run/netns).
	Netns string
	// Interface is the one interface to capture on, by name in that
	// namespace; "" for all of them.
	Interface string
	// SnapLen is how many bytes of each TCP segment's payload are kept,
	// at least; 0 for DefaultSnapLen. The headers are always kept.
	SnapLen int
	// DNSSnapLen is how many bytes of a DNS answer (UDP or TCP from port
	// 53) are kept, at least; 0 for DefaultDNSSnapLen. Answers are kept
	// whole up to it, since a cut answer cannot be decoded.
	DNSSnapLen int
	// RingBlocks and BlockSize shape the ring: RingBlocks blocks of
	// BlockSize bytes (a multiple of the page size), 0 for
	// DefaultRingBlocks and DefaultBlockSize. The kernel fills one block
	// at a time and hands it over whole; when every block waits for the
	// reader, packets are dropped and counted.
	RingBlocks int
	BlockSize  int
	// BlockTimeout is how long the kernel fills a block before handing it
	// over part-full, which bounds the delay of a packet on a quiet link;
	// 0 for DefaultBlockTimeout.
	BlockTimeout time.Duration
	// Logger receives rare incidents (the first drop); nil for
	// slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.SnapLen == 0 {
		o.SnapLen = DefaultSnapLen
	}
	if o.DNSSnapLen == 0 {
		o.DNSSnapLen = DefaultDNSSnapLen
	}
	if o.RingBlocks == 0 {
		o.RingBlocks = DefaultRingBlocks
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.BlockTimeout == 0 {
		o.BlockTimeout = DefaultBlockTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	page := os.Getpagesize()
	switch {
	case o.SnapLen < 0 || o.DNSSnapLen < 0 || o.RingBlocks < 0 || o.BlockSize < 0 || o.BlockTimeout < 0:
		return o, errors.New("capture options: negative value")
	case o.BlockSize%page != 0:
		return o, fmt.Errorf("capture options: block size %d is not a multiple of the page size %d", o.BlockSize, page)
	case o.BlockTimeout < time.Millisecond:
		return o, fmt.Errorf("capture options: block timeout %v is under the kernel's 1 ms unit", o.BlockTimeout)
	}
	// A packet must fit in a block with the block's and its own headers.
	if room := o.BlockSize - blockHeaderRoom; max(o.SnapLen, o.DNSSnapLen)+headerRoom > room {
		return o, fmt.Errorf("capture options: snap lengths %d/%d do not fit a %d-byte block", o.SnapLen, o.DNSSnapLen, o.BlockSize)
	}
	return o, nil
}

// Stats counts a capture's packets since Open. Received = Dropped +
// Packets + DecodeErrors + those still in the ring.
type Stats struct {
	// Received passed the filter in the kernel, dropped or not
	// (PACKET_STATISTICS tp_packets).
	Received uint64
	// Dropped passed the filter but found the ring full: they are lost
	// (tp_drops).
	Dropped uint64
	// Freezes counts the times the whole ring was full
	// (tp_freeze_q_cnt); each is followed by drops until the reader
	// frees a block.
	Freezes uint64
	// Packets were delivered to Run's callback.
	Packets uint64
	// Truncated is the part of Packets whose payload was incomplete
	// (Packet.Truncated): cut by the snap length, or a first fragment.
	Truncated uint64
	// DecodeErrors were read from the ring but could not be decoded, and
	// were not delivered.
	DecodeErrors uint64
}

// Errors of Run.
var (
	ErrRunning = errors.New("capture already running or ran")
	ErrClosed  = errors.New("capture closed")
)

// Capture is an open packet capture. Run reads it once; Stats may be
// called at any time, from any goroutine.
type Capture struct {
	opts Options
	fd   int // the packet socket
	wake int // an eventfd that interrupts Run's poll
	ring ring

	mu      sync.Mutex
	state   int // stateOpen, stateRunning, stateClosed
	runDone chan struct{}
	stop    atomic.Bool

	packets, truncated, decodeErrs atomic.Uint64
	warnedLoss                     bool // Run's own: the first drop was logged

	// kmu guards the kernel's counters, which reading resets, and the
	// descriptors against a concurrent release.
	kmu                        sync.Mutex
	received, dropped, freezes uint64
}

const (
	stateOpen = iota
	stateRunning
	stateClosed
)

// Open opens a capture as opts says. It needs CAP_NET_RAW in the
// namespace (and CAP_SYS_ADMIN to join another one).
func Open(opts Options) (*Capture, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	path, err := netns.Path(opts.Netns)
	if err != nil {
		return nil, err
	}
	filter, err := assembleFilter(uint32(headerRoom+opts.SnapLen), uint32(headerRoom+opts.DNSSnapLen))
	if err != nil {
		return nil, err
	}
	var c *Capture
	err = netns.Do(path, func() error {
		var err error
		c, err = open(opts, filter)
		return err
	})
	if err != nil {
		return nil, err
	}
	opts.Logger.Debug("packet capture open", "netns", opts.Netns, "interface", opts.Interface,
		"ring_bytes", opts.RingBlocks*opts.BlockSize)
	return c, nil
}

// open sets the socket up in the current thread's namespace. The filter
// and the ring are in place before bind, and the socket's protocol is 0
// until then, so no packet arrives unfiltered or outside the ring.
func open(opts Options, filter []unix.SockFilter) (_ *Capture, err error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening a packet socket: %w", err)
	}
	c := &Capture{opts: opts, fd: fd, wake: -1}
	defer func() {
		if err != nil {
			c.release()
		}
	}()
	ifindex := 0
	if opts.Interface != "" {
		ifi, err := net.InterfaceByName(opts.Interface)
		if err != nil {
			return nil, fmt.Errorf("capture interface: %w", err)
		}
		ifindex = ifi.Index
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fmt.Errorf("selecting TPACKET_V3: %w", err)
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		return nil, fmt.Errorf("attaching the capture filter: %w", err)
	}
	if c.ring, err = mapRing(fd, opts); err != nil {
		return nil, err
	}
	if c.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, fmt.Errorf("capture wakeup eventfd: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return nil, fmt.Errorf("binding the packet socket: %w", err)
	}
	return c, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Stats returns the counters so far; after Close, the final ones.
func (c *Capture) Stats() Stats {
	c.kmu.Lock()
	c.readKernelStats()
	s := Stats{Received: c.received, Dropped: c.dropped, Freezes: c.freezes}
	c.kmu.Unlock()
	s.Packets = c.packets.Load()
	s.Truncated = c.truncated.Load()
	s.DecodeErrors = c.decodeErrs.Load()
	return s
}

// readKernelStats adds the kernel's counters, which each read resets, to
// the running totals. kmu must be held.
func (c *Capture) readKernelStats() {
	if c.fd < 0 {
		return
	}
	st, err := unix.GetsockoptTpacketStatsV3(c.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return // only a closed socket fails, and then the totals are final
	}
	c.received += uint64(st.Packets) // includes the drops
	c.dropped += uint64(st.Drops)
	c.freezes += uint64(st.Freeze_q_cnt)
}

// Close releases the capture; a Run in progress returns nil first.
func (c *Capture) Close() error {
	c.mu.Lock()
	switch c.state {
	case stateRunning:
		done := c.runDone
		c.stop.Store(true)
		c.interrupt()
		c.mu.Unlock()
		<-done
		return nil
	case stateOpen:
		c.state = stateClosed
		c.mu.Unlock()
		return c.release()
	}
	c.mu.Unlock()
	return nil
}

// interrupt wakes Run from its poll. It holds kmu so that it never writes
// to the eventfd's number after release closed it (and it may have been
// reused for another file).
func (c *Capture) interrupt() {
	c.kmu.Lock()
	defer c.kmu.Unlock()
	if c.wake >= 0 {
		one := [8]byte{1}
		_, _ = unix.Write(c.wake, one[:])
	}
}

// release keeps the final counters and frees the socket, the ring and the
// eventfd.
func (c *Capture) release() error {
	c.kmu.Lock()
	defer c.kmu.Unlock()
	c.readKernelStats()
	var errs []error
	if c.ring.mem != nil {
		errs = append(errs, unix.Munmap(c.ring.mem))
		c.ring.mem = nil
	}
	if c.fd >= 0 {
		errs = append(errs, unix.Close(c.fd))
		c.fd = -1
	}
	if c.wake >= 0 {
		errs = append(errs, unix.Close(c.wake))
		c.wake = -1
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing capture: %w", err)
	}
	return nil
}
