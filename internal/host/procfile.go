package host

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Limits on what is read from one process.
const (
	maxStatSize    = 4096    // /proc/PID/stat is a few hundred bytes
	maxCmdlineSize = 1 << 20 // bytes of /proc/PID/cmdline
	maxCmdlineArgs = 16384
	maxThreads     = 65536 // threads whose CPU is followed per process
)

// pfKthread is PF_KTHREAD in /proc/PID/stat's flags field.
const pfKthread = 0x00200000

// errStatFormat marks a /proc/PID/stat line that does not parse.
var errStatFormat = errors.New("malformed stat line")

// procStat holds the fields of /proc/PID/stat (or task/TID/stat) that Davy uses.
type procStat struct {
	PID        int
	Comm       string
	State      byte
	PPID       int
	Flags      uint64
	UTime      uint64 // clock ticks
	STime      uint64 // clock ticks
	NumThreads int
	StartTime  uint64 // clock ticks after boot
}

// ticks is the process's CPU time in clock ticks.
func (s *procStat) ticks() uint64 { return s.UTime + s.STime }

// parseStat parses one /proc/PID/stat line. The command name is taken
// between the first "(" and the last ")", so names holding spaces,
// parentheses, newlines or invalid UTF-8 survive intact.
//
// It is used instead of procfs.Proc.Stat for speed (no fmt.Fscan, one
// allocation) and because procfs slices past the end of short lines.
func parseStat(data []byte) (procStat, error) {
	var s procStat
	l := bytes.IndexByte(data, '(')
	r := bytes.LastIndexByte(data, ')')
	if l < 1 || r < l {
		return s, fmt.Errorf("%w: no (comm)", errStatFormat)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data[:l])))
	if err != nil || pid <= 0 {
		return s, fmt.Errorf("%w: bad pid %q", errStatFormat, data[:l])
	}
	s.PID = pid
	s.Comm = string(data[l+1 : r])

	// Fields after the comm, numbered as in proc(5): 3 state, 4 ppid, ...
	rest := data[r+1:]
	field := 2
	for field < 22 {
		// Each field is preceded by exactly one space.
		if len(rest) < 2 || rest[0] != ' ' {
			return s, fmt.Errorf("%w: %d fields", errStatFormat, field)
		}
		rest = rest[1:]
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		tok := rest[:end]
		rest = rest[end:]
		if len(tok) == 0 {
			return s, fmt.Errorf("%w: empty field %d", errStatFormat, field+1)
		}
		field++
		var err error
		switch field {
		case 3:
			if len(tok) != 1 {
				return s, fmt.Errorf("%w: state %q", errStatFormat, tok)
			}
			s.State = tok[0]
		case 4:
			s.PPID, err = atoi(tok)
		case 9:
			s.Flags, err = atou(tok)
		case 14:
			s.UTime, err = atou(tok)
		case 15:
			s.STime, err = atou(tok)
		case 20:
			s.NumThreads, err = atoi(tok)
		case 22:
			s.StartTime, err = atou(tok)
		}
		if err != nil {
			return s, fmt.Errorf("%w: field %d %q", errStatFormat, field, tok)
		}
	}
	return s, nil
}

// atou parses a decimal unsigned number without allocating.
func atou(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, strconv.ErrSyntax
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, strconv.ErrRange
		}
		n = n*10 + d
	}
	return n, nil
}

// atoi parses a non-negative decimal int without allocating.
func atoi(b []byte) (int, error) {
	n, err := atou(b)
	if err != nil || n > 1<<31-1 {
		return 0, strconv.ErrSyntax
	}
	return int(n), nil
}

// readFile reads at most len(buf) bytes of a file into buf with plain system
// calls: os.Open would also try to register every /proc file with the poller.
// full is true when the buffer filled up before the end of the file.
func readFile(path string, buf []byte) (data []byte, full bool, err error) {
	fd, err := openRetry(path)
	if err != nil {
		return nil, false, err
	}
	defer unix.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if m == 0 {
			return buf[:n], false, nil
		}
		n += m
	}
	// The buffer is full: one more byte tells whether anything was cut.
	var one [1]byte
	for {
		m, err := unix.Read(fd, one[:])
		if err == unix.EINTR {
			continue
		}
		return buf[:n], err == nil && m > 0, nil
	}
}

func openRetry(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err == unix.EINTR {
			continue
		}
		return fd, err
	}
}

// splitCmdline splits the NUL-separated /proc/PID/cmdline into at most max
// arguments; all of them share one string allocation. A process that
// rewrote its argument area may leave no NULs; the whole buffer is then one
// argument. The result is nil for an empty command line.
func splitCmdline(data []byte, max int) (args []string, truncated bool) {
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil, false
	}
	all := string(data)
	n := bytes.Count(data, []byte{0}) + 1
	if n > max {
		n, truncated = max, true
	}
	args = make([]string, 0, n)
	for len(args) < n-1 {
		i := indexNUL(all)
		args = append(args, all[:i])
		all = all[i+1:]
	}
	if truncated {
		if i := indexNUL(all); i >= 0 {
			all = all[:i]
		}
	}
	args = append(args, all)
	return args, truncated
}

func indexNUL(s string) int { return strings.IndexByte(s, 0) }

// parseLinkInode parses an inode out of a /proc link target such as
// "net:[4026531840]" (prefix "net:[") or "socket:[12345]".
func parseLinkInode(target, prefix string) (uint64, bool) {
	rest, ok := strings.CutPrefix(target, prefix)
	if !ok || len(rest) < 2 || rest[len(rest)-1] != ']' {
		return 0, false
	}
	n, err := strconv.ParseUint(rest[:len(rest)-1], 10, 64)
	return n, err == nil
}

// parseSocketLink parses an fd target "socket:[12345]".
func parseSocketLink(target string) (uint64, bool) {
	return parseLinkInode(target, "socket:[")
}
