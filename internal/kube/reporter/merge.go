package reporter

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/pods"
)

// Limits of the CRD schema (deploy/crds/davy.dev_minerreports.yaml); a
// report is trimmed to them, oldest entries first, rather than refused.
const (
	maxOwners       = 8
	maxContainerIDs = 64
	maxDigests      = 64
	maxEvidence     = 64
	maxActions      = 32
	maxNodes        = 256
	maxMessage      = 1024
	maxValue        = 512
	maxName         = 253
)

// staleAfter is how long a verdict stands without being seen again: after
// that, a milder verdict replaces it instead of being outranked by it.
const staleAfter = time.Hour

// Name is the report's object name for a workload: its kind and name, so
// that every node reporting the workload writes the same object.
func Name(w pods.Owner) string {
	n := strings.ToLower(w.Kind) + "-" + w.Name
	if len(n) <= maxName {
		return n
	}
	sum := sha256.Sum256([]byte(n))
	return n[:maxName-17] + "-" + hex.EncodeToString(sum[:8])
}

// spec describes the workload of a pod.
func spec(p *pods.Pod, containerID string) v1alpha1.MinerReportSpec {
	w := p.Workload()
	wl := v1alpha1.Workload{Kind: w.Kind, Namespace: p.Namespace, Name: w.Name, Node: p.Node}
	for _, o := range p.Owners {
		if len(wl.Owners) < maxOwners {
			wl.Owners = append(wl.Owners, v1alpha1.OwnerRef{Kind: o.Kind, Name: o.Name})
		}
	}
	if containerID != "" {
		wl.ContainerIDs = []string{containerID}
	}
	wl.ImageDigests = p.ImageDigests()
	return v1alpha1.MinerReportSpec{Workload: wl}
}

// mergeSpec adds what a new observation knows of the workload; it reports
// whether anything changed.
func mergeSpec(dst *v1alpha1.MinerReportSpec, src v1alpha1.MinerReportSpec) bool {
	d, s := &dst.Workload, src.Workload
	changed := false
	if len(s.Owners) > len(d.Owners) {
		d.Owners, changed = s.Owners, true
	}
	if d.Node == "" && s.Node != "" {
		d.Node, changed = s.Node, true
	}
	for _, id := range s.ContainerIDs {
		if !slices.Contains(d.ContainerIDs, id) {
			d.ContainerIDs, changed = appendBounded(d.ContainerIDs, id, maxContainerIDs), true
		}
	}
	for _, dg := range s.ImageDigests {
		if !slices.Contains(d.ImageDigests, dg) {
			d.ImageDigests, changed = appendBounded(d.ImageDigests, dg, maxDigests), true
		}
	}
	return changed
}

// mergeStatus folds one node's observation into the shared status. The
// worst recent verdict stands; evidence of equal verdicts accumulates. It
// reports whether more than lastSeen changed.
func mergeStatus(st *v1alpha1.MinerReportStatus, o Observation, node string, now time.Time) bool {
	changed := false
	cur := finding.Verdict(st.Verdict)
	stale := st.LastSeen == nil || now.Sub(st.LastSeen.Time) > staleAfter
	switch {
	case st.Verdict == "" || o.Verdict.Rank() > cur.Rank() || (stale && o.Verdict != cur):
		st.Verdict, st.Score, st.Evidence = v1alpha1.Verdict(o.Verdict), int32(o.Score), nil
		changed = true
	case o.Verdict == cur && int32(o.Score) > st.Score:
		st.Score, changed = int32(o.Score), true
	}
	if o.Verdict == cur || changed {
		for _, e := range o.Evidence {
			if addEvidence(st, e) {
				changed = true
			}
		}
	}
	if node != "" && !slices.Contains(st.ReportingNodes, node) {
		st.ReportingNodes = appendBounded(st.ReportingNodes, node, maxNodes)
		slices.Sort(st.ReportingNodes)
		changed = true
	}
	for _, a := range o.Actions {
		a.Message = cut(a.Message, maxMessage)
		st.Actions = appendBounded(st.Actions, a, maxActions)
		changed = true
	}
	t := metav1.NewTime(now.UTC().Truncate(time.Second))
	if st.FirstSeen == nil {
		st.FirstSeen, changed = &t, true
	}
	st.LastSeen = &t
	return changed
}

// addEvidence adds or refreshes one piece of evidence, keyed by ID.
func addEvidence(st *v1alpha1.MinerReportStatus, e finding.Evidence) bool {
	ev := v1alpha1.Evidence{ID: e.ID, Severity: string(finding.SeverityOf(e.ID)), Message: cut(e.Message, maxMessage)}
	if len(e.Values) > 0 {
		ev.Values = make(map[string]string, len(e.Values))
		for k, v := range e.Values {
			ev.Values[k] = cut(v, maxValue)
		}
	}
	for i := range st.Evidence {
		if st.Evidence[i].ID == ev.ID {
			if st.Evidence[i].Message == ev.Message {
				return false
			}
			st.Evidence[i] = ev
			return true
		}
	}
	st.Evidence = appendBounded(st.Evidence, ev, maxEvidence)
	return true
}

// appendBounded appends and drops the oldest entries beyond max.
func appendBounded[T any](s []T, v T, max int) []T {
	s = append(s, v)
	if len(s) > max {
		s = slices.Delete(s, 0, len(s)-max)
	}
	return s
}

// cut keeps s within n bytes, the ellipsis finding.Cut adds included.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return finding.Cut(s, n-len("…"))
}
