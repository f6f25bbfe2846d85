// Package reporter writes what an agent concludes about a pod's workload
// into the cluster: one MinerReport per workload, shared by every node
// that runs it, and a Warning Event (reason MinerDetected) on the pod.
// Writes are queued, coalesced per report, idempotent and rate limited, so
// a busy node never floods the API server and a crash loop makes one
// report, not thousands.
package reporter

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/pods"
)

// ReasonMinerDetected is the reason of the Event on a pod judged a miner.
const ReasonMinerDetected = "MinerDetected"

// Observation is one verdict on a pod's workload.
type Observation struct {
	Pod         *pods.Pod
	ContainerID string
	Verdict     finding.Verdict
	Score       int
	Evidence    []finding.Evidence
	// Actions are responses the agent took (or would have) on the pod.
	Actions []v1alpha1.Action
}

// Options configure a Reporter.
type Options struct {
	// Client reads and writes MinerReports; its scheme must know v1alpha1.
	Client client.Client
	// Events records Events on pods; nil records none.
	Events record.EventRecorder
	// Node names the reporting node.
	Node string
	// MinInterval is the least time between two writes of one report that
	// only confirm it (30 s by default); a worse verdict or an action is
	// written at once.
	MinInterval time.Duration
	// QPS and Burst bound the writes of this reporter to the API server
	// (5 and 10 by default).
	QPS   float64
	Burst int
	// MaxPending bounds the reports waiting to be written (1024 by
	// default); beyond it observations are dropped and counted.
	MaxPending int
	Log        *slog.Logger
}

// Reporter queues observations and writes them.
type Reporter struct {
	o       Options
	limiter *rate.Limiter
	queue   workqueue.TypedRateLimitingInterface[types.NamespacedName]

	mu        sync.Mutex
	pending   map[types.NamespacedName]*Observation
	lastWrite map[types.NamespacedName]time.Time
	evented   map[types.UID]finding.Verdict
	stats     Stats
}

// Stats count what the reporter did.
type Stats struct {
	Writes, Created, Errors, Dropped, Events int
}

// New returns a Reporter; Run writes.
func New(o Options) *Reporter {
	if o.MinInterval <= 0 {
		o.MinInterval = 30 * time.Second
	}
	if o.QPS <= 0 {
		o.QPS = 5
	}
	if o.Burst <= 0 {
		o.Burst = 10
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 1024
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Reporter{
		o:       o,
		limiter: rate.NewLimiter(rate.Limit(o.QPS), o.Burst),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[types.NamespacedName](time.Second, 5*time.Minute),
			workqueue.TypedRateLimitingQueueConfig[types.NamespacedName]{Name: "davy-reports"}),
		pending:   map[types.NamespacedName]*Observation{},
		lastWrite: map[types.NamespacedName]time.Time{},
		evented:   map[types.UID]finding.Verdict{},
	}
}

// Report queues an observation without blocking. Observations of one
// workload waiting together are folded into one write.
func (r *Reporter) Report(o Observation) {
	if o.Pod == nil || o.Verdict == finding.VerdictClean || o.Verdict == "" {
		return
	}
	key := types.NamespacedName{Namespace: o.Pod.Namespace, Name: Name(o.Pod.Workload())}
	r.mu.Lock()
	if prev, ok := r.pending[key]; ok {
		fold(prev, o)
	} else if len(r.pending) >= r.o.MaxPending {
		r.stats.Dropped++
		r.mu.Unlock()
		return
	} else {
		r.pending[key] = &o
	}
	urgent := r.urgentLocked(key)
	r.mu.Unlock()
	if urgent {
		r.queue.Add(key)
	} else {
		r.queue.AddAfter(key, r.o.MinInterval)
	}
}

// urgentLocked reports whether the pending observation of key must be
// written now rather than after MinInterval.
func (r *Reporter) urgentLocked(key types.NamespacedName) bool {
	last, ok := r.lastWrite[key]
	o := r.pending[key]
	return !ok || len(o.Actions) > 0 || o.Verdict == finding.VerdictMiner && r.evented[o.Pod.UID] != finding.VerdictMiner ||
		time.Since(last) >= r.o.MinInterval
}

// fold merges a newer observation of the same workload into a pending one.
func fold(dst *Observation, o Observation) {
	if o.Verdict.Rank() > dst.Verdict.Rank() || (o.Verdict == dst.Verdict && o.Score > dst.Score) {
		dst.Verdict, dst.Score, dst.Evidence = o.Verdict, o.Score, o.Evidence
	}
	dst.Pod, dst.ContainerID = o.Pod, o.ContainerID
	dst.Actions = append(dst.Actions, o.Actions...)
}

// Stats returns the counters so far.
func (r *Reporter) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Run writes queued reports until ctx ends.
func (r *Reporter) Run(ctx context.Context) {
	go func() {
		<-ctx.Done()
		r.queue.ShutDown()
	}()
	for {
		key, quit := r.queue.Get()
		if quit {
			return
		}
		r.process(ctx, key)
		r.queue.Done(key)
	}
}

func (r *Reporter) process(ctx context.Context, key types.NamespacedName) {
	r.mu.Lock()
	o, ok := r.pending[key]
	if ok && !r.urgentLocked(key) {
		wait := r.o.MinInterval - time.Since(r.lastWrite[key])
		r.mu.Unlock()
		r.queue.AddAfter(key, wait)
		return
	}
	delete(r.pending, key)
	r.mu.Unlock()
	if !ok {
		return
	}
	if err := r.limiter.Wait(ctx); err != nil {
		return
	}
	created, err := r.write(ctx, key, o)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.stats.Errors++
		r.o.Log.Warn("writing the miner report", "report", key.String(), "err", err)
		// Put the observation back, unless a newer one has come, and retry
		// with backoff.
		if prev, ok := r.pending[key]; ok {
			fold(prev, *o)
		} else {
			r.pending[key] = o
		}
		if ctx.Err() == nil {
			r.queue.AddRateLimited(key)
		}
		return
	}
	r.queue.Forget(key)
	r.stats.Writes++
	if created {
		r.stats.Created++
	}
	r.lastWrite[key] = time.Now()
	r.eventLocked(o)
}

// write creates the report or folds the observation into it, retrying on
// conflicts with writers on other nodes.
func (r *Reporter) write(ctx context.Context, key types.NamespacedName, o *Observation) (created bool, err error) {
	c := r.o.Client
	want := spec(o.Pod, o.ContainerID)
	err = retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		rep := &v1alpha1.MinerReport{}
		err := c.Get(ctx, key, rep)
		switch {
		case apierrors.IsNotFound(err):
			rep = &v1alpha1.MinerReport{
				ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: labels(o.Pod)},
				Spec:       want,
			}
			if err := c.Create(ctx, rep); err != nil {
				if apierrors.IsAlreadyExists(err) {
					// Another node created it first: fold into theirs.
					return apierrors.NewConflict(v1alpha1.GroupVersion.WithResource("minerreports").GroupResource(), key.Name, err)
				}
				return fmt.Errorf("creating: %w", err)
			}
			created = true
		case err != nil:
			return fmt.Errorf("getting: %w", err)
		default:
			if mergeSpec(&rep.Spec, want) {
				if err := c.Update(ctx, rep); err != nil {
					return err
				}
			}
		}
		mergeStatus(&rep.Status, *o, r.o.Node, time.Now())
		return c.Status().Update(ctx, rep)
	})
	return created, err
}

// eventLocked records a Warning Event on the pod the first time it is
// judged a miner (and again if it had been only suspicious).
func (r *Reporter) eventLocked(o *Observation) {
	if r.o.Events == nil || o.Verdict != finding.VerdictMiner || r.evented[o.Pod.UID] == finding.VerdictMiner {
		return
	}
	// The set is bounded by the pods of one node; forgetting is harmless
	// (the recorder aggregates repeats).
	if len(r.evented) > 4096 {
		clear(r.evented)
	}
	r.evented[o.Pod.UID] = o.Verdict
	r.stats.Events++
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: o.Pod.Namespace, Name: o.Pod.Name, UID: o.Pod.UID}}
	var ids []string
	for _, e := range o.Evidence {
		ids = append(ids, e.ID)
	}
	w := o.Pod.Workload()
	r.o.Events.Eventf(pod, corev1.EventTypeWarning, ReasonMinerDetected,
		"Davy judged %s %s a miner (score %d) on node %s: %s; see minerreport %s",
		strings.ToLower(w.Kind), w.Name, o.Score, r.o.Node, strings.Join(ids, ", "), Name(w))
}

// labels make reports selectable by workload with kubectl -l.
func labels(p *pods.Pod) map[string]string {
	w := p.Workload()
	l := map[string]string{"davy.dev/workload-kind": strings.ToLower(w.Kind)}
	if len(w.Name) <= 63 {
		l["davy.dev/workload-name"] = w.Name
	}
	return l
}

// NewRecorder returns an Event recorder writing to the API server as
// component davy-agent on node, and the function that stops it.
func NewRecorder(cs kubernetes.Interface, node string) (record.EventRecorder, func()) {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	return b.NewRecorder(clientgoscheme.Scheme, corev1.EventSource{Component: "davy-agent", Host: node}), b.Shutdown
}
