package host

import (
	"bytes"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// cgroupRoots are the mounted cgroup hierarchies under SysFS/fs/cgroup that
// CPU accounting needs. Empty strings are hierarchies that are not there.
type cgroupRoots struct {
	pureV2  bool   // SysFS/fs/cgroup is a cgroup2 mount
	unified string // the v2 hierarchy: fs/cgroup (pure v2) or fs/cgroup/unified (hybrid)
	cpu     string // the v1 hierarchy with the cpu controller
	cpuacct string // the v1 hierarchy with the cpuacct controller
}

func exists(p string) bool {
	var st unix.Stat_t
	return unix.Stat(p, &st) == nil
}

// findCgroupRoots probes SysFS/fs/cgroup. v1 controllers may be mounted
// apart ("cpu", "cpuacct") or together ("cpu,cpuacct", with "cpu" and
// "cpuacct" often symlinks to it); each directory is recognised by the
// files its controller puts at the root.
func findCgroupRoots(sysfs string) cgroupRoots {
	base := filepath.Join(sysfs, "fs", "cgroup")
	var r cgroupRoots
	if exists(filepath.Join(base, "cgroup.controllers")) {
		r.pureV2, r.unified = true, base
		return r
	}
	if exists(filepath.Join(base, "unified", "cgroup.controllers")) {
		r.unified = filepath.Join(base, "unified")
	}
	for _, d := range []string{"cpu,cpuacct", "cpuacct,cpu", "cpu"} {
		dir := filepath.Join(base, d)
		if exists(filepath.Join(dir, "cpu.cfs_period_us")) || exists(filepath.Join(dir, "cpu.shares")) {
			r.cpu = dir
			break
		}
	}
	for _, d := range []string{"cpu,cpuacct", "cpuacct,cpu", "cpuacct", "cpu"} {
		dir := filepath.Join(base, d)
		if exists(filepath.Join(dir, "cpuacct.usage")) {
			r.cpuacct = dir
			break
		}
	}
	return r
}

// cgroupSel is what one process's /proc/PID/cgroup says, resolved against
// the mounted hierarchies.
type cgroupSel struct {
	info        CgroupInfo
	processPath string // Process.CgroupPath
	unified     bool   // info comes from the v2 hierarchy
	cpuPath     string // the container's cgroup in the v1 cpu hierarchy
	acctPath    string // the container's cgroup in the v1 cpuacct hierarchy
}

func hasController(c procfs.Cgroup, name string) bool {
	return slices.Contains(c.Controllers, name)
}

// selectCgroup picks the line that places the process: the unified (0::)
// line on pure cgroup v2; on v1 or hybrid the cpu line, else cpuacct, else
// any line that names a container.
func (r cgroupRoots) selectCgroup(cgs []procfs.Cgroup) cgroupSel {
	var v2, cpu, acct *procfs.Cgroup
	v1 := false
	for i := range cgs {
		c := &cgs[i]
		switch {
		case c.HierarchyID == 0 && len(c.Controllers) == 0:
			if v2 == nil {
				v2 = c
			}
		default:
			v1 = true
			if cpu == nil && hasController(*c, "cpu") {
				cpu = c
			}
			if acct == nil && hasController(*c, "cpuacct") {
				acct = c
			}
		}
	}
	var sel cgroupSel
	if r.pureV2 || !v1 {
		if v2 != nil {
			sel.processPath = v2.Path
			sel.info = ParseCgroupPath(v2.Path)
			sel.unified = true
		}
		return sel
	}

	primary := cpu
	if primary == nil {
		primary = acct
	}
	if primary == nil {
		primary = &cgs[0] // v1 is set, so there is a line
	}
	sel.processPath = primary.Path
	sel.info = ParseCgroupPath(primary.Path)
	chosen := primary
	if sel.info.ContainerID == "" {
		// Fall back to any hierarchy that names a container (a runtime may
		// leave cpu at the root); a monitor only when nothing better.
		candidates := make([]*procfs.Cgroup, 0, len(cgs)+1)
		if acct != nil {
			candidates = append(candidates, acct)
		}
		for i := range cgs {
			candidates = append(candidates, &cgs[i])
		}
		var monitor *procfs.Cgroup
		var monitorInfo CgroupInfo
		for _, c := range candidates {
			info := ParseCgroupPath(c.Path)
			if info.ContainerID != "" {
				sel.info, chosen, monitor = info, c, nil
				break
			}
			if monitor == nil && info.MonitorOf != "" && sel.info.MonitorOf == "" {
				monitor, monitorInfo = c, info
			}
		}
		if monitor != nil {
			sel.info, chosen = monitorInfo, monitor
		}
	}
	sel.unified = chosen == v2
	id := sel.info.ContainerID
	if id == "" {
		id = sel.info.MonitorOf
	}
	if id != "" {
		if cpu != nil {
			if in := ParseCgroupPath(cpu.Path); in.ContainerID+in.MonitorOf == id {
				sel.cpuPath = in.Path
			}
		}
		if acct != nil {
			if in := ParseCgroupPath(acct.Path); in.ContainerID+in.MonitorOf == id {
				sel.acctPath = in.Path
			}
		}
	}
	return sel
}

// readSmall reads a small sysfs file into a stack buffer.
func readSmall(p string) ([]byte, error) {
	var buf [512]byte
	data, _, err := readFile(p, buf[:])
	if err != nil {
		return nil, err
	}
	return bytes.Clone(data), nil
}

// usage reads the cgroup's CPU time counter in seconds.
func (r cgroupRoots) usage(sel cgroupSel) (float64, bool) {
	if sel.unified {
		dir, ok := pathIn(r.unified, sel.info.Path)
		if !ok {
			return 0, false
		}
		data, err := readSmall(filepath.Join(dir, "cpu.stat"))
		if err != nil {
			return 0, false
		}
		for line := range strings.Lines(string(data)) {
			if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
				n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				return float64(n) / 1e6, err == nil
			}
		}
		return 0, false
	}
	dir, ok := pathIn(r.cpuacct, sel.acctPath)
	if !ok {
		return 0, false
	}
	data, err := readSmall(filepath.Join(dir, "cpuacct.usage"))
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	return float64(n) / 1e9, err == nil
}

// limit reads the container's CPU limit in cores: the smallest quota on
// the container's cgroup and its ancestors (the kubelet also caps the pod).
// 0 means no limit. bad is set when a limit file held garbage.
func (r cgroupRoots) limit(sel cgroupSel) (cores float64, bad bool) {
	root, cg := r.cpu, sel.cpuPath
	if sel.unified {
		root, cg = r.unified, sel.info.Path
	}
	if _, ok := pathIn(root, cg); !ok {
		return 0, false
	}
	for p := cg; p != "/" && p != "." && p != ""; p = path.Dir(p) {
		dir := filepath.Join(root, p)
		var c float64
		var ok, garbage bool
		if sel.unified {
			c, ok, garbage = readCPUMax(dir)
		} else {
			c, ok, garbage = readCFSQuota(dir)
		}
		bad = bad || garbage
		if ok && (cores == 0 || c < cores) {
			cores = c
		}
	}
	return cores, bad
}

// readCPUMax parses cgroup v2 cpu.max: "max 100000" or "50000 100000".
func readCPUMax(dir string) (cores float64, limited, bad bool) {
	data, err := readSmall(filepath.Join(dir, "cpu.max"))
	if err != nil {
		return 0, false, false
	}
	return parseCPUMax(string(data))
}

func parseCPUMax(s string) (cores float64, limited, bad bool) {
	f := strings.Fields(s)
	if len(f) < 1 || len(f) > 2 {
		return 0, false, true
	}
	if f[0] == "max" {
		return 0, false, false
	}
	quota, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0, false, true
	}
	period := uint64(100000)
	if len(f) == 2 {
		if period, err = strconv.ParseUint(f[1], 10, 64); err != nil || period == 0 {
			return 0, false, true
		}
	}
	return float64(quota) / float64(period), quota > 0, false
}

// readCFSQuota reads cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us; a
// quota of -1 means no limit.
func readCFSQuota(dir string) (cores float64, limited, bad bool) {
	q, err := readSmall(filepath.Join(dir, "cpu.cfs_quota_us"))
	if err != nil {
		return 0, false, false
	}
	quota, err := strconv.ParseInt(string(bytes.TrimSpace(q)), 10, 64)
	if err != nil {
		return 0, false, true
	}
	if quota <= 0 {
		return 0, false, false
	}
	p, err := readSmall(filepath.Join(dir, "cpu.cfs_period_us"))
	if err != nil {
		return 0, false, false
	}
	period, err := strconv.ParseUint(string(bytes.TrimSpace(p)), 10, 64)
	if err != nil || period == 0 {
		return 0, false, true
	}
	return float64(quota) / float64(period), true, false
}

// counterSample is a cgroup CPU counter reading; ok is false when the
// counter could not be read.
type counterSample struct {
	seconds float64
	at      time.Time
	ok      bool
}

// containerSel returns, per container ID, the cgroup selection of the
// container's lowest PID.
func containerSel(procs map[int]*tracked) map[string]*tracked {
	first := map[string]*tracked{}
	for _, t := range procs {
		id := t.p.ContainerID
		if id == "" {
			continue
		}
		if f := first[id]; f == nil || t.p.PID < f.p.PID {
			first[id] = t
		}
	}
	return first
}

// sampleContainers reads each container's cgroup CPU counter.
func (s *scanner) sampleContainers(procs map[int]*tracked) map[string]counterSample {
	out := map[string]counterSample{}
	for id, t := range containerSel(procs) {
		sec, ok := s.roots.usage(t.cg)
		out[id] = counterSample{seconds: sec, at: time.Now(), ok: ok}
	}
	return out
}

// containerCPU computes the CPU use of each container that had a readable
// cgroup counter at both ends of the window.
func (s *scanner) containerCPU(procs map[int]*tracked, before map[string]counterSample) {
	s.containerCPUs = map[string]float64{}
	for id, t := range containerSel(procs) {
		b, had := before[id]
		if !had {
			continue // a container born during the window: its processes' sum
		}
		sec, ok := s.roots.usage(t.cg)
		if !b.ok || !ok || sec < b.seconds {
			s.skipped[SkipContainerCPU]++
			continue
		}
		elapsed := time.Since(b.at).Seconds()
		if elapsed <= 0 {
			continue
		}
		s.containerCPUs[id] = (sec - b.seconds) / elapsed
	}
}

// containers groups processes by container.
func (s *scanner) containers(procs map[int]*tracked) []*Container {
	byID := map[string]*Container{}
	for id, t := range containerSel(procs) {
		info := t.cg.info
		c := &Container{
			ID:         id,
			Runtime:    info.Runtime,
			PodUID:     info.PodUID,
			QoS:        info.QoS,
			CgroupPath: info.Path,
		}
		if l, bad := s.roots.limit(t.cg); bad {
			s.skipped[SkipContainerLimit]++
		} else {
			c.CPULimit = l
		}
		byID[id] = c
	}
	sum := map[string]float64{}
	for _, t := range procs {
		if c := byID[t.p.ContainerID]; c != nil {
			c.PIDs = append(c.PIDs, t.p.PID)
			sum[c.ID] += t.p.CPU
		}
	}
	out := make([]*Container, 0, len(byID))
	for id, c := range byID {
		slices.Sort(c.PIDs)
		if v, ok := s.containerCPUs[id]; ok {
			c.CPU = v
		} else {
			c.CPU = sum[id]
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Container) int { return strings.Compare(a.ID, b.ID) })
	return out
}
