package v1alpha1

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDeepCopyIsDeep guards the hand-written deepcopy: a copy equals the
// original, and changing every slice, map and pointer of the copy leaves the
// original as it was.
func TestDeepCopyIsDeep(t *testing.T) {
	now := metav1.NewTime(time.Unix(1700000000, 0))
	orig := &MinerReport{
		ObjectMeta: metav1.ObjectMeta{Name: "r", Labels: map[string]string{"a": "b"}},
		Spec: MinerReportSpec{Workload: Workload{
			Kind: "Deployment", Namespace: "ns", Name: "w",
			Owners:       []OwnerRef{{Kind: "ReplicaSet", Name: "w-1"}},
			ContainerIDs: []string{"c1"}, ImageDigests: []string{"sha256:1"},
		}},
		Status: MinerReportStatus{
			Verdict: VerdictMiner, Score: 90,
			Evidence:       []Evidence{{ID: "DAVY-C001", Values: map[string]string{"k": "v"}}},
			FirstSeen:      &now,
			LastSeen:       &now,
			Actions:        []Action{{Action: "alert", Time: now}},
			ReportingNodes: []string{"n1"},
		},
	}
	cp := orig.DeepCopy()
	if !reflect.DeepEqual(orig, cp) {
		t.Fatalf("copy differs:\n%+v\n%+v", orig, cp)
	}
	cp.Labels["a"] = "x"
	cp.Spec.Workload.Owners[0].Name = "x"
	cp.Spec.Workload.ContainerIDs[0] = "x"
	cp.Spec.Workload.ImageDigests[0] = "x"
	cp.Status.Evidence[0].Values["k"] = "x"
	cp.Status.FirstSeen.Time = time.Unix(1, 0)
	cp.Status.LastSeen.Time = time.Unix(1, 0)
	cp.Status.Actions[0].Action = "x"
	cp.Status.ReportingNodes[0] = "x"
	if orig.Labels["a"] != "b" || orig.Spec.Workload.Owners[0].Name != "w-1" ||
		orig.Spec.Workload.ContainerIDs[0] != "c1" || orig.Spec.Workload.ImageDigests[0] != "sha256:1" ||
		orig.Status.Evidence[0].Values["k"] != "v" || !orig.Status.FirstSeen.Equal(&now) ||
		!orig.Status.LastSeen.Equal(&now) || orig.Status.Actions[0].Action != "alert" ||
		orig.Status.ReportingNodes[0] != "n1" {
		t.Fatalf("changing the copy changed the original: %+v", orig)
	}

	list := &MinerReportList{Items: []MinerReport{*orig}}
	lcp := list.DeepCopyObject().(*MinerReportList)
	lcp.Items[0].Status.ReportingNodes[0] = "y"
	if list.Items[0].Status.ReportingNodes[0] != "n1" {
		t.Fatal("list copy shares items with the original")
	}
}
