package agent

import (
	"slices"
	"strings"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/rules"
)

// ancestorDepth is how many ancestors proc.aname[N] can reach.
const ancestorDepth = 6

// procInfo is what the agent knows of a process, kept from its exec for
// its connections and its exit.
type procInfo struct {
	key       string // the workload, for deduplication
	proc      rules.Process
	container rules.Container
	k8s       rules.K8s
	pod       *pods.Pod // nil outside Kubernetes pods or without --kube
	verdict   string
	score     int
	evidence  []string
	cpuRatio  float64
}

// describe turns a process and the assessment of its workload into the
// fields rules read.
func (a *Agent) describe(w *detect.Workload, p *host.Process, as *detect.Assessment) *procInfo {
	info := &procInfo{key: w.Key(), verdict: string(as.Verdict), score: as.Score, evidence: evidenceIDs(as)}
	rp := rules.Process{Name: p.Comm, ExePath: p.Exe, PID: p.PID, PPID: p.PPID, Cwd: p.Cwd}
	if p.ExeDeleted {
		rp.ExePath += " (deleted)"
	}
	if len(p.Cmdline) > 0 {
		rp.Exe = p.Cmdline[0]
		rp.Args = p.Cmdline[1:]
		rp.Cmdline = strings.Join(append([]string{p.Comm}, p.Cmdline[1:]...), " ")
	} else {
		rp.Cmdline = p.Comm
	}
	if p.UID >= 0 {
		rp.UID = uint32(p.UID)
		rp.User = a.users.name(p.UID)
	}
	for i, anc := range a.ancestors.lineage(p.PPID, ancestorDepth) {
		rp.Ancestors = append(rp.Ancestors, anc.Comm)
		if i == 0 {
			rp.PPID, rp.PName = anc.PID, anc.Comm
			rp.PCmdline = strings.Join(append([]string{anc.Comm}, tail(anc.Cmdline)...), " ")
		}
	}
	info.proc = rp
	if w.Container != nil {
		info.container = rules.Container{ID: w.Container.ID, Name: w.Name}
		info.cpuRatio = w.Container.CPURatio()
	} else if p.ContainerID != "" {
		info.container = rules.Container{ID: p.ContainerID, Name: w.Name}
	}
	a.enrich(w, info)
	return info
}

// enrich adds the pod of the workload's container, when the agent watches
// the node's pods.
func (a *Agent) enrich(w *detect.Workload, info *procInfo) {
	if a.o.Pods == nil || info.container.ID == "" {
		return
	}
	var podUID string
	if w.Container != nil {
		podUID = w.Container.PodUID
	}
	pod, ok := a.o.Pods.Lookup(info.container.ID, podUID)
	if !ok {
		return
	}
	info.pod = pod
	info.k8s = rules.K8s{Namespace: pod.Namespace, Pod: pod.Name, PodLabels: podLabels(pod.Labels)}
	if c, ok := pod.Container(info.container.ID); ok {
		info.container.Name = c.Name
		info.container.Image = c.Image
		info.container.ImageRepository, info.container.ImageTag = splitImage(c.Image)
	}
}

// podLabels sorts a pod's labels into the slice rules read.
func podLabels(m map[string]string) []rules.Label {
	out := make([]rules.Label, 0, len(m))
	for k, v := range m {
		out = append(out, rules.Label{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b rules.Label) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// splitImage splits "registry:5000/app:1.2@sha256:..." into its repository
// and tag; the digest, if any, is neither.
func splitImage(ref string) (repo, tag string) {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	// A colon after the last slash starts the tag; one before it is a port.
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

func tail(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	return args[1:]
}

// ruleEvent builds the event rules see. Slices are shared with info, which
// is never modified after describe.
func (a *Agent) ruleEvent(typ string, at time.Time, info *procInfo) rules.Event {
	if at.IsZero() {
		at = time.Now()
	}
	return rules.Event{
		EvtType:   typ,
		Time:      at,
		Proc:      info.proc,
		Container: info.container,
		K8s:       info.k8s,
		Davy:      rules.Davy{Verdict: info.verdict, Score: info.score, Evidence: info.evidence, CPURatio: info.cpuRatio},
	}
}

func evidenceIDs(as *detect.Assessment) []string {
	var ids []string
	seen := map[string]bool{}
	for _, e := range as.Evidence {
		if !seen[e.ID] {
			seen[e.ID] = true
			ids = append(ids, e.ID)
		}
	}
	return ids
}
