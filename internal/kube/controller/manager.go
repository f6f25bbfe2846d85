package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/go-logr/logr"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/davyproject/davy/internal/kube/pods"
)

// ManagerOptions configure NewManager.
type ManagerOptions struct {
	Scheme *runtime.Scheme
	// LeaderElection, with the lease in LeaderElectionNamespace, lets
	// several replicas run with one acting.
	LeaderElection          bool
	LeaderElectionNamespace string
	// Log receives controller-runtime's own logs (slog.Default when nil).
	Log *slog.Logger
}

// setLogger gives controller-runtime, whose logger is process-wide, a
// logger once; it otherwise prints a warning with a stack trace.
var setLogger sync.Once

// NewManager returns a controller-runtime manager whose cache holds pods
// (slimmed to what the controller reads), MinerReports and, as metadata
// only, the ReplicaSets and Jobs of owner chains; pods are indexed by
// container ID. Its own metrics server is off: davy serves its registry.
func NewManager(cfg *rest.Config, o ManagerOptions) (manager.Manager, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	setLogger.Do(func() { ctrllog.SetLogger(logr.FromSlogHandler(o.Log.Handler())) })
	mgr, err := manager.New(cfg, manager.Options{
		Scheme:                  o.Scheme,
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "davy-controller.davy.dev",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// A replica that stops hands the lease over at once rather than
		// after it expires.
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&corev1.Pod{}: {Transform: slimPod},
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("controller manager: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Pod{}, IndexContainerID, ContainerIDs); err != nil {
		return nil, fmt.Errorf("indexing pods by container ID: %w", err)
	}
	return mgr, nil
}

// CachedGetter reads owner metadata through the manager's cache, which
// keeps metadata-only informers of the kinds asked for.
func CachedGetter(c client.Reader) pods.GetMeta {
	return func(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (metav1.Object, error) {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(gvk)
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m); err != nil {
			return nil, err
		}
		return m, nil
	}
}

// slimPod keeps what the controller reads of a pod; specs are most of a
// pod's size and 5,000 pods must stay cheap.
func slimPod(o any) (any, error) {
	p, ok := o.(*corev1.Pod)
	if !ok {
		if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
			return t, nil
		}
		return o, nil
	}
	slim := &corev1.Pod{
		TypeMeta:   p.TypeMeta,
		ObjectMeta: p.ObjectMeta,
		Spec: corev1.PodSpec{
			NodeName:           p.Spec.NodeName,
			ServiceAccountName: p.Spec.ServiceAccountName,
			ImagePullSecrets:   p.Spec.ImagePullSecrets,
		},
		Status: corev1.PodStatus{
			Phase:                      p.Status.Phase,
			ContainerStatuses:          p.Status.ContainerStatuses,
			InitContainerStatuses:      p.Status.InitContainerStatuses,
			EphemeralContainerStatuses: p.Status.EphemeralContainerStatuses,
		},
	}
	slim.ManagedFields = nil
	return slim, nil
}
