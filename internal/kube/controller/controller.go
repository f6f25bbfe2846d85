// Package controller is davy controller: it reads the cluster's CPU rule
// from Prometheus, folds it with the agents' MinerReports and image scan
// results into one verdict per workload, and remediates miners by policy,
// through the API server and within guardrails (docs/controller.md).
package controller

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
)

// ExpectedHighCPU is the label or annotation, set to "true", that marks a
// workload whose high CPU is expected (encoders, builds, batch jobs): the
// CPU rule never counts against it.
const ExpectedHighCPU = "davy.dev/expected-high-cpu"

// Event reasons of the controller's actions.
const (
	ReasonRemediated = "MinerRemediated"
	ReasonDryRun     = "MinerRemediationDryRun"
	ReasonNotDone    = "MinerRemediationSkipped"
)

// Options configure a Controller.
type Options struct {
	// Client reads (from a cache, in production) and writes.
	Client client.Client
	// Prometheus runs the CPU rule; nil runs none.
	Prometheus *Prometheus
	// Images, when set, gives scan results of the images pods run.
	Images     ImageChecker
	Policy     *Policy
	Remediator *Remediator
	Reports    *reporter.Reporter
	Events     record.EventRecorder
	Resolver   *pods.Resolver
	// Interval is the time between two passes (1 minute by default).
	Interval time.Duration
	// MaxReportAge: reports not confirmed by an agent for longer are not
	// acted on (5 minutes by default), so a miner that is gone, or data
	// that is stale, never leads to an action.
	MaxReportAge time.Duration
	Thresholds   detect.Thresholds
	Metrics      *Metrics
	Log          *slog.Logger
}

// Controller runs passes over the cluster.
type Controller struct {
	o     Options
	mu    sync.Mutex
	st    Status
	acted map[types.NamespacedName]time.Time
}

// Status is what the last pass saw; /status serves it.
type Status struct {
	LastPass     time.Time `json:"lastPass"`
	PassDuration string    `json:"passDuration"`
	// Degraded lists what could not be read; nothing that depends on it
	// was acted on.
	Degraded  []string `json:"degraded,omitempty"`
	Hot       []Hot    `json:"hot,omitempty"`
	Unlimited []Hot    `json:"unlimited,omitempty"`
	Excluded  int      `json:"excludedExpectedHighCPU"`
	Reports   int      `json:"reports"`
	Miners    int      `json:"miners"`
	Actions   int      `json:"actions"`
}

// New returns a Controller.
func New(o Options) *Controller {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.MaxReportAge <= 0 {
		o.MaxReportAge = 5 * time.Minute
	}
	if o.Thresholds == (detect.Thresholds{}) {
		o.Thresholds = detect.DefaultThresholds
	}
	if o.Policy == nil {
		o.Policy = DefaultPolicy()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Resolver == nil {
		o.Resolver = pods.NewResolver(nil)
	}
	return &Controller{o: o, acted: map[types.NamespacedName]time.Time{}}
}

// Status returns a copy of the last pass's status.
func (c *Controller) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Degraded = slices.Clone(st.Degraded)
	return st
}

// Ready reports whether a pass has completed.
func (c *Controller) Ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.st.LastPass.IsZero()
}

// Run makes a pass every Interval until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	t := time.NewTicker(c.o.Interval)
	defer t.Stop()
	for {
		c.Pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass reads Prometheus and the reports once and acts on what they say.
func (c *Controller) Pass(ctx context.Context) Status {
	start := time.Now()
	st := Status{}
	hotByWorkload := map[types.NamespacedName]finding.Evidence{}
	if c.o.Prometheus != nil {
		hot, err := c.queryWithRetry(ctx, start)
		if err != nil {
			st.Degraded = append(st.Degraded, "prometheus: "+err.Error())
		} else {
			c.cpuRule(ctx, hot, &st, hotByWorkload)
		}
	}
	if c.o.Images != nil {
		if err := c.imageHits(ctx); err != nil {
			st.Degraded = append(st.Degraded, "images: "+err.Error())
		}
	}
	var reps v1alpha1.MinerReportList
	if err := c.o.Client.List(ctx, &reps); err != nil {
		st.Degraded = append(st.Degraded, "reports: "+err.Error())
	} else {
		st.Reports = len(reps.Items)
		for i := range reps.Items {
			c.judge(ctx, &reps.Items[i], hotByWorkload, start, &st)
		}
	}
	st.LastPass = time.Now()
	st.PassDuration = st.LastPass.Sub(start).Round(time.Millisecond).String()
	c.o.Metrics.pass(st, st.LastPass.Sub(start))
	for _, d := range st.Degraded {
		c.o.Log.Warn("controller degraded", "reason", d)
	}
	c.mu.Lock()
	c.st = st
	c.mu.Unlock()
	return st
}

// queryWithRetry asks Prometheus a few times before giving the pass up.
func (c *Controller) queryWithRetry(ctx context.Context, at time.Time) ([]Hot, error) {
	var err error
	for i, wait := 0, time.Second; i < 3; i, wait = i+1, wait*2 {
		var hot []Hot
		if hot, err = c.o.Prometheus.Hot(ctx, at); err == nil {
			return hot, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil, err
}

// cpuRule turns the CPU rule's containers into evidence on their
// workloads' reports; containers with no limit are listed apart.
func (c *Controller) cpuRule(ctx context.Context, hot []Hot, st *Status, byWorkload map[types.NamespacedName]finding.Evidence) {
	for _, h := range hot {
		var pod corev1.Pod
		if err := c.o.Client.Get(ctx, types.NamespacedName{Namespace: h.Namespace, Name: h.Pod}, &pod); err != nil {
			continue // gone since Prometheus scraped it
		}
		if expectedHighCPU(&pod) {
			st.Excluded++
			continue
		}
		if h.NoLimit {
			st.Unlimited = append(st.Unlimited, h)
			continue
		}
		st.Hot = append(st.Hot, h)
		p := c.pod(ctx, &pod)
		ev := finding.New("DAVY-K001", "controller", 0,
			fmt.Sprintf("container %s stayed above %.0f%% of its CPU limit for %s (lowest %.0f%%)", h.Container,
				100*c.o.Prometheus.rule.Threshold, c.o.Prometheus.rule.Window, 100*h.Value),
			map[string]string{"container": h.Container, "min_ratio": strconv.FormatFloat(h.Value, 'f', 3, 64),
				"threshold": strconv.FormatFloat(c.o.Prometheus.rule.Threshold, 'f', 2, 64), "window": c.o.Prometheus.rule.Window.String()})
		key := types.NamespacedName{Namespace: p.Namespace, Name: reporter.Name(p.Workload())}
		byWorkload[key] = ev
		score, verdict := detect.Score([]finding.Evidence{ev}, c.o.Thresholds)
		c.o.Reports.Report(reporter.Observation{Pod: p, ContainerID: containerID(&pod, h.Container), Verdict: verdict, Score: score, Evidence: []finding.Evidence{ev}})
	}
}

// imageHits queues scans of the images pods run and reports the
// workloads whose images were judged miner.
func (c *Controller) imageHits(ctx context.Context) error {
	hits, err := c.o.Images.Check(ctx)
	if err != nil {
		return err
	}
	for _, h := range hits {
		score, verdict := detect.Score(h.Evidence, c.o.Thresholds)
		c.o.Reports.Report(reporter.Observation{Pod: c.pod(ctx, h.Pod), ContainerID: h.ContainerID, Verdict: verdict, Score: score, Evidence: h.Evidence})
	}
	return nil
}

// judge folds the controller's own evidence into a report's verdict and
// remediates a fresh miner.
func (c *Controller) judge(ctx context.Context, rep *v1alpha1.MinerReport, hot map[types.NamespacedName]finding.Evidence, now time.Time, st *Status) {
	key := types.NamespacedName{Namespace: rep.Namespace, Name: rep.Name}
	ev := evidenceOf(rep)
	extra := []finding.Evidence{}
	if e, ok := hot[key]; ok {
		extra = append(extra, e)
	}
	if c.o.Images != nil {
		extra = append(extra, c.o.Images.Evidence(rep.Spec.Workload.ImageDigests)...)
	}
	score, verdict := detect.Score(append(ev, extra...), c.o.Thresholds)
	if verdict != finding.VerdictMiner {
		return
	}
	st.Miners++
	fresh := rep.Status.LastSeen != nil && now.Sub(rep.Status.LastSeen.Time) <= c.o.MaxReportAge
	if !fresh && len(extra) == 0 {
		return // an old verdict nothing confirms now
	}
	pod, err := c.podOf(ctx, rep)
	if err != nil || pod == nil {
		return // no pod left to act on, or none found now
	}
	p := c.pod(ctx, pod)
	obs := reporter.Observation{Pod: p, Verdict: verdict, Score: score, Evidence: extra}
	d := c.o.Policy.Decide(pod.Namespace, pod.Labels)
	if c.actedRecently(key, rep, d.Action, now) {
		if finding.Verdict(rep.Status.Verdict) != verdict {
			c.o.Reports.Report(obs)
		}
		return
	}
	out := c.o.Remediator.Act(ctx, d, Target{Pod: pod, Workload: rep.Spec.Workload})
	st.Actions++
	c.o.Metrics.action(out)
	obs.Actions = []v1alpha1.Action{out.Record(now)}
	c.o.Reports.Report(obs)
	c.event(pod, out, d)
}

// actedRecently reports whether the workload had this action within the
// hour, from the report or this process's memory (the report's write may
// still be queued). A dry run recorded before does not count once the
// controller enforces: the real action is still to be taken.
func (c *Controller) actedRecently(key types.NamespacedName, rep *v1alpha1.MinerReport, a Action, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.acted[key]; ok && now.Sub(t) < time.Hour {
		return true
	}
	enforcing := c.o.Remediator.Enforcing()
	for _, x := range rep.Status.Actions {
		if x.Action == string(a) && now.Sub(x.Time.Time) < time.Hour && (!enforcing || !x.DryRun) {
			return true
		}
	}
	if len(c.acted) > 65536 {
		clear(c.acted)
	}
	c.acted[key] = now
	return false
}

func (c *Controller) event(pod *corev1.Pod, out Outcome, d Decision) {
	if c.o.Events == nil {
		return
	}
	reason, typ := ReasonRemediated, corev1.EventTypeWarning
	switch {
	case out.Action == ActionAlert && out.Done:
		reason = reporter.ReasonMinerDetected
	case out.DryRun:
		reason, typ = ReasonDryRun, corev1.EventTypeNormal
	case !out.Done:
		reason = ReasonNotDone
	}
	c.o.Events.Eventf(pod, typ, reason, "Davy %s (policy rule %s): %s", out.Action, d.Rule, out.Message)
}

// pod converts a pod object, with its owner chain.
func (c *Controller) pod(ctx context.Context, o *corev1.Pod) *pods.Pod {
	p := pods.FromObject(o)
	p.Owners, p.Resolved = c.o.Resolver.Chain(ctx, o.Namespace, metav1.GetControllerOf(o))
	return p
}

// podOf finds a running pod of a report's workload: one of its containers
// if still there, else a pod whose owner chain ends at the workload.
func (c *Controller) podOf(ctx context.Context, rep *v1alpha1.MinerReport) (*corev1.Pod, error) {
	w := rep.Spec.Workload
	if w.Kind == "Pod" {
		var p corev1.Pod
		if err := c.o.Client.Get(ctx, types.NamespacedName{Namespace: rep.Namespace, Name: w.Name}, &p); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		return &p, nil
	}
	for _, id := range slices.Backward(rep.Spec.Workload.ContainerIDs) {
		var list corev1.PodList
		if err := c.o.Client.List(ctx, &list, client.InNamespace(rep.Namespace), client.MatchingFields{IndexContainerID: id}); err != nil {
			return nil, err
		}
		for i := range list.Items {
			if list.Items[i].DeletionTimestamp == nil {
				return &list.Items[i], nil
			}
		}
	}
	return nil, nil
}

// IndexContainerID is the field index of pods by their containers' IDs
// (without the runtime scheme); the manager registers it (IndexPods).
const IndexContainerID = "davy.status.containerIDs"

// ContainerIDs extracts the index values of a pod.
func ContainerIDs(o client.Object) []string {
	p, ok := o.(*corev1.Pod)
	if !ok {
		return nil
	}
	f := pods.FromObject(p)
	ids := make([]string, 0, len(f.Containers))
	for _, c := range f.Containers {
		ids = append(ids, c.ID)
	}
	return ids
}

func containerID(p *corev1.Pod, name string) string {
	for _, c := range pods.FromObject(p).Containers {
		if c.Name == name {
			return c.ID
		}
	}
	return ""
}

func expectedHighCPU(p *corev1.Pod) bool {
	return p.Labels[ExpectedHighCPU] == "true" || p.Annotations[ExpectedHighCPU] == "true"
}

// evidenceOf turns a report's evidence back into weighted evidence.
func evidenceOf(rep *v1alpha1.MinerReport) []finding.Evidence {
	out := make([]finding.Evidence, 0, len(rep.Status.Evidence))
	for _, e := range rep.Status.Evidence {
		r, ok := finding.Rules[e.ID]
		if !ok {
			continue // an ID this version does not know weighs nothing
		}
		out = append(out, finding.Evidence{ID: e.ID, Weight: r.Weight, Group: r.Group, Message: e.Message, Values: e.Values})
	}
	return out
}
