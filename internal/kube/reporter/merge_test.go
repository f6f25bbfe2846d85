package reporter

import (
	"strings"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/pods"
)

func TestNameIsStableAndBounded(t *testing.T) {
	if got := Name(pods.Owner{Kind: "Deployment", Name: "web"}); got != "deployment-web" {
		t.Errorf("Name = %q", got)
	}
	long := Name(pods.Owner{Kind: "Pod", Name: strings.Repeat("a", 260)})
	if len(long) > maxName || long != Name(pods.Owner{Kind: "Pod", Name: strings.Repeat("a", 260)}) {
		t.Errorf("long name %q (%d bytes) is not bounded and stable", long, len(long))
	}
	if long == Name(pods.Owner{Kind: "Pod", Name: strings.Repeat("a", 259) + "b"}) {
		t.Error("two long names collide")
	}
}

func ev(id, msg string) finding.Evidence { return finding.Evidence{ID: id, Message: msg} }

func TestMergeStatusKeepsTheWorstRecentVerdict(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var st v1alpha1.MinerReportStatus
	if !mergeStatus(&st, Observation{Verdict: finding.VerdictSuspicious, Score: 40, Evidence: []finding.Evidence{ev("DAVY-C001", "a")}}, "node-a", now) {
		t.Fatal("a first observation changed nothing")
	}
	mergeStatus(&st, Observation{Verdict: finding.VerdictMiner, Score: 90, Evidence: []finding.Evidence{ev("DAVY-N003", "b")}}, "node-b", now.Add(time.Minute))
	if st.Verdict != v1alpha1.VerdictMiner || st.Score != 90 || len(st.Evidence) != 1 || st.Evidence[0].ID != "DAVY-N003" {
		t.Errorf("after a miner: %+v", st)
	}
	// A milder verdict from another node does not lower a recent one...
	mergeStatus(&st, Observation{Verdict: finding.VerdictSuspicious, Score: 30}, "node-c", now.Add(2*time.Minute))
	if st.Verdict != v1alpha1.VerdictMiner || st.Score != 90 {
		t.Errorf("a suspicious observation lowered the verdict: %+v", st)
	}
	if got := strings.Join(st.ReportingNodes, ","); got != "node-a,node-b,node-c" {
		t.Errorf("reporting nodes = %s", got)
	}
	if !st.FirstSeen.Time.Equal(now) || !st.LastSeen.Time.Equal(now.Add(2*time.Minute)) {
		t.Errorf("first/last seen = %v/%v", st.FirstSeen, st.LastSeen)
	}
	// ...but does once the verdict has not been confirmed for staleAfter.
	mergeStatus(&st, Observation{Verdict: finding.VerdictSuspicious, Score: 30}, "node-c", now.Add(2*time.Minute+staleAfter+time.Second))
	if st.Verdict != v1alpha1.VerdictSuspicious || st.Score != 30 {
		t.Errorf("a stale verdict stood: %+v", st)
	}
	// Repeating the same observation changes only lastSeen.
	if mergeStatus(&st, Observation{Verdict: finding.VerdictSuspicious, Score: 30}, "node-c", now.Add(3*time.Hour)) {
		t.Error("a repeated observation reported a change")
	}
}

func TestMergeStatusBoundsWhatItKeeps(t *testing.T) {
	var st v1alpha1.MinerReportStatus
	now := time.Now()
	for i := range 100 {
		o := Observation{Verdict: finding.VerdictMiner, Score: 90, Evidence: []finding.Evidence{ev("DAVY-X"+strings.Repeat("9", i%40), strings.Repeat("m", 5000))},
			Actions: []v1alpha1.Action{{Action: "kill", Message: strings.Repeat("x", 3000)}}}
		mergeStatus(&st, o, "node-"+strings.Repeat("n", i), now)
	}
	if len(st.Actions) != maxActions || len(st.ReportingNodes) > maxNodes || len(st.Evidence) > maxEvidence {
		t.Errorf("actions %d, nodes %d, evidence %d", len(st.Actions), len(st.ReportingNodes), len(st.Evidence))
	}
	for _, e := range st.Evidence {
		if len(e.Message) > maxMessage {
			t.Fatalf("message of %d bytes kept", len(e.Message))
		}
	}
	if len(st.Actions[0].Message) > maxMessage {
		t.Errorf("action message of %d bytes kept", len(st.Actions[0].Message))
	}
}

func TestMergeSpecAddsContainersAndDigests(t *testing.T) {
	p := &pods.Pod{Namespace: "ns", Name: "web-1", Node: "node-a",
		Owners:     []pods.Owner{{Kind: "ReplicaSet", Name: "web-7"}, {Kind: "Deployment", Name: "web"}},
		Containers: []pods.Container{{ID: "c1", ImageID: "reg/web@sha256:aa"}}}
	s := spec(p, "c1")
	if s.Workload.Kind != "Deployment" || s.Workload.Name != "web" || len(s.Workload.Owners) != 2 || s.Workload.ImageDigests[0] != "sha256:aa" {
		t.Fatalf("spec = %+v", s.Workload)
	}
	if mergeSpec(&s, spec(p, "c1")) {
		t.Error("the same pod changed the spec")
	}
	if !mergeSpec(&s, spec(p, "c2")) || len(s.Workload.ContainerIDs) != 2 {
		t.Errorf("a second container was not added: %+v", s.Workload)
	}
}
