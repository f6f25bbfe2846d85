// Package host takes a snapshot of one machine: its processes, the containers
// they run in, their CPU use over a sampling window, and their sockets.
// It makes observations only; judging them is the detectors' job.
package host

import (
	"net/netip"
	"time"
)

// Process is one process as seen through procfs.
type Process struct {
	PID  int
	PPID int
	// Comm is the kernel's short name (/proc/PID/comm, read from /proc/PID/stat
	// with every byte kept), which a process can set.
	Comm string
	// Exe is the target of /proc/PID/exe with any " (deleted)" suffix removed.
	Exe        string
	ExeDeleted bool
	// ExeMemfd is set when the executable is an anonymous memory file.
	ExeMemfd bool
	// ExeFile identifies the executable's content for caching.
	ExeFile FileID
	Cmdline []string
	// CmdlineTruncated is set when the command line was cut to the read
	// limits (1 MiB of /proc/PID/cmdline, 16384 arguments).
	CmdlineTruncated bool
	Cwd              string
	// UID owns /proc/PID (the effective UID); -1 if it could not be read.
	UID   int
	Start time.Time
	// StartTicks is the start time in clock ticks after boot, as the
	// kernel gives it: with PID, it names one process.
	StartTicks uint64
	Threads    int
	// NetNS is the inode of the process's network namespace (0 if unknown).
	NetNS uint64
	// ContainerID is empty for processes outside a container.
	ContainerID string
	// CgroupPath is the process's cgroup (v2 unified path, or v1 cpu controller path).
	CgroupPath string
	// CPU is the process's CPU use in cores averaged over the window (from
	// its start if it began during the window). Without a window it is the
	// average since the process started.
	CPU float64
	// ThreadCPU is the CPU use in cores of each thread over the window, in the
	// order of ThreadIDs. Both are nil when the snapshot had no window.
	ThreadCPU []float64
	// ThreadIDs are the thread IDs that ThreadCPU describes, ascending.
	ThreadIDs []int
	// Sockets are the TCP and UDP sockets this process holds.
	Sockets []Socket
	// Exited is set on a process known only from an event because it ended
	// before /proc could be read: PID, PPID, Comm and Exe (the path it
	// executed, on the host) are all there is, and /proc/PID is not its.
	Exited bool
}

// FileID identifies a file's content well enough to cache scan results.
type FileID struct {
	Dev   uint64
	Inode uint64
	Size  int64
	Mtime int64 // UnixNano
}

// Runtime names a container runtime, as inferred from the cgroup path.
type Runtime string

// Runtimes recognised from cgroup paths.
const (
	RuntimeContainerd Runtime = "containerd"
	RuntimeCRIO       Runtime = "cri-o"
	RuntimeDocker     Runtime = "docker"
	RuntimePodman     Runtime = "podman"
	RuntimeUnknown    Runtime = "unknown"
)

// CgroupInfo is what a cgroup path says about its container.
type CgroupInfo struct {
	ContainerID string
	Runtime     Runtime
	// PodUID and QoS are set when the path is a kubelet pod cgroup.
	PodUID string
	QoS    string // "guaranteed", "burstable" or "besteffort"
	// Path is the container's own cgroup: the input path cut after the
	// component that names the container (or its monitor). Sub-cgroups such
	// as ".../libpod-ID.scope/container" are cut off. Empty without a container.
	Path string
	// MonitorOf is set, instead of ContainerID, when the path is a runtime's
	// monitor cgroup (crio-conmon-ID, libpod-conmon-ID): the ID it watches.
	MonitorOf string
}

// Container is a group of processes sharing a container cgroup.
type Container struct {
	ID      string
	Runtime Runtime
	PodUID  string
	QoS     string
	// CgroupPath is the container's cgroup path relative to the cgroup root.
	CgroupPath string
	PIDs       []int
	// CPU is the container's CPU use in cores over the window (from the cgroup
	// counter when readable, else the sum of its processes).
	CPU float64
	// CPULimit is the CPU limit in cores; 0 means no limit.
	CPULimit float64
}

// CPURatio is the container's CPU use relative to its limit, or 0 without a limit.
func (c *Container) CPURatio() float64 {
	if c.CPULimit <= 0 {
		return 0
	}
	return c.CPU / c.CPULimit
}

// Socket is one TCP or UDP socket. Local and Remote are as the kernel
// reports them: tcp6 and udp6 sockets may hold IPv4-mapped addresses
// (Addr().Unmap() gives the IPv4 form).
type Socket struct {
	Proto  string // "tcp", "tcp6", "udp", "udp6"
	Local  netip.AddrPort
	Remote netip.AddrPort
	// State is the TCP state name ("ESTABLISHED", "LISTEN", ...); empty for UDP.
	State string
	Inode uint64
	UID   int
}

// Snapshot is one look at the machine.
type Snapshot struct {
	Taken      time.Time
	Window     time.Duration
	CPUs       int
	Processes  []*Process
	Containers []*Container
	// Skipped counts entries that could not be read, by reason, so a partial
	// snapshot says what it missed instead of failing. The reasons are the
	// Skip* constants: those marked "dropped" leave a process out, the others
	// leave one field of a kept process empty.
	Skipped map[string]int
}

// Process returns the process with the given PID, or nil.
func (s *Snapshot) Process(pid int) *Process {
	for _, p := range s.Processes {
		if p.PID == pid {
			return p
		}
	}
	return nil
}
