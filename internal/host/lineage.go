package host

import (
	"strconv"
)

// Ancestor is one process above another in the process tree.
type Ancestor struct {
	PID     int
	PPID    int
	Comm    string
	Cmdline []string
}

// maxLineageCmdline bounds an ancestor's command line as read here: rules
// quote it, nothing parses it.
const maxLineageCmdline = 4 << 10

// ReadAncestor reads process pid's name, parent and command line from
// procFS ("" means /proc); ok is false when it cannot be read (it exited).
func ReadAncestor(procFS string, pid int) (Ancestor, bool) {
	if procFS == "" {
		procFS = "/proc"
	}
	st, err := readStatAt(procFS, pid, make([]byte, maxStatSize))
	if err != nil {
		return Ancestor{}, false
	}
	a := Ancestor{PID: pid, PPID: st.PPID, Comm: st.Comm}
	if data, _, err := readFile(procFS+"/"+strconv.Itoa(pid)+"/cmdline", make([]byte, maxLineageCmdline)); err == nil {
		a.Cmdline, _ = splitCmdline(data, maxCmdlineArgs)
	}
	return a, true
}

// Lineage returns up to depth ancestors of a process whose parent is
// ppid, parent first, each from get (ReadAncestor, or a cache of it). It
// stops at PID 1, at a process get cannot give (it may have exited), or at
// a loop in a hostile tree.
func Lineage(ppid, depth int, get func(pid int) (Ancestor, bool)) []Ancestor {
	seen := map[int]bool{}
	var out []Ancestor
	for pid := ppid; pid > 0 && len(out) < depth && !seen[pid]; {
		seen[pid] = true
		a, ok := get(pid)
		if !ok {
			break
		}
		out = append(out, a)
		if pid == 1 {
			break
		}
		pid = a.PPID
	}
	return out
}

func readStatAt(procFS string, pid int, buf []byte) (procStat, error) {
	data, _, err := readFile(procFS+"/"+strconv.Itoa(pid)+"/stat", buf)
	if err != nil {
		return procStat{}, err
	}
	return parseStat(data)
}

// StartTicks returns the start time of process pid in clock ticks after
// boot, from procFS ("" means /proc): with the PID, it names one process
// even after the PID is reused.
func StartTicks(procFS string, pid int) (uint64, error) {
	if procFS == "" {
		procFS = "/proc"
	}
	st, err := readStatAt(procFS, pid, make([]byte, maxStatSize))
	if err != nil {
		return 0, err
	}
	return st.StartTime, nil
}
