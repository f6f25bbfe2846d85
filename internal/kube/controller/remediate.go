package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
)

// QuarantineLabel marks a quarantined pod; its value is the pod's UID,
// which the quarantine NetworkPolicy selects.
const QuarantineLabel = "davy.dev/quarantine"

// Target is a miner workload and one of its pods.
type Target struct {
	Pod      *corev1.Pod
	Workload v1alpha1.Workload
}

// Outcome is what an action did, as recorded in the report and an Event.
type Outcome struct {
	Action  Action
	DryRun  bool
	Done    bool
	Message string
}

// Record is the outcome as a MinerReport action.
func (o Outcome) Record(at time.Time) v1alpha1.Action {
	return v1alpha1.Action{Action: string(o.Action), DryRun: o.DryRun, Done: o.Done, Time: metav1.NewTime(at.UTC().Truncate(time.Second)), Message: o.Message}
}

// Remediator carries out decisions through the API server, within the
// guardrails: dry run unless enforcing, never on exempt pods, capped per
// hour.
type Remediator struct {
	c       client.Client
	enforce bool
	max     int
	log     *slog.Logger

	mu   sync.Mutex
	past []time.Time
}

// NewRemediator returns a Remediator; without enforce every action is a
// dry run.
func NewRemediator(c client.Client, enforce bool, maxPerHour int, log *slog.Logger) *Remediator {
	if log == nil {
		log = slog.Default()
	}
	return &Remediator{c: c, enforce: enforce, max: maxPerHour, log: log}
}

// Enforcing reports whether actions are carried out rather than dry runs.
func (r *Remediator) Enforcing() bool { return r.enforce }

// Act carries out d on t.
func (r *Remediator) Act(ctx context.Context, d Decision, t Target) Outcome {
	o := Outcome{Action: d.Action}
	if d.Exempt != "" {
		o.Message = "not done: " + d.Exempt
		return o
	}
	what, err := r.describe(d.Action, t)
	if err != nil {
		o.Message = "not done: " + err.Error()
		return o
	}
	if d.Action == ActionAlert {
		o.Done, o.Message = true, what
		return o
	}
	if !r.enforce {
		o.DryRun, o.Message = true, "dry run: would "+what
		return o
	}
	if !r.take() {
		o.Message = fmt.Sprintf("not done: the cap of %d actions per hour is reached; would %s", r.max, what)
		return o
	}
	if err := r.apply(ctx, d.Action, t); err != nil {
		o.Message = fmt.Sprintf("failed to %s: %v", what, err)
		return o
	}
	o.Done, o.Message = true, what
	r.log.Warn("remediated a miner workload", "action", d.Action, "namespace", t.Pod.Namespace, "workload", t.Workload.Kind+"/"+t.Workload.Name, "rule", d.Rule)
	return o
}

// take spends one action of the hourly cap.
func (r *Remediator) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	kept := r.past[:0]
	for _, t := range r.past {
		if now.Sub(t) < time.Hour {
			kept = append(kept, t)
		}
	}
	r.past = kept
	if len(r.past) >= r.max {
		return false
	}
	r.past = append(r.past, now)
	return true
}

// describe says what an action would do, or why it cannot be done.
func (r *Remediator) describe(a Action, t Target) (string, error) {
	p := t.Pod
	switch a {
	case ActionAlert:
		return fmt.Sprintf("alert on %s %s", strings.ToLower(t.Workload.Kind), t.Workload.Name), nil
	case ActionQuarantine:
		return fmt.Sprintf("deny the egress of pod %s/%s (NetworkPolicy %s)", p.Namespace, p.Name, quarantineName(p)), nil
	case ActionDelete:
		return fmt.Sprintf("delete pod %s/%s", p.Namespace, p.Name), nil
	case ActionScaleToZero:
		switch t.Workload.Kind {
		case "Deployment", "StatefulSet", "ReplicaSet":
			return fmt.Sprintf("scale %s %s/%s to 0 replicas", t.Workload.Kind, p.Namespace, t.Workload.Name), nil
		case "CronJob", "Job":
			return fmt.Sprintf("suspend %s %s/%s", t.Workload.Kind, p.Namespace, t.Workload.Name), nil
		}
		return "", fmt.Errorf("a %s cannot be scaled to zero; use quarantine or delete", t.Workload.Kind)
	}
	return "", fmt.Errorf("unknown action %q", a)
}

func (r *Remediator) apply(ctx context.Context, a Action, t Target) error {
	p := t.Pod
	switch a {
	case ActionQuarantine:
		return r.quarantine(ctx, p)
	case ActionDelete:
		uid := p.UID
		err := r.c.Delete(ctx, p, client.Preconditions{UID: &uid})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	case ActionScaleToZero:
		return r.scaleToZero(ctx, t)
	}
	return nil
}

// quarantineName is the NetworkPolicy's name for a pod.
func quarantineName(p *corev1.Pod) string {
	sum := sha256.Sum256([]byte(p.UID))
	return "davy-quarantine-" + hex.EncodeToString(sum[:6])
}

// quarantine creates a NetworkPolicy selecting only this pod that allows
// no egress, then labels the pod so the policy selects it. The label comes
// second so the pod is never selected by nothing.
func (r *Remediator) quarantine(ctx context.Context, p *corev1.Pod) error {
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: p.Namespace, Name: quarantineName(p),
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "davy"},
			Annotations: map[string]string{"davy.dev/pod": p.Name},
			// Garbage-collected with the pod.
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: p.Name, UID: p.UID}},
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{QuarantineLabel: string(p.UID)}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      []networkingv1.NetworkPolicyEgressRule{},
		},
	}
	if err := r.c.Create(ctx, np); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating NetworkPolicy %s: %w", np.Name, err)
	}
	patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:%q}}}`, QuarantineLabel, p.UID)
	if err := r.c.Patch(ctx, p, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("labelling pod %s: %w", p.Name, err)
	}
	return nil
}

func (r *Remediator) scaleToZero(ctx context.Context, t Target) error {
	ns, name := t.Pod.Namespace, t.Workload.Name
	var obj client.Object
	patch := []byte(`{"spec":{"replicas":0}}`)
	switch t.Workload.Kind {
	case "Deployment":
		obj = &appsv1.Deployment{}
	case "StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "ReplicaSet":
		obj = &appsv1.ReplicaSet{}
	case "CronJob":
		obj, patch = &batchv1.CronJob{}, []byte(`{"spec":{"suspend":true}}`)
	case "Job":
		obj, patch = &batchv1.Job{}, []byte(`{"spec":{"suspend":true}}`)
	default:
		return fmt.Errorf("a %s cannot be scaled to zero", t.Workload.Kind)
	}
	obj.SetNamespace(ns)
	obj.SetName(name)
	if err := r.c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("patching %s %s: %w", t.Workload.Kind, name, err)
	}
	if t.Workload.Kind == "CronJob" {
		// A suspended CronJob starts no new Job; the running one is the
		// miner, and suspending it stops its pods.
		for _, o := range t.Workload.Owners {
			if o.Kind != "Job" {
				continue
			}
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: o.Name}}
			if err := r.c.Patch(ctx, job, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"suspend":true}}`))); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("suspending Job %s: %w", o.Name, err)
			}
		}
	}
	return nil
}
