package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// Written by hand rather than by controller-gen: the types are few, and
// generating them would add a build of controller-tools to every change.
// TestDeepCopyIsDeep checks that no field is shared with the original.

// DeepCopyInto copies w into out.
func (w *Workload) DeepCopyInto(out *Workload) {
	*out = *w
	out.Owners = append([]OwnerRef(nil), w.Owners...)
	out.ContainerIDs = append([]string(nil), w.ContainerIDs...)
	out.ImageDigests = append([]string(nil), w.ImageDigests...)
}

// DeepCopyInto copies e into out.
func (e *Evidence) DeepCopyInto(out *Evidence) {
	*out = *e
	if e.Values != nil {
		out.Values = make(map[string]string, len(e.Values))
		for k, v := range e.Values {
			out.Values[k] = v
		}
	}
}

// DeepCopyInto copies s into out.
func (s *MinerReportStatus) DeepCopyInto(out *MinerReportStatus) {
	*out = *s
	if s.Evidence != nil {
		out.Evidence = make([]Evidence, len(s.Evidence))
		for i := range s.Evidence {
			s.Evidence[i].DeepCopyInto(&out.Evidence[i])
		}
	}
	out.FirstSeen = s.FirstSeen.DeepCopy()
	out.LastSeen = s.LastSeen.DeepCopy()
	if s.Actions != nil {
		out.Actions = make([]Action, len(s.Actions))
		for i := range s.Actions {
			out.Actions[i] = s.Actions[i]
			s.Actions[i].Time.DeepCopyInto(&out.Actions[i].Time)
		}
	}
	out.ReportingNodes = append([]string(nil), s.ReportingNodes...)
}

// DeepCopyInto copies r into out.
func (r *MinerReport) DeepCopyInto(out *MinerReport) {
	*out = *r
	out.TypeMeta = r.TypeMeta
	r.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	r.Spec.Workload.DeepCopyInto(&out.Spec.Workload)
	r.Status.DeepCopyInto(&out.Status)
}

// DeepCopy returns a deep copy of r.
func (r *MinerReport) DeepCopy() *MinerReport {
	if r == nil {
		return nil
	}
	out := new(MinerReport)
	r.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (r *MinerReport) DeepCopyObject() runtime.Object { return r.DeepCopy() }

// DeepCopyInto copies l into out.
func (l *MinerReportList) DeepCopyInto(out *MinerReportList) {
	*out = *l
	l.ListMeta.DeepCopyInto(&out.ListMeta)
	if l.Items != nil {
		out.Items = make([]MinerReport, len(l.Items))
		for i := range l.Items {
			l.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

// DeepCopy returns a deep copy of l.
func (l *MinerReportList) DeepCopy() *MinerReportList {
	if l == nil {
		return nil
	}
	out := new(MinerReportList)
	l.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (l *MinerReportList) DeepCopyObject() runtime.Object { return l.DeepCopy() }
