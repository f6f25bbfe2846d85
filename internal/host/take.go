package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// Options says where and how to look.
type Options struct {
	// ProcFS and SysFS are the mount points of proc and sysfs; "" means
	// /proc and /sys. Tests point them at fixture trees.
	ProcFS, SysFS string
	// Window is how long CPU use is sampled. With 0 the snapshot is taken
	// in one pass and Process.CPU is the average since the process started.
	Window time.Duration
	// ExcludePIDs are left out of the snapshot (Davy's own PID, say).
	ExcludePIDs []int
	// PIDs, when set, limits the snapshot to these processes (an event
	// source names the ones that just started); those that are gone are
	// counted as SkipExited.
	PIDs []int
	// NoSockets leaves sockets (and network namespaces) out: a process
	// that has just exec'd has none worth the cost of reading its
	// namespace's socket tables.
	NoSockets bool
}

// Reasons counted in Snapshot.Skipped. "Dropped" ones leave a process (or a
// whole table) out; the others leave one field of a kept process empty.
const (
	SkipExited           = "exited"            // dropped: the process ended while being read
	SkipVanished         = "vanished"          // dropped: the process ended during the CPU window
	SkipStat             = "stat"              // dropped: /proc/PID/stat unreadable
	SkipStatFormat       = "stat_format"       // dropped: /proc/PID/stat malformed
	SkipCmdline          = "cmdline"           // /proc/PID/cmdline unreadable
	SkipCmdlineTruncated = "cmdline_truncated" // over 1 MiB or 16384 args: Cmdline cut, CmdlineTruncated set
	SkipExe              = "exe"               // /proc/PID/exe unreadable
	SkipExeStat          = "exe_stat"          // the executable could not be stat'ed: ExeFile empty
	SkipCwd              = "cwd"               // /proc/PID/cwd unreadable
	SkipUID              = "uid"               // /proc/PID could not be stat'ed: UID is -1
	SkipCgroup           = "cgroup"            // /proc/PID/cgroup unreadable or malformed
	SkipNetNS            = "netns"             // /proc/PID/ns/net unreadable: no sockets for the process
	SkipThreads          = "threads"           // /proc/PID/task unreadable: ThreadCPU empty
	SkipFD               = "fd"                // /proc/PID/fd unreadable: no sockets for the process
	SkipNet              = "net"               // dropped: one /proc/PID/net/{tcp,udp}{,6} table of a namespace
	SkipContainerCPU     = "container_cpu"     // cgroup CPU counter unreadable: Container.CPU is the sum of its processes
	SkipContainerLimit   = "container_limit"   // cgroup CPU limit malformed: CPULimit 0
	SkipSystemStat       = "proc_stat"         // /proc/stat unreadable: Start and CPUs approximate
)

// userHZ is the unit of CPU times in /proc (USER_HZ, 100 on every Linux ABI).
const userHZ = 100

// Take takes one snapshot of the machine: every process except kernel
// threads, zombies and opts.ExcludePIDs, the containers they run in, their
// CPU use and their TCP and UDP sockets.
//
// With a Window, processes are read in full at its start; at its end their
// CPU counters (process, threads, container cgroups) are read again, new
// processes are read in full, and sockets are read. Processes that ended
// during the window are dropped and counted as SkipVanished.
//
// Only an unreadable ProcFS (or a cancelled ctx) is an error; everything
// else that cannot be read is left out and counted in Snapshot.Skipped.
func Take(ctx context.Context, opts Options) (*Snapshot, error) {
	if opts.ProcFS == "" {
		opts.ProcFS = "/proc"
	}
	if opts.SysFS == "" {
		opts.SysFS = "/sys"
	}
	if opts.Window < 0 {
		opts.Window = 0
	}
	fs, err := procfs.NewFS(opts.ProcFS)
	if err != nil {
		return nil, fmt.Errorf("host: proc filesystem %s: %w", opts.ProcFS, err)
	}
	s := &scanner{
		opts:    opts,
		fs:      fs,
		skipped: map[string]int{},
		exclude: make(map[int]bool, len(opts.ExcludePIDs)),
		missing: map[int]bool{},
		statBuf: make([]byte, maxStatSize),
	}
	for _, pid := range opts.ExcludePIDs {
		s.exclude[pid] = true
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer func() {
		for _, f := range s.release {
			f()
		}
	}()
	procs, err := s.listProcs()
	if err != nil {
		return nil, err
	}
	taken := time.Now()
	s.readSystem()
	s.roots = cgroupRootsOf(opts.SysFS)

	// First pass: everything about every process.
	withThreads := opts.Window > 0
	first := make(map[int]*tracked, len(procs))
	uptime0 := s.uptime()
	for _, proc := range procs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if t := s.readProcess(proc, withThreads); t != nil {
			first[proc.PID] = t
		}
	}

	final := first
	if opts.Window == 0 {
		for _, t := range first {
			t.p.CPU = s.lifetimeCPU(t, uptime0)
		}
	} else {
		cs0 := s.sampleContainers(first)
		timer := time.NewTimer(opts.Window)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("host: sampling CPU: %w", ctx.Err())
		case <-timer.C:
		}
		procs, err = s.listProcs()
		if err != nil {
			return nil, err
		}
		uptime1 := s.uptime()
		final = make(map[int]*tracked, len(procs))
		for _, proc := range procs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if t := s.resample(proc, first[proc.PID], uptime1); t != nil {
				final[proc.PID] = t
			}
		}
		for pid := range first {
			if final[pid] == nil || final[pid].startTicks != first[pid].startTicks {
				s.skipped[SkipVanished]++
			}
		}
		s.containerCPU(final, cs0)
	}

	if !opts.NoSockets {
		s.readSockets(final)
	}

	snap := &Snapshot{
		Taken:     taken,
		Window:    opts.Window,
		CPUs:      s.cpus,
		Processes: make([]*Process, 0, len(final)),
		Skipped:   s.skipped,
	}
	for _, t := range final {
		snap.Processes = append(snap.Processes, t.p)
	}
	slices.SortFunc(snap.Processes, func(a, b *Process) int { return a.PID - b.PID })
	snap.Containers = s.containers(final)
	return snap, nil
}

// scanner holds the state of one Take.
type scanner struct {
	opts    Options
	fs      procfs.FS
	skipped map[string]int
	exclude map[int]bool
	missing map[int]bool // Options.PIDs found gone
	roots   cgroupRoots

	bootTime time.Time
	cpus     int

	statBuf    []byte
	cmdlineBuf []byte
	// release returns pooled buffers when the snapshot is done.
	release []func()

	// cgroup CPU counters read at the end of the window, by container ID
	containerCPUs map[string]float64
}

// tracked is one process with what the CPU window needs.
type tracked struct {
	p          *Process
	proc       procfs.Proc
	startTicks uint64
	ticks      uint64
	at         time.Time
	threads    []threadSample
	cg         cgroupSel
}

type threadSample struct {
	tid   int
	start uint64
	ticks uint64
}

func (s *scanner) path(pid int, name string) string {
	return s.opts.ProcFS + "/" + strconv.Itoa(pid) + "/" + name
}

// listProcs lists the processes of ProcFS by ascending PID, without the
// excluded ones.
func (s *scanner) listProcs() ([]procfs.Proc, error) {
	var all procfs.Procs
	if s.opts.PIDs != nil {
		for _, pid := range s.opts.PIDs {
			p, err := s.fs.Proc(pid)
			if err != nil {
				if !s.missing[pid] { // once, though a window lists twice
					s.missing[pid] = true
					s.skipped[SkipExited]++
				}
				continue
			}
			all = append(all, p)
		}
	} else {
		var err error
		if all, err = s.fs.AllProcs(); err != nil {
			return nil, fmt.Errorf("host: reading %s: %w", s.opts.ProcFS, err)
		}
	}
	procs := all[:0]
	for _, p := range all {
		if p.PID > 0 && !s.exclude[p.PID] {
			procs = append(procs, p)
		}
	}
	slices.SortFunc(procs, func(a, b procfs.Proc) int { return a.PID - b.PID })
	return procs, nil
}

// readSystem reads boot time and CPU count from /proc/stat, or from what
// an earlier snapshot read of the same ProcFS in the last minute: an agent
// takes a snapshot per exec, and /proc/stat is long on a big machine.
func (s *scanner) readSystem() {
	if info, ok := systemInfos.get(s.opts.ProcFS); ok {
		s.bootTime, s.cpus = info.boot, info.cpus
		return
	}
	s.cpus = runtime.NumCPU()
	var st procfs.Stat
	err := guard(func() error {
		var err error
		st, err = s.fs.Stat()
		return err
	})
	if err != nil || st.BootTime == 0 {
		s.skipped[SkipSystemStat]++
		return
	}
	s.bootTime = time.Unix(int64(st.BootTime), 0)
	if len(st.CPU) > 0 {
		s.cpus = len(st.CPU)
	}
	systemInfos.put(s.opts.ProcFS, systemInfo{boot: s.bootTime, cpus: s.cpus})
}

// cgroupRootsOf returns the cgroup hierarchies under sysFS, found again at
// most once a minute: mounts rarely change, and an agent takes a snapshot
// per exec.
func cgroupRootsOf(sysFS string) cgroupRoots {
	rootsMu.Lock()
	defer rootsMu.Unlock()
	if r, ok := rootsSeen[sysFS]; ok && time.Since(r.at) < systemInfoTTL {
		return r.roots
	}
	r := findCgroupRoots(sysFS)
	rootsSeen[sysFS] = struct {
		roots cgroupRoots
		at    time.Time
	}{r, time.Now()}
	return r
}

var (
	rootsMu   sync.Mutex
	rootsSeen = map[string]struct {
		roots cgroupRoots
		at    time.Time
	}{}
)

// cmdlineBufs are the 1 MiB buffers command lines are read into.
var cmdlineBufs = sync.Pool{New: func() any { b := make([]byte, maxCmdlineSize); return &b }}

// systemInfo is what /proc/stat says about the machine.
type systemInfo struct {
	boot time.Time
	cpus int
	at   time.Time
}

// systemInfoTTL bounds how stale the CPU count may be (CPUs can be
// hot-plugged; the boot time never changes).
const systemInfoTTL = time.Minute

type systemInfoCache struct {
	mu sync.Mutex
	m  map[string]systemInfo
}

var systemInfos = &systemInfoCache{m: map[string]systemInfo{}}

func (c *systemInfoCache) get(procFS string) (systemInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	info, ok := c.m[procFS]
	return info, ok && time.Since(info.at) < systemInfoTTL
}

func (c *systemInfoCache) put(procFS string, info systemInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	info.at = time.Now()
	c.m[procFS] = info
}

// uptime returns the seconds since boot from ProcFS/uptime, or -1.
// Process start times are clock ticks on the same clock.
func (s *scanner) uptime() float64 {
	var buf [128]byte
	data, _, err := readFile(s.opts.ProcFS+"/uptime", buf[:])
	if err != nil {
		return -1
	}
	f, _, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
	u, err := strconv.ParseFloat(f, 64)
	if err != nil || u < 0 {
		return -1
	}
	return u
}

// guard runs f and turns a panic inside a library parser into an error, so
// that one malformed file cannot bring the snapshot down.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("host: parser panic: %v", r)
		}
	}()
	return f()
}

// gone reports whether an error means the process no longer exists.
func isGoneErr(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

// exited reports whether process pid has left ProcFS.
func (s *scanner) exited(pid int) bool {
	var st unix.Stat_t
	err := unix.Lstat(s.opts.ProcFS+"/"+strconv.Itoa(pid), &st)
	return err != nil && isGoneErr(err)
}

// fieldErr counts a failed read of one field, or reports that the process
// is gone (then the caller drops it and the count is SkipExited).
func (s *scanner) fieldErr(pid int, err error, reason string) (gone bool) {
	if isGoneErr(err) && s.exited(pid) {
		s.skipped[SkipExited]++
		return true
	}
	s.skipped[reason]++
	return false
}

// readStat reads and parses /proc/PID/stat (or a task's stat when path is given).
func (s *scanner) readStat(path string) (procStat, error) {
	data, full, err := readFile(path, s.statBuf)
	if err != nil {
		return procStat{}, err
	}
	if full {
		return procStat{}, fmt.Errorf("%w: longer than %d bytes", errStatFormat, maxStatSize)
	}
	return parseStat(data)
}

// statFailed counts a failed /proc/PID/stat read.
func (s *scanner) statFailed(pid int, err error) {
	switch {
	case errors.Is(err, errStatFormat):
		if s.exited(pid) {
			s.skipped[SkipExited]++
		} else {
			s.skipped[SkipStatFormat]++
		}
	case isGoneErr(err):
		s.skipped[SkipExited]++
	default:
		s.skipped[SkipStat]++
	}
}

// readProcess reads everything about one process. It returns nil for a
// process left out: kernel threads, zombies, and ones that could not be read
// (counted).
func (s *scanner) readProcess(proc procfs.Proc, withThreads bool) *tracked {
	pid := proc.PID
	st, err := s.readStat(s.path(pid, "stat"))
	if err == nil && st.PID != pid {
		err = fmt.Errorf("%w: pid %d in the stat of %d", errStatFormat, st.PID, pid)
	}
	if err != nil {
		s.statFailed(pid, err)
		return nil
	}
	if st.Flags&pfKthread != 0 || st.State == 'Z' || st.State == 'X' || pid == 2 {
		return nil
	}
	at := time.Now()
	p := &Process{PID: pid, PPID: st.PPID, Comm: st.Comm, Threads: st.NumThreads, UID: -1}
	p.StartTicks = st.StartTime
	if !s.bootTime.IsZero() {
		p.Start = s.bootTime.Add(time.Duration(st.StartTime) * (time.Second / userHZ))
	}

	// cmdline, bounded
	if s.cmdlineBuf == nil {
		bp := cmdlineBufs.Get().(*[]byte)
		s.cmdlineBuf = *bp
		s.release = append(s.release, func() { cmdlineBufs.Put(bp) })
	}
	data, full, err := readFile(s.path(pid, "cmdline"), s.cmdlineBuf)
	if err != nil {
		if s.fieldErr(pid, err, SkipCmdline) {
			return nil
		}
	} else {
		var cut bool
		p.Cmdline, cut = splitCmdline(data, maxCmdlineArgs)
		if full || cut {
			p.CmdlineTruncated = true
			s.skipped[SkipCmdlineTruncated]++
		}
	}

	exe, err := proc.Executable()
	if err != nil {
		if s.fieldErr(pid, err, SkipExe) {
			return nil
		}
	}
	if exe == "" && (st.PPID == 2 || len(p.Cmdline) == 0) {
		// A kernel thread (or a process already on its way out).
		return nil
	}
	if exe != "" {
		s.setExe(p, exe)
	}

	var sys unix.Stat_t
	if err := unix.Stat(s.opts.ProcFS+"/"+strconv.Itoa(pid), &sys); err != nil {
		if s.fieldErr(pid, err, SkipUID) {
			return nil
		}
	} else {
		p.UID = int(sys.Uid)
	}
	if cwd, err := proc.Cwd(); err != nil {
		if s.fieldErr(pid, err, SkipCwd) {
			return nil
		}
	} else {
		p.Cwd = cwd
	}

	t := &tracked{p: p, proc: proc, startTicks: st.StartTime, ticks: st.ticks(), at: at}

	var cgs []procfs.Cgroup
	if err := guard(func() error { cgs, err = proc.Cgroups(); return err }); err != nil {
		if s.fieldErr(pid, err, SkipCgroup) {
			return nil
		}
	} else {
		t.cg = s.roots.selectCgroup(cgs)
		p.CgroupPath = t.cg.processPath
		p.ContainerID = t.cg.info.ContainerID
	}

	if s.opts.NoSockets {
		// The namespace only says where to read socket tables.
	} else if target, err := os.Readlink(s.path(pid, "ns/net")); err != nil {
		if s.fieldErr(pid, err, SkipNetNS) {
			return nil
		}
	} else if ino, ok := parseLinkInode(target, "net:["); ok {
		p.NetNS = ino
	} else {
		s.skipped[SkipNetNS]++
	}

	if withThreads {
		t.threads = s.readThreads(pid, st, t.threads)
	}
	return t
}

// setExe fills the executable fields from the target of /proc/PID/exe.
func (s *scanner) setExe(p *Process, exe string) {
	if e, ok := strings.CutSuffix(exe, " (deleted)"); ok {
		exe, p.ExeDeleted = e, true
	}
	p.Exe = exe
	p.ExeMemfd = strings.HasPrefix(exe, "/memfd:")
	// stat follows the magic link into the process's mount namespace, and
	// still works when the file was deleted.
	id, err := FileIDOf(s.path(p.PID, "exe"))
	if err != nil {
		s.skipped[SkipExeStat]++
		return
	}
	p.ExeFile = id
}

// FileIDOf stats path (following links) for its FileID.
func FileIDOf(path string) (FileID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return FileID{}, err
	}
	return FileID{Dev: st.Dev, Inode: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano()}, nil
}

// readThreads samples the CPU ticks of each thread, reusing dst. A process
// with one thread needs no task/ reads: its thread is the process.
func (s *scanner) readThreads(pid int, st procStat, dst []threadSample) []threadSample {
	dst = dst[:0]
	if st.NumThreads == 1 {
		return append(dst, threadSample{tid: pid, start: st.StartTime, ticks: st.ticks()})
	}
	dir := s.path(pid, "task")
	d, err := os.Open(dir)
	if err != nil {
		s.fieldErr(pid, err, SkipThreads)
		return nil
	}
	names, err := d.Readdirnames(maxThreads)
	d.Close()
	if err != nil && len(names) == 0 {
		s.fieldErr(pid, err, SkipThreads)
		return nil
	}
	for _, n := range names {
		tid, err := strconv.Atoi(n)
		if err != nil || tid <= 0 {
			continue
		}
		ts, err := s.readStat(dir + "/" + n + "/stat")
		if err != nil {
			continue // threads come and go; not worth a count
		}
		dst = append(dst, threadSample{tid: tid, start: ts.StartTime, ticks: ts.ticks()})
	}
	slices.SortFunc(dst, func(a, b threadSample) int { return a.tid - b.tid })
	return dst
}

// lifetimeCPU is the average CPU use of a process since it started.
func (s *scanner) lifetimeCPU(t *tracked, uptime float64) float64 {
	if uptime < 0 {
		return 0
	}
	age := uptime - float64(t.startTicks)/userHZ
	return cores(t.ticks, age, t.p.Threads, s.cpus)
}

// cores turns clock ticks over seconds into cores, bounded by what the
// process could have used. Very young processes get at least one tick of time.
func cores(ticks uint64, seconds float64, threads, cpus int) float64 {
	if seconds < 1.0/userHZ {
		seconds = 1.0 / userHZ
	}
	c := float64(ticks) / userHZ / seconds
	limit := float64(cpus)
	if threads > 0 && float64(threads) < limit {
		limit = float64(threads)
	}
	if limit > 0 && c > limit {
		c = limit
	}
	return c
}

// resample reads a process again at the end of the window. prev is its
// first-pass record, or nil for a process that appeared during the window.
func (s *scanner) resample(proc procfs.Proc, prev *tracked, uptime float64) *tracked {
	pid := proc.PID
	if prev == nil {
		return s.newInWindow(proc, uptime)
	}
	st, err := s.readStat(s.path(pid, "stat"))
	if err != nil || st.PID != pid || st.State == 'Z' || st.State == 'X' {
		return nil // exited (maybe a zombie now): counted as vanished by the caller
	}
	if st.StartTime != prev.startTicks || st.ticks() < prev.ticks {
		// The PID was reused during the window: a new process.
		return s.newInWindow(proc, uptime)
	}
	at := time.Now()
	p := prev.p
	p.Threads = st.NumThreads
	elapsed := at.Sub(prev.at).Seconds()
	p.CPU = cores(st.ticks()-prev.ticks, elapsed, st.NumThreads, s.cpus)

	old := prev.threads
	cur := s.readThreads(pid, st, nil)
	p.ThreadIDs = make([]int, 0, len(cur))
	p.ThreadCPU = make([]float64, 0, len(cur))
	j := 0
	for _, th := range cur {
		for j < len(old) && old[j].tid < th.tid {
			j++
		}
		var c float64
		if j < len(old) && old[j].tid == th.tid && old[j].start == th.start && th.ticks >= old[j].ticks {
			c = cores(th.ticks-old[j].ticks, elapsed, 1, s.cpus)
		} else {
			// A thread born during the window counts from its start.
			c = cores(th.ticks, sinceStart(uptime, th.start, elapsed), 1, s.cpus)
		}
		p.ThreadIDs = append(p.ThreadIDs, th.tid)
		p.ThreadCPU = append(p.ThreadCPU, c)
	}
	return &tracked{p: p, proc: proc, startTicks: st.StartTime, ticks: st.ticks(), at: at, threads: cur, cg: prev.cg}
}

// sinceStart is the time since a start (in ticks after boot), at most limit.
func sinceStart(uptime float64, start uint64, limit float64) float64 {
	if uptime < 0 {
		return limit
	}
	age := uptime - float64(start)/userHZ
	if age > limit || age < 0 {
		return limit
	}
	return age
}

// newInWindow reads a process that appeared during the window; its CPU
// counts from its start.
func (s *scanner) newInWindow(proc procfs.Proc, uptime float64) *tracked {
	t := s.readProcess(proc, true)
	if t == nil {
		return nil
	}
	age := sinceStart(uptime, t.startTicks, s.opts.Window.Seconds())
	t.p.CPU = cores(t.ticks, age, t.p.Threads, s.cpus)
	t.p.ThreadIDs = make([]int, len(t.threads))
	t.p.ThreadCPU = make([]float64, len(t.threads))
	for i, th := range t.threads {
		t.p.ThreadIDs[i] = th.tid
		t.p.ThreadCPU[i] = cores(th.ticks, sinceStart(uptime, th.start, s.opts.Window.Seconds()), 1, s.cpus)
	}
	return t
}

// pathIn joins a cgroup path under a mount root. Paths that climb out of
// the reader's cgroup namespace ("/../x") cannot be resolved from here.
func pathIn(root, cgpath string) (string, bool) {
	if root == "" || cgpath == "" || strings.Contains(cgpath, "..") {
		return "", false
	}
	return filepath.Join(root, cgpath), true
}
