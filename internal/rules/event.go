package rules

import (
	"net/netip"
	"time"
)

// Event types Davy produces. Rules written for other Falco event types
// (open, openat, ...) load, but never match.
const (
	// EventExec is a process that has just executed a new program: Proc is
	// filled, and Davy the evidence already known about the process (the
	// content of its executable, its command line, its location).
	EventExec = "execve"
	// EventConnect is an outbound connection by a process: Proc and Fd are
	// filled; Fd.SIPNames holds the names the workload itself resolved to
	// the server address.
	EventConnect = "connect"
	// EventExit is a process that has exited: Proc is filled as it was.
	EventExit = "exit"
	// EventVerdict is a periodic verdict about a workload from Davy's
	// detectors: Davy.Verdict, Davy.Score and Davy.Evidence, with Container
	// and K8s (and Proc for a bare process on the host).
	EventVerdict = "davy.verdict"
	// EventCPU is a CPU sample of a workload over a window: Davy.CPURatio,
	// with Container and K8s.
	EventCPU = "davy.cpu"
)

// EventTypes lists the event types Davy produces.
var EventTypes = []string{EventExec, EventConnect, EventExit, EventVerdict, EventCPU}

// Event is one observation a ruleset is evaluated against. The caller fills
// the plain fields; the engine reads them directly, so an Event can be
// reused between calls to avoid allocating. A zero value means "absent": an
// empty string, a zero PID, an invalid netip.Addr, an empty slice.
type Event struct {
	// EvtType is one of the Event* constants (evt.type).
	EvtType string
	// Time is when the event happened (evt.time).
	Time time.Time

	Proc      Process
	Container Container
	K8s       K8s
	Fd        Fd
	Davy      Davy
}

// Process is the process an event is about.
type Process struct {
	Name    string   // proc.name: the command name (comm)
	Exe     string   // proc.exe: argv[0] as the process was started
	ExePath string   // proc.exepath: the full path of the executable (/memfd:x (deleted) for a memfd)
	Cmdline string   // proc.cmdline: argv joined by spaces
	Args    []string // argv[1:]; proc.args is them joined by spaces
	PID     int      // proc.pid
	PPID    int      // proc.ppid
	// PName and PCmdline describe the parent (proc.pname, proc.pcmdline);
	// PName falls back to Ancestors[0] when empty.
	PName    string
	PCmdline string
	// Ancestors are the names of the ancestors, parent first
	// (proc.aname[1] is Ancestors[0]; proc.aname matches any of them).
	Ancestors []string
	Cwd       string // proc.cwd
	// UID is the real user ID (user.uid); it is present when PID is set,
	// since 0 is root.
	UID  uint32
	User string // user.name
}

// Container is the container the event's workload runs in; ID is empty for
// a process on the host.
type Container struct {
	ID              string // container.id
	Name            string // container.name
	Image           string // container.image: the full reference
	ImageRepository string // container.image.repository
	ImageTag        string // container.image.tag
	Labels          []Label
}

// K8s is the pod the container belongs to.
type K8s struct {
	Namespace string // k8s.ns.name
	Pod       string // k8s.pod.name
	PodLabels []Label
}

// Label is one key=value label. Labels are a slice, not a map, so that
// reading one in a condition needs no hashing and an Event can be reused.
type Label struct {
	Key, Value string
}

// Fd is the connection of a connect event. As in Falco, S is the server
// side and C the client side; for an outbound connect, the server is the
// remote peer.
type Fd struct {
	Name     string     // fd.name, e.g. 10.0.0.5:41234->192.0.2.7:3333
	SIP      netip.Addr // fd.sip
	SPort    uint16     // fd.sport
	CIP      netip.Addr // fd.cip
	CPort    uint16     // fd.cport
	L4Proto  string     // fd.l4proto: tcp, udp
	SIPNames []string   // fd.sip.name: names the workload resolved to SIP
}

// Davy carries what Davy's detectors concluded.
type Davy struct {
	Verdict  string   // davy.verdict: miner, suspicious or clean
	Score    int      // davy.score (present when Verdict is set)
	Evidence []string // davy.evidence: evidence IDs such as DAVY-I001
	// CPURatio is CPU used over the CPU limit (or over the cores without a
	// limit) for the window (davy.cpu.ratio); present on davy.cpu events
	// or when not zero.
	CPURatio float64
}
