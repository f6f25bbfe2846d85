package host

import (
	"strconv"
)

// Ancestor is one process above another in the process tree. Cmdline is
// read for the parent only (rules quote proc.pcmdline, not older ones).
type Ancestor struct {
	PID     int
	PPID    int
	Comm    string
	Cmdline []string
}

// maxLineageCmdline bounds the parent's command line as read here: rules
// quote it, nothing parses it.
const maxLineageCmdline = 4 << 10

// Lineage returns up to depth ancestors of a process whose parent is ppid,
// parent first, read from procFS ("" means /proc): one stat read each. It
// stops at PID 1, at a process it cannot read (it may have exited), or at
// a loop in a hostile tree.
func Lineage(procFS string, ppid, depth int) []Ancestor {
	if procFS == "" {
		procFS = "/proc"
	}
	buf := make([]byte, maxStatSize)
	seen := map[int]bool{}
	var out []Ancestor
	for pid := ppid; pid > 0 && len(out) < depth && !seen[pid]; {
		seen[pid] = true
		st, err := readStatAt(procFS, pid, buf)
		if err != nil {
			break
		}
		a := Ancestor{PID: pid, PPID: st.PPID, Comm: st.Comm}
		if len(out) == 0 {
			cbuf := make([]byte, maxLineageCmdline)
			if data, _, err := readFile(procFS+"/"+strconv.Itoa(pid)+"/cmdline", cbuf); err == nil {
				a.Cmdline, _ = splitCmdline(data, maxCmdlineArgs)
			}
		}
		out = append(out, a)
		if pid == 1 {
			break
		}
		pid = st.PPID
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
