package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/controller"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
	"github.com/davyproject/davy/internal/testenv"
	"github.com/davyproject/davy/internal/testenv/kube"
)

// cluster is an API server with the controller's manager running on it.
type cluster struct {
	t      *testing.T
	ctx    context.Context
	c      client.Client // the manager's cached client
	direct client.Client
	cs     kubernetes.Interface
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	cfg := kube.APIServer(t)
	scheme := runtime.NewScheme()
	must(t, clientgoscheme.AddToScheme(scheme))
	must(t, v1alpha1.AddToScheme(scheme))
	mgr, err := controller.NewManager(cfg, controller.ManagerOptions{Scheme: scheme})
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	direct, err := client.New(cfg, client.Options{Scheme: scheme})
	must(t, err)
	return &cluster{t: t, ctx: ctx, c: mgr.GetClient(), direct: direct, cs: kubernetes.NewForConfigOrDie(cfg)}
}

func (k *cluster) create(o client.Object) {
	k.t.Helper()
	must(k.t, k.direct.Create(k.ctx, o))
}

// deployment creates a Deployment with its ReplicaSet and one running pod
// reporting container id, as the controllers and kubelet would.
func (k *cluster) deployment(ns, name, containerID string, lbls map[string]string) *corev1.Pod {
	k.t.Helper()
	k.namespace(ns)
	sel := map[string]string{"app": name}
	for key, v := range lbls {
		sel[key] = v
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "calc:1"}}}}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: tmpl}}
	k.create(dep)
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-7f", OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: tmpl}}
	k.create(rs)
	return k.pod(ns, name+"-7f-x1", containerID, sel, metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet")))
}

func (k *cluster) pod(ns, name, containerID string, lbls map[string]string, owner *metav1.OwnerReference) *corev1.Pod {
	k.t.Helper()
	k.namespace(ns)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}, Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "main", Image: "calc:1"}}}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	k.create(p)
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", ContainerID: "containerd://" + containerID, Image: "calc:1", ImageID: "calc@sha256:" + strings.Repeat("0", 64)}}
	must(k.t, k.direct.Status().Update(k.ctx, p))
	return p
}

func (k *cluster) namespace(ns string) {
	err := k.direct.Create(k.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		k.t.Fatal(err)
	}
}

// agentReport writes what an agent on node-1 would have written.
func (k *cluster) agentReport(p *corev1.Pod, owners []pods.Owner, verdict finding.Verdict, evidence ...string) {
	k.t.Helper()
	r := reporter.New(reporter.Options{Client: k.direct, Node: "node-1"})
	ctx, cancel := context.WithCancel(k.ctx)
	defer cancel()
	go r.Run(ctx)
	pp := pods.FromObject(p)
	pp.Owners = owners
	var ev []finding.Evidence
	for _, id := range evidence {
		ev = append(ev, finding.Evidence{ID: id, Message: id + " seen"})
	}
	r.Report(reporter.Observation{Pod: pp, ContainerID: pp.Containers[0].ID, Verdict: verdict, Score: 95, Evidence: ev})
	k.waitFor("the agent's report", func() bool { return r.Stats().Writes == 1 })
}

func (k *cluster) waitFor(what string, ok func() bool) {
	k.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			k.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// controller returns a controller whose reports are written by a running
// reporter.
func (k *cluster) controller(policy string, enforce bool, prom *controller.Prometheus) *controller.Controller {
	k.t.Helper()
	pol, err := controller.ParsePolicy([]byte(policy))
	must(k.t, err)
	rec, stop := reporter.NewRecorder(k.cs, "")
	k.t.Cleanup(stop)
	rep := reporter.New(reporter.Options{Client: k.direct, Events: rec, MinInterval: time.Millisecond})
	go rep.Run(k.ctx)
	return controller.New(controller.Options{
		Client: k.c, Prometheus: prom, Policy: pol, Reports: rep, Events: rec,
		Remediator: controller.NewRemediator(k.direct, enforce, pol.MaxActionsPerHour, nil),
		Resolver:   pods.NewResolver(controller.CachedGetter(k.c)),
	})
}

func (k *cluster) report(ns, name string) *v1alpha1.MinerReport {
	var rep v1alpha1.MinerReport
	if err := k.direct.Get(k.ctx, types.NamespacedName{Namespace: ns, Name: name}, &rep); err != nil {
		return nil
	}
	return &rep
}

func (k *cluster) replicas(ns, name string) int32 {
	var d appsv1.Deployment
	must(k.t, k.direct.Get(k.ctx, types.NamespacedName{Namespace: ns, Name: name}, &d))
	return *d.Spec.Replicas
}

func (k *cluster) events(ns, pod string) []string {
	evs, err := k.cs.CoreV1().Events(ns).List(k.ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod})
	must(k.t, err)
	var out []string
	for _, e := range evs.Items {
		out = append(out, e.Reason+": "+e.Message)
	}
	return out
}

var deployOwners = func(name string) []pods.Owner {
	return []pods.Owner{{Kind: "ReplicaSet", Name: name + "-7f"}, {Kind: "Deployment", Name: name}}
}

const scalePolicy = `
rules:
  - name: mining-namespaces
    namespaces: [mine, kube-system]
    action: scale-to-zero
`

// A miner Deployment reported by an agent: in dry run the controller only
// records what it would do; enforcing, it scales the Deployment to zero
// and records that in the report and an Event.
func TestControllerScalesAMinerToZero(t *testing.T) {
	k := newCluster(t)
	p := k.deployment("mine", "calc", strings.Repeat("a", 64), nil)
	k.agentReport(p, deployOwners("calc"), finding.VerdictMiner, "DAVY-I001", "DAVY-N004")
	k.waitFor("the report in the cache", func() bool {
		var l v1alpha1.MinerReportList
		return k.c.List(k.ctx, &l) == nil && len(l.Items) == 1
	})

	dry := k.controller(scalePolicy, false, nil)
	st := dry.Pass(k.ctx)
	if st.Miners != 1 || st.Actions != 1 {
		t.Fatalf("dry-run pass: %+v", st)
	}
	k.waitFor("the dry run in the report", func() bool {
		r := k.report("mine", "deployment-calc")
		return r != nil && len(r.Status.Actions) == 1
	})
	a := k.report("mine", "deployment-calc").Status.Actions[0]
	if a.Action != "scale-to-zero" || !a.DryRun || a.Done || !strings.Contains(a.Message, "would scale Deployment mine/calc to 0") {
		t.Errorf("dry-run action = %+v", a)
	}
	if n := k.replicas("mine", "calc"); n != 1 {
		t.Fatalf("a dry run scaled the Deployment to %d", n)
	}
	// A second dry-run pass records nothing new within the hour.
	if st := dry.Pass(k.ctx); st.Actions != 0 {
		t.Errorf("second dry-run pass acted again: %+v", st)
	}

	// Enforcing now, with the dry run in the report: the dry run does not
	// stand in for the real action.
	k.waitFor("the dry run in the cache", func() bool {
		var r v1alpha1.MinerReport
		return k.c.Get(k.ctx, types.NamespacedName{Namespace: "mine", Name: "deployment-calc"}, &r) == nil && len(r.Status.Actions) == 1
	})
	st = k.controller(scalePolicy, true, nil).Pass(k.ctx)
	if st.Actions != 1 {
		t.Fatalf("enforcing pass: %+v", st)
	}
	if n := k.replicas("mine", "calc"); n != 0 {
		t.Fatalf("replicas = %d after scale-to-zero", n)
	}
	k.waitFor("the action in the report and an Event", func() bool {
		r := k.report("mine", "deployment-calc")
		evs := strings.Join(k.events("mine", p.Name), "\n")
		return r != nil && len(r.Status.Actions) == 2 && r.Status.Actions[1].Done && strings.Contains(evs, controller.ReasonRemediated)
	})
}

// Guardrails: kube-system is never acted on whatever the policy says, and
// a report no agent has confirmed for longer than MaxReportAge is not
// acted on.
func TestControllerGuardrails(t *testing.T) {
	k := newCluster(t)
	p := k.deployment("kube-system", "calc", strings.Repeat("b", 64), nil)
	k.agentReport(p, deployOwners("calc"), finding.VerdictMiner, "DAVY-I001")
	k.waitFor("the report in the cache", func() bool {
		var l v1alpha1.MinerReportList
		return k.c.List(k.ctx, &l) == nil && len(l.Items) == 1
	})
	k.controller(scalePolicy, true, nil).Pass(k.ctx)
	k.waitFor("a refused action in the report", func() bool {
		r := k.report("kube-system", "deployment-calc")
		return r != nil && len(r.Status.Actions) == 1
	})
	if a := k.report("kube-system", "deployment-calc").Status.Actions[0]; a.Done || !strings.Contains(a.Message, "system namespace") {
		t.Errorf("action in kube-system = %+v", a)
	}
	if n := k.replicas("kube-system", "calc"); n != 1 {
		t.Fatalf("kube-system Deployment scaled to %d", n)
	}

	// Stale: last seen two hours ago.
	q := k.deployment("old", "calc", strings.Repeat("c", 64), nil)
	k.agentReport(q, deployOwners("calc"), finding.VerdictMiner, "DAVY-I001")
	rep := k.report("old", "deployment-calc")
	old := metav1.NewTime(time.Now().Add(-2 * time.Hour))
	rep.Status.LastSeen = &old
	must(t, k.direct.Status().Update(k.ctx, rep))
	k.waitFor("the stale report in the cache", func() bool {
		var r v1alpha1.MinerReport
		return k.c.Get(k.ctx, types.NamespacedName{Namespace: "old", Name: "deployment-calc"}, &r) == nil && r.Status.LastSeen.Time.Before(time.Now().Add(-time.Hour))
	})
	st := k.controller("defaultAction: scale-to-zero\n", true, nil).Pass(k.ctx)
	if st.Actions != 0 || k.replicas("old", "calc") != 1 {
		t.Errorf("acted on a stale report: %+v", st)
	}
}

// Quarantine makes a NetworkPolicy denying the pod's egress and labels the
// pod; delete deletes it.
func TestControllerQuarantineAndDelete(t *testing.T) {
	k := newCluster(t)
	q := k.pod("lab", "quarantine-me", strings.Repeat("d", 64), map[string]string{"tier": "dev"}, nil)
	d := k.pod("lab", "delete-me", strings.Repeat("e", 64), map[string]string{"tier": "test"}, nil)
	k.agentReport(q, nil, finding.VerdictMiner, "DAVY-I001")
	k.agentReport(d, nil, finding.VerdictMiner, "DAVY-I001")
	k.waitFor("both reports in the cache", func() bool {
		var l v1alpha1.MinerReportList
		return k.c.List(k.ctx, &l) == nil && len(l.Items) == 2
	})
	policy := `
rules:
  - name: dev
    selector: {matchLabels: {tier: dev}}
    action: quarantine
  - name: test
    selector: {matchLabels: {tier: test}}
    action: delete
`
	if st := k.controller(policy, true, nil).Pass(k.ctx); st.Actions != 2 {
		t.Fatalf("pass: %+v", st)
	}
	var nps networkingv1.NetworkPolicyList
	must(t, k.direct.List(k.ctx, &nps, client.InNamespace("lab")))
	if len(nps.Items) != 1 || len(nps.Items[0].Spec.Egress) != 0 || nps.Items[0].Spec.PolicyTypes[0] != networkingv1.PolicyTypeEgress {
		t.Fatalf("network policies: %+v", nps.Items)
	}
	var got corev1.Pod
	must(t, k.direct.Get(k.ctx, types.NamespacedName{Namespace: "lab", Name: "quarantine-me"}, &got))
	if got.Labels[controller.QuarantineLabel] != string(q.UID) || nps.Items[0].Spec.PodSelector.MatchLabels[controller.QuarantineLabel] != string(q.UID) {
		t.Errorf("pod labels %v, policy selector %v", got.Labels, nps.Items[0].Spec.PodSelector)
	}
	err := k.direct.Get(k.ctx, types.NamespacedName{Namespace: "lab", Name: "delete-me"}, &got)
	if err == nil && got.DeletionTimestamp == nil {
		t.Error("the pod to delete is still there")
	}
}

// A CronJob's miner: scale-to-zero suspends the CronJob and its Job.
func TestControllerSuspendsACronJob(t *testing.T) {
	k := newCluster(t)
	k.namespace("nightly")
	tmpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "main", Image: "calc:1"}}}}
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: "nightly", Name: "report"}, Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}
	k.create(cj)
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "nightly", Name: "report-29", OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))}}, Spec: batchv1.JobSpec{Template: tmpl}}
	k.create(job)
	p := k.pod("nightly", "report-29-abc", strings.Repeat("f", 64), nil, metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job")))
	k.agentReport(p, []pods.Owner{{Kind: "Job", Name: "report-29"}, {Kind: "CronJob", Name: "report"}}, finding.VerdictMiner, "DAVY-I001")
	k.waitFor("the report in the cache", func() bool {
		var l v1alpha1.MinerReportList
		return k.c.List(k.ctx, &l) == nil && len(l.Items) == 1
	})
	if st := k.controller("defaultAction: scale-to-zero\n", true, nil).Pass(k.ctx); st.Actions != 1 {
		t.Fatalf("pass: %+v", st)
	}
	must(t, k.direct.Get(k.ctx, types.NamespacedName{Namespace: "nightly", Name: "report"}, cj))
	must(t, k.direct.Get(k.ctx, types.NamespacedName{Namespace: "nightly", Name: "report-29"}, job))
	if !ptr.Deref(cj.Spec.Suspend, false) || !ptr.Deref(job.Spec.Suspend, false) {
		t.Errorf("cronjob suspended %v, job suspended %v", cj.Spec.Suspend, job.Spec.Suspend)
	}
}

// The CPU rule from a real Prometheus: a hot container gets a suspicious
// report (CPU alone is never a miner), one marked as expected high-CPU is
// left alone, and a limit-less busy one is listed apart. With Prometheus
// down the pass says it is degraded and acts on nothing it would have said.
func TestControllerCPURule(t *testing.T) {
	k := newCluster(t)
	k.deployment("mine", "calc", strings.Repeat("1", 64), nil)
	k.deployment("video", "encode", strings.Repeat("2", 64), map[string]string{controller.ExpectedHighCPU: "true"})
	k.deployment("dev", "free", strings.Repeat("3", 64), nil)
	k.waitFor("pods in the cache", func() bool {
		var l corev1.PodList
		return k.c.List(k.ctx, &l) == nil && len(l.Items) == 3
	})
	now := time.Now().Truncate(time.Second)
	base := testenv.StartPrometheus(t, testenv.PrometheusOptions{Backfill: cpuHistory(now, []cpuSeries{
		{"mine", "calc-7f-x1", 0.47, 0.5},
		{"video", "encode-7f-x1", 1.95, 2},
		{"dev", "free-7f-x1", 0.9, 0},
	})})
	prom, err := controller.NewPrometheus(base, controller.DefaultCPURule)
	must(t, err)
	st := k.controller("", false, prom).Pass(k.ctx)
	if len(st.Degraded) > 0 || len(st.Hot) != 1 || st.Hot[0].Pod != "calc-7f-x1" || st.Excluded != 1 || len(st.Unlimited) != 1 || st.Unlimited[0].Pod != "free-7f-x1" {
		t.Fatalf("pass: %+v", st)
	}
	k.waitFor("a suspicious report for the hot Deployment", func() bool {
		r := k.report("mine", "deployment-calc")
		return r != nil && r.Status.Verdict == v1alpha1.VerdictSuspicious && r.Status.Evidence[0].ID == "DAVY-K001"
	})
	if r := k.report("video", "deployment-encode"); r != nil {
		t.Errorf("expected high-CPU workload reported: %+v", r.Status)
	}

	down, err := controller.NewPrometheus("http://127.0.0.1:1", controller.DefaultCPURule)
	must(t, err)
	st = k.controller("", false, down).Pass(k.ctx)
	if len(st.Degraded) != 1 || !strings.Contains(st.Degraded[0], "prometheus") || len(st.Hot) != 0 {
		t.Errorf("pass with Prometheus down: %+v", st)
	}
}

type cpuSeries struct {
	ns, pod      string
	cores, limit float64
}

// cpuHistory is 25 minutes of cAdvisor and kube-state-metrics series.
func cpuHistory(now time.Time, ss []cpuSeries) []byte {
	var b strings.Builder
	start := now.Add(-25 * time.Minute)
	b.WriteString("# TYPE container_cpu_usage_seconds_total counter\n")
	for _, s := range ss {
		total := 0.0
		for t := start; !t.After(now); t = t.Add(15 * time.Second) {
			total += s.cores * 15
			fmt.Fprintf(&b, "container_cpu_usage_seconds_total{namespace=%q,pod=%q,container=\"main\"} %g %d\n", s.ns, s.pod, total, t.Unix())
		}
	}
	b.WriteString("# TYPE kube_pod_container_resource_limits gauge\n")
	for _, s := range ss {
		if s.limit == 0 {
			continue
		}
		for t := start; !t.After(now); t = t.Add(15 * time.Second) {
			fmt.Fprintf(&b, "kube_pod_container_resource_limits{namespace=%q,pod=%q,container=\"main\",resource=\"cpu\",unit=\"core\"} %g %d\n", s.ns, s.pod, s.limit, t.Unix())
		}
	}
	b.WriteString("# EOF\n")
	return []byte(b.String())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// An API server that is down: the pass says it is degraded and acts on
// nothing (there is nothing it could have read to act on).
func TestControllerWithTheAPIServerDown(t *testing.T) {
	scheme := runtime.NewScheme()
	must(t, clientgoscheme.AddToScheme(scheme))
	must(t, v1alpha1.AddToScheme(scheme))
	cfg := &rest.Config{Host: "https://127.0.0.1:1", Timeout: 2 * time.Second}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	must(t, err)
	rep := reporter.New(reporter.Options{Client: c})
	ctl := controller.New(controller.Options{Client: c, Reports: rep, Remediator: controller.NewRemediator(c, true, 10, nil)})
	st := ctl.Pass(context.Background())
	if len(st.Degraded) != 1 || !strings.Contains(st.Degraded[0], "reports") || st.Actions != 0 {
		t.Errorf("pass with the API server down: %+v", st)
	}
	if ctl.Ready() != true {
		t.Error("a degraded pass should still count as a pass for /readyz")
	}
}
