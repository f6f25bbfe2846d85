package host

import (
	"strconv"
)

// Ancestor is one process above another in the process tree.
type Ancestor struct {
	PID     int
	Comm    string
	Cmdline []string
}

// maxLineageCmdline bounds the command line read per ancestor: rules
// quote it, nothing parses it.
const maxLineageCmdline = 64 << 10

// Lineage returns up to depth ancestors of pid, parent first, read from
// procFS ("" means /proc). It stops at PID 1, at a process it cannot read
// (it may have exited), or at a loop in a hostile tree.
func Lineage(procFS string, pid, depth int) []Ancestor {
	if procFS == "" {
		procFS = "/proc"
	}
	buf := make([]byte, maxStatSize)
	seen := map[int]bool{pid: true}
	var out []Ancestor
	for len(out) < depth {
		st, err := readStatAt(procFS, pid, buf)
		if err != nil || st.PPID <= 0 || seen[st.PPID] {
			break
		}
		pid = st.PPID
		seen[pid] = true
		pst, err := readStatAt(procFS, pid, buf)
		if err != nil {
			break
		}
		a := Ancestor{PID: pid, Comm: pst.Comm}
		cbuf := make([]byte, maxLineageCmdline)
		if data, _, err := readFile(procFS+"/"+strconv.Itoa(pid)+"/cmdline", cbuf); err == nil {
			a.Cmdline, _ = splitCmdline(data, maxCmdlineArgs)
		}
		out = append(out, a)
		if pid == 1 {
			break
		}
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
