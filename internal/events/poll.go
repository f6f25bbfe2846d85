package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

const (
	defaultPollInterval = time.Second
	minPollInterval     = 10 * time.Millisecond
	userHZ              = 100        // unit of /proc/PID/stat times on every Linux ABI
	pfKthread           = 0x00200000 // PF_KTHREAD in /proc/PID/stat flags
	maxStatSize         = 4096
)

// pollSource lists /proc every interval and reports the processes that
// appeared (as Exec) and vanished (as Exit) since the last listing. It
// needs no privilege beyond reading /proc, and sees neither connections
// nor processes that start and end between two listings.
type pollSource struct {
	procfs   string
	interval time.Duration
	btime    time.Time // boot time, zero when unknown

	c    counters
	ran  atomic.Bool
	done chan struct{}
	once sync.Once

	// The scanner's state, used by one goroutine.
	known map[int]pollProc
	gen   uint32
	buf   []byte
}

// pollProc is a process seen by the last listing. A PID is only the same
// process while its start time is: PIDs are reused.
type pollProc struct {
	start uint64 // clock ticks after boot
	ppid  int
	comm  string
	gen   uint32 // the listing that last saw it
}

func openPoll(opts Options) (*pollSource, error) {
	iv := opts.PollInterval
	if iv == 0 {
		iv = defaultPollInterval
	}
	if iv < minPollInterval {
		return nil, fmt.Errorf("poll interval %v below %v", iv, minPollInterval)
	}
	s := &pollSource{
		procfs:   opts.procFS(),
		interval: iv,
		done:     make(chan struct{}),
		known:    make(map[int]pollProc),
		buf:      make([]byte, maxStatSize),
	}
	s.btime = bootTime()
	// The first listing is the baseline: processes already running are
	// not news, and the next listing reports what started after Open.
	if err := s.scan(nil); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *pollSource) Name() string { return Poll }
func (s *pollSource) Caps() Caps   { return Caps{} }

func (s *pollSource) Run(ctx context.Context, out chan<- Event) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errRunning
	}
	defer s.Close()
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return nil
		case <-t.C:
			if err := s.scan(out); err != nil {
				return err
			}
		}
	}
}

func (s *pollSource) Stats() Stats { return s.c.stats(0) }

// Close stops a running Run, which then returns nil.
func (s *pollSource) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}

// scan lists the processes once and, unless out is nil, reports the
// changes since the last listing.
func (s *pollSource) scan(out chan<- Event) error {
	d, err := os.Open(s.procfs)
	if err != nil {
		return fmt.Errorf("listing processes: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("listing processes in %s: %w", s.procfs, err)
	}
	s.gen++
	now := time.Now()
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		old, seen := s.known[pid]
		st, err := s.readStat(pid)
		if err != nil {
			if seen && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ESRCH) {
				// Unreadable but there: judge it at the next listing.
				old.gen = s.gen
				s.known[pid] = old
			}
			continue
		}
		if st.flags&pfKthread != 0 || st.state == 'Z' || st.state == 'X' {
			continue // kernel threads never exec; a zombie has exited
		}
		if seen && old.start == st.start {
			old.gen = s.gen
			s.known[pid] = old
			continue
		}
		if seen && out != nil { // the PID was reused within one interval
			s.c.send(out, s.exitEvent(pid, old, now))
		}
		p := pollProc{start: st.start, ppid: st.ppid, comm: string(st.comm), gen: s.gen}
		s.known[pid] = p
		if out != nil {
			s.c.send(out, Event{
				Kind: Exec, Time: s.startTime(st.start, now),
				PID: pid, TGID: pid, PPID: p.ppid, Comm: p.comm, Source: Poll,
			})
		}
	}
	for pid, p := range s.known {
		if p.gen != s.gen {
			delete(s.known, pid)
			if out != nil {
				s.c.send(out, s.exitEvent(pid, p, now))
			}
		}
	}
	return nil
}

func (s *pollSource) exitEvent(pid int, p pollProc, now time.Time) Event {
	return Event{Kind: Exit, Time: now, PID: pid, TGID: pid, PPID: p.ppid, Comm: p.comm, Source: Poll}
}

// startTime is when a process started, from its start time in ticks after
// boot, or now when the boot time is unknown.
func (s *pollSource) startTime(ticks uint64, now time.Time) time.Time {
	if s.btime.IsZero() {
		return now
	}
	return s.btime.Add(time.Duration(ticks) * (time.Second / userHZ))
}

// readStat reads /proc/PID/stat into the reused buffer.
func (s *pollSource) readStat(pid int) (statFields, error) {
	fd, err := unix.Open(filepath.Join(s.procfs, strconv.Itoa(pid), "stat"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return statFields{}, err
	}
	n, err := unix.Read(fd, s.buf)
	unix.Close(fd)
	if err != nil {
		return statFields{}, err
	}
	return parseStat(s.buf[:max(n, 0)])
}

// statFields are the fields of /proc/PID/stat the poll source uses; comm
// points into the parsed buffer.
type statFields struct {
	comm  []byte
	state byte
	ppid  int
	flags uint64
	start uint64 // clock ticks after boot
}

var errStat = errors.New("malformed stat line")

// parseStat parses a /proc/PID/stat line. The command name is what lies
// between the first "(" and the last ")", so names with spaces or
// parentheses (anyone can name a process anything) cannot shift fields.
func parseStat(b []byte) (statFields, error) {
	var st statFields
	l := bytes.IndexByte(b, '(')
	r := bytes.LastIndexByte(b, ')')
	if l < 1 || r < l {
		return st, fmt.Errorf("%w: no (comm)", errStat)
	}
	st.comm = b[l+1 : r]
	// Fields after the comm, numbered as in proc(5): 3 state, 4 ppid,
	// 9 flags, 22 starttime.
	rest := b[r+1:]
	for field := 3; field <= 22; field++ {
		if len(rest) < 2 || rest[0] != ' ' {
			return st, fmt.Errorf("%w: %d fields", errStat, field-1)
		}
		rest = rest[1:]
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		tok := rest[:end]
		rest = rest[end:]
		var err error
		switch field {
		case 3:
			if len(tok) != 1 {
				return st, fmt.Errorf("%w: state %q", errStat, tok)
			}
			st.state = tok[0]
		case 4:
			st.ppid, err = strconv.Atoi(string(tok))
			if err == nil && st.ppid < 0 {
				err = errStat
			}
		case 9:
			st.flags, err = strconv.ParseUint(string(tok), 10, 64)
		case 22:
			st.start, err = strconv.ParseUint(string(tok), 10, 64)
		}
		if err != nil {
			return st, fmt.Errorf("%w: field %d %q", errStat, field, tok)
		}
	}
	return st, nil
}

// bootTime is when the machine booted, by the clock that start times in
// /proc/PID/stat count from (CLOCK_BOOTTIME); zero when unknown. It is
// more precise than /proc/stat's btime, which is in whole seconds.
func bootTime() time.Time {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}
	}
	return time.Now().Add(-time.Duration(ts.Nano()))
}
