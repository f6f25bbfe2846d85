package host

import "strings"

// Limits on what ParseCgroupPath looks at. Real paths are far shorter; an
// input over a limit says nothing about a container.
const (
	maxCgroupPathLen        = 4096
	maxCgroupPathComponents = 128
)

// QoS classes of Kubernetes pods.
const (
	QoSGuaranteed = "guaranteed"
	QoSBurstable  = "burstable"
	QoSBestEffort = "besteffort"
)

// ParseCgroupPath reads what a cgroup path (a line of /proc/PID/cgroup
// without "ID:controllers:") says about a container. It knows cgroup v1 and
// v2 paths with cgroupfs and systemd naming as written by containerd (CRI and
// plain namespaces), CRI-O, Docker, Podman and the kubelet. It is pure and
// never fails: a path it does not recognise yields an empty CgroupInfo.
//
// Nested containers (a pod inside a kind node) yield the innermost one. The
// monitor cgroups of CRI-O and Podman (crio-conmon-ID, libpod-conmon-ID) are
// not containers: they set MonitorOf and Runtime but no ContainerID.
func ParseCgroupPath(path string) CgroupInfo {
	if len(path) > maxCgroupPathLen {
		return CgroupInfo{}
	}
	var comps [maxCgroupPathComponents]string
	n := 0
	for rest := path; rest != ""; {
		var c string
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			c, rest = rest[:i], rest[i+1:]
		} else {
			c, rest = rest, ""
		}
		if c == "" || c == "." || c == ".." {
			// ".." appears when the cgroup lies outside the reader's
			// cgroup namespace; it names nothing.
			continue
		}
		if n == len(comps) {
			return CgroupInfo{}
		}
		comps[n] = c
		n++
	}

	var info CgroupInfo
	kube := -1   // index of the innermost kubepods root component
	qos := ""    // QoS class component seen after kube
	qosIdx := -1 // its index
	pod, podQoS := "", ""
	podIdx := -1
	for i := 0; i < n; i++ {
		c := comps[i]
		if isKubepodsRoot(c) {
			kube, qos, qosIdx, pod, podIdx = i, "", -1, "", -1
			continue
		}
		if kube >= 0 {
			if q := qosComponent(c); q != "" && i == kube+1 {
				qos, qosIdx = q, i
				continue
			}
			if uid, q, ok := podComponent(c); ok {
				pod, podIdx = uid, i
				switch {
				case q != "":
					podQoS = q
				case qosIdx >= 0 && i == qosIdx+1:
					podQoS = qos
				case i == kube+1:
					podQoS = QoSGuaranteed
				default:
					podQoS = ""
				}
				continue
			}
		}
		parent := ""
		if i > 0 {
			parent = comps[i-1]
		}
		id, rt, monitor, uid, q, ok := containerComponent(c, parent, i, podIdx >= 0 && i == podIdx+1)
		if !ok {
			continue
		}
		info = CgroupInfo{Runtime: rt, Path: joinComponents(comps[:i+1])}
		if monitor {
			info.MonitorOf = id
		} else {
			info.ContainerID = id
		}
		switch {
		case uid != "":
			info.PodUID, info.QoS = uid, q
		case podIdx >= 0 && podIdx == i-1:
			info.PodUID, info.QoS = pod, podQoS
		}
	}
	if info.ContainerID == "" && info.MonitorOf == "" && pod != "" {
		// A process in the pod cgroup itself, outside any container.
		info.PodUID, info.QoS = pod, podQoS
	}
	return info
}

func joinComponents(c []string) string {
	var b strings.Builder
	for _, s := range c {
		b.WriteByte('/')
		b.WriteString(s)
	}
	return b.String()
}

// isKubepodsRoot reports whether c is the kubelet's root pods cgroup:
// "kubepods" (cgroupfs), "kubepods.slice" or a nested systemd name such as
// "kubelet-kubepods.slice".
func isKubepodsRoot(c string) bool {
	return c == "kubepods" || c == "kubepods.slice" || strings.HasSuffix(c, "-kubepods.slice")
}

// qosComponent returns the QoS class that a component under kubepods names.
func qosComponent(c string) string {
	switch {
	case c == "burstable" || strings.HasSuffix(c, "kubepods-burstable.slice"):
		return QoSBurstable
	case c == "besteffort" || strings.HasSuffix(c, "kubepods-besteffort.slice"):
		return QoSBestEffort
	}
	return ""
}

// podComponent recognises a pod cgroup: "pod<uid>" (cgroupfs) or
// "...kubepods[-qos]-pod<uid_with_underscores>.slice" (systemd). For the
// systemd form the QoS class is read from the name; "" means "decide from
// the position".
func podComponent(c string) (uid, qos string, ok bool) {
	if name, found := strings.CutSuffix(c, ".slice"); found {
		i := strings.LastIndex(name, "-pod")
		if i < 0 || !strings.Contains(name[:i], "kubepods") {
			return "", "", false
		}
		uid = strings.ReplaceAll(name[i+len("-pod"):], "_", "-")
		if !isPodUID(uid) {
			return "", "", false
		}
		switch prefix := name[:i]; {
		case strings.HasSuffix(prefix, "-burstable"):
			qos = QoSBurstable
		case strings.HasSuffix(prefix, "-besteffort"):
			qos = QoSBestEffort
		case strings.HasSuffix(prefix, "kubepods"):
			qos = QoSGuaranteed
		}
		return uid, qos, true
	}
	if uid, found := strings.CutPrefix(c, "pod"); found && isPodUID(uid) {
		return uid, "", true
	}
	return "", "", false
}

// isPodUID accepts a Kubernetes pod UID: a UUID (36 characters with dashes)
// or the 32 hex digits of a static pod's hash.
func isPodUID(s string) bool {
	if len(s) != 36 && len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			if len(s) == 32 || (i != 8 && i != 13 && i != 18 && i != 23) {
				return false
			}
			continue
		}
		if len(s) == 36 && (i == 8 || i == 13 || i == 18 || i == 23) {
			return false
		}
		if !isHexDigit(c) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
}

// isContainerID accepts the 64 lowercase hex digits that containerd, CRI-O,
// Docker and Podman all use.
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

// Name prefixes of container cgroups, longest first where one prefixes another.
var containerPrefixes = []struct {
	prefix  string
	runtime Runtime
	monitor bool
}{
	{"cri-containerd-", RuntimeContainerd, false},
	{"crio-conmon-", RuntimeCRIO, true},
	{"crio-", RuntimeCRIO, false},
	{"libpod-conmon-", RuntimePodman, true},
	{"libpod-", RuntimePodman, false},
	{"docker-", RuntimeDocker, false},
	{"nerdctl-", RuntimeContainerd, false},
}

// Runtime names in the "slice:prefix:id" form that runc accepts as a systemd
// cgroupsPath and that shows up verbatim in some v1 hierarchies.
var colonPrefixes = map[string]Runtime{
	"cri-containerd": RuntimeContainerd,
	"crio":           RuntimeCRIO,
	"docker":         RuntimeDocker,
	"libpod":         RuntimePodman,
}

// containerComponent recognises one path component that names a container
// (or a runtime monitor). parent is the previous component, depth the
// component's index, inPod says the parent is a pod cgroup.
func containerComponent(c, parent string, depth int, inPod bool) (id string, rt Runtime, monitor bool, podUID, qos string, ok bool) {
	name := strings.TrimSuffix(c, ".scope")
	for _, p := range containerPrefixes {
		if rest, found := strings.CutPrefix(name, p.prefix); found {
			if !isContainerID(rest) {
				return "", "", false, "", "", false
			}
			return rest, p.runtime, p.monitor, "", "", true
		}
	}
	if isContainerID(c) {
		switch {
		case parent == "docker":
			return c, RuntimeDocker, false, "", "", true
		case parent == "libpod_parent":
			return c, RuntimePodman, false, "", "", true
		case inPod:
			// kubelet with the cgroupfs driver; containerd is by far the
			// most common runtime that writes bare IDs there.
			return c, RuntimeContainerd, false, "", "", true
		case depth == 1:
			// Plain containerd: /<namespace>/<id>, e.g. /default/<id>.
			return c, RuntimeContainerd, false, "", "", true
		}
		return c, RuntimeUnknown, false, "", "", true
	}
	// "kubepods-burstable-pod<uid>.slice:cri-containerd:<id>"
	if strings.Count(c, ":") == 2 {
		f := strings.SplitN(c, ":", 3)
		r, known := colonPrefixes[f[1]]
		if !known || !isContainerID(f[2]) {
			return "", "", false, "", "", false
		}
		if uid, q, isPod := podComponent(f[0]); isPod {
			podUID, qos = uid, q
		}
		return f[2], r, false, podUID, qos, true
	}
	return "", "", false, "", "", false
}
