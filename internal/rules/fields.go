package rules

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// kind is a field's type; it decides which operators and values apply.
type kind uint8

const (
	kString kind = iota
	kInt
	kFloat
	kTime  // evt.time: compared as nanoseconds since the epoch
	kIP    // one address
	kNet   // an address or two (fd.net: either side), compared with CIDRs
	kList  // several strings; an operator matches when any element does
	kConst // evt.dir: always "<"
)

func (k kind) String() string {
	switch k {
	case kString, kConst:
		return "string"
	case kInt:
		return "number"
	case kFloat:
		return "number"
	case kTime:
		return "time"
	case kIP:
		return "IP address"
	case kNet:
		return "network"
	case kList:
		return "list"
	}
	return "unknown"
}

// field is a field bound to its argument, ready to read an Event. Exactly
// the getter for its kind is set. Getters are plain functions over the
// struct: no reflection, no map and no allocation.
type field struct {
	name string // as written: proc.aname[2]
	kind kind
	str  func(*Event) string
	num  func(*Event) (int64, bool)
	flt  func(*Event) (float64, bool)
	ip   func(*Event) netip.Addr
	net  func(*Event) (netip.Addr, netip.Addr)
	list func(*Event) []string
}

// argKind says whether a field takes an argument in brackets.
type argKind uint8

const (
	argNone     argKind = iota
	argIndex            // proc.aname[N], optional
	argRequired         // k8s.pod.label[KEY]
)

type fieldSpec struct {
	name string
	kind kind
	arg  argKind
	desc string
	// bind returns the field for an argument ("" without one).
	bind func(arg string) (*field, error)
}

var fieldSpecs = map[string]*fieldSpec{}

func def(name string, k kind, desc string, f *field) {
	f.name, f.kind = name, k
	fieldSpecs[name] = &fieldSpec{name: name, kind: k, desc: desc, bind: func(string) (*field, error) { return f, nil }}
}

func defArg(name string, k kind, arg argKind, desc string, bind func(arg string) (*field, error)) {
	fieldSpecs[name] = &fieldSpec{name: name, kind: k, arg: arg, desc: desc, bind: bind}
}

func init() {
	def("evt.type", kString, "the event type: execve, connect, exit, davy.verdict, davy.cpu",
		&field{str: func(e *Event) string { return e.EvtType }})
	def("evt.time", kTime, "when the event happened (nanoseconds since the epoch in conditions)",
		&field{num: func(e *Event) (int64, bool) {
			if e.Time.IsZero() {
				return 0, false
			}
			return e.Time.UnixNano(), true
		}})
	def("evt.dir", kConst, `always "<": Davy's events are completed calls (Falco compatibility)`,
		&field{str: func(*Event) string { return "<" }})

	def("proc.name", kString, "the process name (comm)", &field{str: func(e *Event) string { return e.Proc.Name }})
	def("proc.exe", kString, "argv[0]", &field{str: func(e *Event) string { return e.Proc.Exe }})
	def("proc.exepath", kString, "the full path of the executable", &field{str: func(e *Event) string { return e.Proc.ExePath }})
	def("proc.cmdline", kString, "the command line, argv joined by spaces", &field{str: func(e *Event) string { return e.Proc.Cmdline }})
	def("proc.args", kString, "the arguments (argv[1:]) joined by spaces", &field{str: procArgs})
	def("proc.pid", kInt, "the process ID", &field{num: func(e *Event) (int64, bool) { return int64(e.Proc.PID), e.Proc.PID != 0 }})
	def("proc.ppid", kInt, "the parent's process ID", &field{num: func(e *Event) (int64, bool) { return int64(e.Proc.PPID), e.Proc.PPID != 0 }})
	def("proc.pname", kString, "the parent's name", &field{str: procPName})
	def("proc.pcmdline", kString, "the parent's command line", &field{str: func(e *Event) string { return e.Proc.PCmdline }})
	def("proc.cwd", kString, "the working directory", &field{str: func(e *Event) string { return e.Proc.Cwd }})
	defArg("proc.aname", kList, argIndex, "ancestor names: proc.aname[N] is the Nth ancestor (1 = parent, 0 = the process); bare, any ancestor", bindAname)

	def("user.uid", kInt, "the real user ID (present when the event has a process)", &field{num: func(e *Event) (int64, bool) { return int64(e.Proc.UID), e.Proc.PID != 0 }})
	def("user.name", kString, "the user name", &field{str: func(e *Event) string { return e.Proc.User }})

	def("container.id", kString, "the container ID (absent on the host)", &field{str: func(e *Event) string { return e.Container.ID }})
	def("container.name", kString, "the container name", &field{str: func(e *Event) string { return e.Container.Name }})
	def("container.image", kString, "the image reference", &field{str: func(e *Event) string { return e.Container.Image }})
	def("container.image.repository", kString, "the image repository", &field{str: func(e *Event) string { return e.Container.ImageRepository }})
	def("container.image.tag", kString, "the image tag", &field{str: func(e *Event) string { return e.Container.ImageTag }})
	defArg("container.label", kString, argRequired, "container.label[KEY]: a container label", func(key string) (*field, error) {
		return &field{str: func(e *Event) string { return labelValue(e.Container.Labels, key) }}, nil
	})

	def("k8s.ns.name", kString, "the pod's namespace", &field{str: func(e *Event) string { return e.K8s.Namespace }})
	def("k8s.pod.name", kString, "the pod's name", &field{str: func(e *Event) string { return e.K8s.Pod }})
	defArg("k8s.pod.label", kString, argRequired, "k8s.pod.label[KEY]: a pod label", func(key string) (*field, error) {
		return &field{str: func(e *Event) string { return labelValue(e.K8s.PodLabels, key) }}, nil
	})

	def("fd.name", kString, "the connection, client->server", &field{str: func(e *Event) string { return e.Fd.Name }})
	def("fd.l4proto", kString, "tcp or udp", &field{str: func(e *Event) string { return e.Fd.L4Proto }})
	def("fd.sip", kIP, "the server address (the remote peer of a connect)", &field{ip: func(e *Event) netip.Addr { return e.Fd.SIP }})
	def("fd.cip", kIP, "the client address", &field{ip: func(e *Event) netip.Addr { return e.Fd.CIP }})
	def("fd.sport", kInt, "the server port", &field{num: serverPort})
	def("fd.cport", kInt, "the client port", &field{num: clientPort})
	// fd.dip and fd.dport name the destination of a connect, which is the
	// server side: aliases kept for readers who think source/destination.
	def("fd.dip", kIP, "the destination of a connect: same as fd.sip", &field{ip: func(e *Event) netip.Addr { return e.Fd.SIP }})
	def("fd.dport", kInt, "the destination port of a connect: same as fd.sport", &field{num: serverPort})
	// Davy's connections are outbound: the remote side is the server.
	def("fd.rip", kIP, "the remote address: same as fd.sip", &field{ip: func(e *Event) netip.Addr { return e.Fd.SIP }})
	def("fd.rport", kInt, "the remote port: same as fd.sport", &field{num: serverPort})
	def("fd.lip", kIP, "the local address: same as fd.cip", &field{ip: func(e *Event) netip.Addr { return e.Fd.CIP }})
	def("fd.lport", kInt, "the local port: same as fd.cport", &field{num: clientPort})
	def("fd.rnet", kNet, "the remote address, compared with CIDRs: same as fd.snet", &field{net: func(e *Event) (netip.Addr, netip.Addr) { return e.Fd.SIP, netip.Addr{} }})
	def("fd.lnet", kNet, "the local address, compared with CIDRs: same as fd.cnet", &field{net: func(e *Event) (netip.Addr, netip.Addr) { return e.Fd.CIP, netip.Addr{} }})
	def("fd.sip.name", kList, "names the workload resolved to the server address", &field{list: func(e *Event) []string { return e.Fd.SIPNames }})
	def("fd.net", kNet, "either side's address, compared with CIDRs", &field{net: func(e *Event) (netip.Addr, netip.Addr) { return e.Fd.SIP, e.Fd.CIP }})
	def("fd.snet", kNet, "the server address, compared with CIDRs", &field{net: func(e *Event) (netip.Addr, netip.Addr) { return e.Fd.SIP, netip.Addr{} }})
	def("fd.cnet", kNet, "the client address, compared with CIDRs", &field{net: func(e *Event) (netip.Addr, netip.Addr) { return e.Fd.CIP, netip.Addr{} }})

	def("davy.verdict", kString, "Davy's verdict: miner, suspicious, clean", &field{str: func(e *Event) string { return e.Davy.Verdict }})
	def("davy.score", kInt, "the verdict's score, 0-100 (present with a verdict)", &field{num: func(e *Event) (int64, bool) { return int64(e.Davy.Score), e.Davy.Verdict != "" }})
	def("davy.evidence", kList, "evidence IDs, e.g. DAVY-I001", &field{list: func(e *Event) []string { return e.Davy.Evidence }})
	def("davy.cpu.ratio", kFloat, "CPU used over the CPU limit (or the cores) for the window", &field{flt: func(e *Event) (float64, bool) {
		return e.Davy.CPURatio, e.EvtType == EventCPU || e.Davy.CPURatio != 0
	}})
}

func serverPort(e *Event) (int64, bool) {
	return int64(e.Fd.SPort), e.Fd.SIP.IsValid() && e.Fd.SPort != 0
}

func clientPort(e *Event) (int64, bool) {
	return int64(e.Fd.CPort), e.Fd.CIP.IsValid() && e.Fd.CPort != 0
}

func procPName(e *Event) string {
	if e.Proc.PName != "" {
		return e.Proc.PName
	}
	if len(e.Proc.Ancestors) > 0 {
		return e.Proc.Ancestors[0]
	}
	return ""
}

var (
	anameList = &field{name: "proc.aname", kind: kList, list: func(e *Event) []string { return e.Proc.Ancestors }}
	anameSelf = &field{name: "proc.aname[0]", kind: kString, str: func(e *Event) string { return e.Proc.Name }}
)

func bindAname(arg string) (*field, error) {
	if arg == "" {
		return anameList, nil
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n < 0 || n > 1000 {
		return nil, fmt.Errorf("proc.aname[%s]: the argument must be an ancestor number from 0 to 1000", arg)
	}
	if n == 0 {
		return anameSelf, nil
	}
	return &field{name: "proc.aname[" + arg + "]", kind: kString, str: func(e *Event) string {
		if n <= len(e.Proc.Ancestors) {
			return e.Proc.Ancestors[n-1]
		}
		if n == 1 {
			return e.Proc.PName
		}
		return ""
	}}, nil
}

func labelValue(ls []Label, key string) string {
	for i := range ls {
		if ls[i].Key == key {
			return ls[i].Value
		}
	}
	return ""
}

// procArgs returns the arguments joined by spaces. The command line is
// normally argv joined by spaces, so the arguments are its tail: that tail
// is returned when it matches, which costs no allocation. Otherwise the
// arguments are joined.
func procArgs(e *Event) string {
	args := e.Proc.Args
	if len(args) == 0 {
		return ""
	}
	total := len(args) - 1
	for _, a := range args {
		total += len(a)
	}
	cl := e.Proc.Cmdline
	if len(cl) >= total {
		tail := cl[len(cl)-total:]
		if joinedEquals(tail, args) {
			return tail
		}
	}
	return strings.Join(args, " ")
}

func joinedEquals(s string, parts []string) bool {
	p := 0
	for i, a := range parts {
		if i > 0 {
			if s[p] != ' ' {
				return false
			}
			p++
		}
		if s[p:p+len(a)] != a {
			return false
		}
		p += len(a)
	}
	return true
}

// lookupField resolves a field as written in a condition or an output,
// with its optional [argument].
func lookupField(name string) (*field, error) {
	base, arg, hasArg := name, "", false
	if i := strings.IndexByte(name, '['); i >= 0 && strings.HasSuffix(name, "]") {
		base, arg, hasArg = name[:i], name[i+1:len(name)-1], true
	}
	spec, ok := fieldSpecs[base]
	if !ok {
		return nil, fmt.Errorf("unknown field %q", name)
	}
	switch {
	case hasArg && spec.arg == argNone:
		return nil, fmt.Errorf("field %q takes no argument", base)
	case !hasArg && spec.arg == argRequired:
		return nil, fmt.Errorf("field %q needs an argument: %s[KEY]", base, base)
	case hasArg && arg == "":
		return nil, fmt.Errorf("field %q: empty argument", name)
	}
	f, err := spec.bind(arg)
	if err != nil {
		return nil, err
	}
	if hasArg && spec.arg == argRequired {
		f.name = name
	}
	return f, nil
}

// FieldInfo describes a field for documentation and `davy rules fields`.
type FieldInfo struct {
	Name string
	Type string
	Desc string
}

// Fields lists the fields conditions and outputs can use, sorted by name.
func Fields() []FieldInfo {
	out := make([]FieldInfo, 0, len(fieldSpecs))
	for _, s := range fieldSpecs {
		n := s.name
		switch s.arg {
		case argIndex:
			n += "[N]"
		case argRequired:
			n += "[KEY]"
		}
		out = append(out, FieldInfo{Name: n, Type: s.kind.String(), Desc: s.desc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
