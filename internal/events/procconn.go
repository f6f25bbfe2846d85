package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// procConnRcvBuf absorbs bursts (a build, a fork bomb) while the
	// reader is descheduled; overruns beyond it are counted as losses.
	procConnRcvBuf = 8 << 20
	// procConnAckWait bounds the wait for the kernel to acknowledge the
	// listen request. Without the acknowledgement the socket may never
	// get an event (a process outside the host's PID namespace is
	// ignored without a word), so Open fails instead.
	procConnAckWait = 2 * time.Second
)

// procConnSource reads exec, fork and exit events from the kernel's proc
// connector (NETLINK_CONNECTOR, CN_IDX_PROC). It needs the host's PID and
// user namespaces, and CAP_NET_ADMIN on older kernels. The kernel sends
// only PIDs: Comm and Filename stay empty.
type procConnSource struct {
	log    *slog.Logger
	noFork bool
	f      *os.File // the netlink socket, non-blocking, in Go's poller
	rc     syscall.RawConn
	seq    uint32

	c      counters
	ran    atomic.Bool
	closed atomic.Bool
	once   sync.Once

	// The reader's buffers, reused for every datagram.
	buf     []byte
	msgs    []procMsg
	from    unix.RawSockaddrNetlink
	fromLen uint32
	clock   monoClock
	overran bool // an overrun was logged
}

func openProcConn(opts Options) (*procConnSource, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("opening a netlink connector socket: %w", err)
	}
	// SO_RCVBUFFORCE passes net.core.rmem_max, for root; SO_RCVBUF is
	// capped by it.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, procConnRcvBuf); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, procConnRcvBuf)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding to the proc connector group: %w", err)
	}
	f := os.NewFile(uintptr(fd), "netlink-proc-connector")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("proc connector socket: %w", err)
	}
	s := &procConnSource{
		log:    opts.logger(),
		noFork: opts.NoFork,
		f:      f,
		rc:     rc,
		// Any value will do; a distinct one tells our acknowledgement
		// from those of other listeners, which every listener receives.
		// In 1..2³²-2, so that ack+1 is never 0, the ack of every event.
		seq: (uint32(os.Getpid())<<8^uint32(time.Now().UnixNano()))%0xfffffffe + 1,
		buf: make([]byte, 64<<10),
	}
	if err := s.sendOp(procCnMcastListen); err != nil {
		f.Close()
		return nil, fmt.Errorf("subscribing to proc events: %w", err)
	}
	if err := s.awaitAck(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sendOp sends a listen or ignore request to the kernel.
func (s *procConnSource) sendOp(op uint32) error {
	msg := listenRequest(op, s.seq)
	var serr error
	err := s.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return serr != unix.EAGAIN
	})
	return errors.Join(err, serr)
}

// awaitAck waits for the kernel's answer to the listen request.
func (s *procConnSource) awaitAck() error {
	if err := s.f.SetReadDeadline(time.Now().Add(procConnAckWait)); err != nil {
		return fmt.Errorf("proc connector socket: %w", err)
	}
	for {
		n, err := s.recv()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("no answer from the proc connector in %v (not in the host's PID and user namespaces?)", procConnAckWait)
		case errors.Is(err, unix.ENOBUFS):
			continue
		case err != nil:
			return fmt.Errorf("reading the proc connector: %w", err)
		case s.from.Pid != 0:
			continue
		}
		// Events before the answer are dropped: they precede Open's return.
		s.msgs, _ = parseProcConnector(s.buf[:n], s.msgs[:0])
		for _, m := range s.msgs {
			// The kernel answers with our ack+1; its seq is the kernel's
			// own counter on newer kernels, so it is not compared.
			if m.What != procEventNone || m.Ack != s.seq+1 {
				continue
			}
			if m.Data[0] != 0 {
				return fmt.Errorf("proc connector refused to listen: %w", unix.Errno(m.Data[0]))
			}
			return s.f.SetReadDeadline(time.Time{})
		}
	}
}

// recv reads one datagram into s.buf and its sender into s.from, without
// allocating (unix.Recvfrom allocates the sender's address each call).
func (s *procConnSource) recv() (int, error) {
	var (
		n    uintptr
		errn unix.Errno
	)
	err := s.rc.Read(func(fd uintptr) bool {
		for {
			s.fromLen = unix.SizeofSockaddrNetlink
			n, _, errn = unix.Syscall6(unix.SYS_RECVFROM, fd,
				uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)), 0,
				uintptr(unsafe.Pointer(&s.from)), uintptr(unsafe.Pointer(&s.fromLen)))
			if errn != unix.EINTR {
				return errn != unix.EAGAIN // false: wait until readable
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errn != 0:
		return 0, errn
	}
	return int(n), nil
}

func (s *procConnSource) Name() string { return ProcConnector }

func (s *procConnSource) Caps() Caps {
	return Caps{ShortLived: true}
}

func (s *procConnSource) Run(ctx context.Context, out chan<- Event) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errRunning
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	for {
		n, err := s.recv()
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) {
				// The socket overran: at least one event is gone. Said
				// once; Stats counts them all.
				s.c.lost.Add(1)
				if !s.overran {
					s.overran = true
					s.log.Warn("proc connector overrun: events lost", "source", ProcConnector)
				}
				continue
			}
			if ctx.Err() != nil || s.closed.Load() {
				return nil
			}
			return fmt.Errorf("reading the proc connector: %w", err)
		}
		if s.from.Pid != 0 {
			continue // only the kernel speaks for the connector
		}
		var perr error
		s.msgs, perr = parseProcConnector(s.buf[:n], s.msgs[:0])
		if perr != nil {
			s.c.lost.Add(1)
		}
		for i := range s.msgs {
			if ev, ok := s.event(&s.msgs[i]); ok {
				s.c.send(out, ev)
			}
		}
	}
}

// event turns a message into an Event; ok is false for messages that are
// not reported (thread creation and exit, other kinds of events).
func (s *procConnSource) event(m *procMsg) (Event, bool) {
	ev := Event{Source: ProcConnector}
	d := m.Data
	switch m.What {
	case procEventFork:
		if d[2] != d[3] || s.noFork {
			return ev, false // a new thread, or forks not wanted
		}
		ev.Kind, ev.PID, ev.TGID, ev.PPID = Fork, int(d[2]), int(d[3]), int(d[1])
	case procEventExec:
		ev.Kind, ev.PID, ev.TGID = Exec, int(d[0]), int(d[1])
	case procEventExit:
		// Sent for every thread; the leader's exit ends the process.
		if d[0] != d[1] {
			return ev, false
		}
		ev.Kind, ev.PID, ev.TGID, ev.PPID = Exit, int(d[0]), int(d[1]), int(d[5])
	default:
		return ev, false
	}
	ev.Time = s.clock.time(m.TS)
	return ev, true
}

func (s *procConnSource) Stats() Stats { return s.c.stats(0) }

// Close unsubscribes and closes the socket; a running Run returns nil.
func (s *procConnSource) Close() error {
	var err error
	s.once.Do(func() {
		s.closed.Store(true)
		// The kernel counts listeners and builds events while any is
		// left; old kernels only uncount on an explicit ignore.
		_ = s.sendOp(procCnMcastIgnore)
		err = s.f.Close()
	})
	return err
}
