package reporter_test

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
	"github.com/davyproject/davy/internal/testenv/kube"
)

// Two nodes running pods of one Deployment report it at once, many times:
// one report comes of it, with both nodes, the worst verdict, and one
// Warning Event per miner pod.
func TestNodesShareOneReportPerWorkload(t *testing.T) {
	cfg := kube.APIServer(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	scheme := runtime.NewScheme()
	must(t, clientgoscheme.AddToScheme(scheme))
	must(t, v1alpha1.AddToScheme(scheme))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	ns := "mine"
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	must(t, err)
	owners := []pods.Owner{{Kind: "ReplicaSet", Name: "calc-5f"}, {Kind: "Deployment", Name: "calc"}}
	var ps []*pods.Pod
	for i, node := range []string{"node-a", "node-b"} {
		p, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "calc-5f-" + node},
			Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "main", Image: "calc:1"}}},
		}, metav1.CreateOptions{})
		must(t, err)
		ps = append(ps, &pods.Pod{Namespace: ns, Name: p.Name, UID: p.UID, Node: node, Owners: owners,
			Containers: []pods.Container{{ID: string(rune('a'+i)) + "1", Name: "main", ImageID: "calc@sha256:0123"}}})
	}

	var reps []*reporter.Reporter
	var wg sync.WaitGroup
	for i, node := range []string{"node-a", "node-b"} {
		rec, stop := reporter.NewRecorder(cs, node)
		t.Cleanup(stop)
		r := reporter.New(reporter.Options{Client: c, Events: rec, Node: node, MinInterval: time.Hour})
		reps = append(reps, r)
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx) }()
		for range 20 {
			r.Report(reporter.Observation{Pod: ps[i], ContainerID: ps[i].Containers[0].ID, Verdict: finding.VerdictSuspicious, Score: 40,
				Evidence: []finding.Evidence{{ID: "DAVY-C001", Message: "hot"}}})
		}
		r.Report(reporter.Observation{Pod: ps[i], ContainerID: ps[i].Containers[0].ID, Verdict: finding.VerdictMiner, Score: 95,
			Evidence: []finding.Evidence{{ID: "DAVY-N003", Message: "stratum login"}}})
	}
	t.Cleanup(wg.Wait)
	t.Cleanup(cancel)

	key := types.NamespacedName{Namespace: ns, Name: "deployment-calc"}
	var rep v1alpha1.MinerReport
	waitFor(t, "a miner report from both nodes", func() bool {
		if err := c.Get(ctx, key, &rep); err != nil {
			return false
		}
		return rep.Status.Verdict == v1alpha1.VerdictMiner && len(rep.Status.ReportingNodes) == 2
	})
	if rep.Spec.Workload.Kind != "Deployment" || rep.Spec.Workload.Name != "calc" || len(rep.Spec.Workload.ContainerIDs) != 2 {
		t.Errorf("spec = %+v", rep.Spec.Workload)
	}
	if rep.Status.Score != 95 || len(rep.Status.Evidence) == 0 || rep.Status.Evidence[0].ID != "DAVY-N003" {
		t.Errorf("status = %+v", rep.Status)
	}
	var list v1alpha1.MinerReportList
	must(t, c.List(ctx, &list, client.InNamespace(ns)))
	if len(list.Items) != 1 {
		t.Errorf("%d reports for one workload", len(list.Items))
	}
	// 21 observations per node were folded into very few writes.
	for i, r := range reps {
		if s := r.Stats(); s.Writes > 3 || s.Errors > 0 && s.Writes == 0 {
			t.Errorf("node %d: %+v", i, s)
		}
	}

	waitFor(t, "a MinerDetected event on each pod", func() bool {
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=" + reporter.ReasonMinerDetected})
		if err != nil {
			return false
		}
		seen := map[string]bool{}
		for _, e := range evs.Items {
			if e.Type == corev1.EventTypeWarning && e.InvolvedObject.Kind == "Pod" {
				seen[e.InvolvedObject.Name] = true
			}
		}
		return seen[ps[0].Name] && seen[ps[1].Name]
	})
}

// An API server that refuses the write (here: no such namespace) is
// retried with backoff and counted; nothing is lost from other reports.
func TestWriteErrorsAreRetriedAndCounted(t *testing.T) {
	cfg := kube.APIServer(t)
	scheme := runtime.NewScheme()
	must(t, v1alpha1.AddToScheme(scheme))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := reporter.New(reporter.Options{Client: c, Node: "node-a"})
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	bad := &pods.Pod{Namespace: "absent", Name: "x", UID: "u1"}
	good := &pods.Pod{Namespace: "default", Name: "y", UID: "u2"}
	r.Report(reporter.Observation{Pod: bad, Verdict: finding.VerdictMiner, Score: 90})
	r.Report(reporter.Observation{Pod: good, Verdict: finding.VerdictMiner, Score: 90})
	waitFor(t, "an error and a write", func() bool { s := r.Stats(); return s.Errors >= 1 && s.Writes >= 1 })
	var rep v1alpha1.MinerReport
	must(t, c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "pod-y"}, &rep))
	cancel()
	<-done
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
