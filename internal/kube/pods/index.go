package pods

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
)

// Index holds the pods of one node, by container ID and by pod UID.
type Index struct {
	client kubernetes.Interface
	meta   metadata.Interface
	node   string
	log    *slog.Logger

	mu          sync.RWMutex
	byUID       map[types.UID]*Pod
	byContainer map[string]*Pod

	owners *Resolver

	synced func() bool
}

// New returns an index of the pods on node; Run fills it.
func New(client kubernetes.Interface, meta metadata.Interface, node string, log *slog.Logger) *Index {
	if log == nil {
		log = slog.Default()
	}
	return &Index{
		client: client, meta: meta, node: node, log: log,
		byUID: map[types.UID]*Pod{}, byContainer: map[string]*Pod{},
		owners: NewResolver(MetadataGetter(meta)),
		synced: func() bool { return false },
	}
}

// Run watches the node's pods until ctx ends. It returns once the first
// list is in, or with an error if that does not happen within timeout;
// the watch then goes on in the background.
func (x *Index) Run(ctx context.Context, timeout time.Duration) error {
	if x.node == "" {
		return errors.New("pods: no node name (set --node-name or NODE_NAME)")
	}
	f := informers.NewSharedInformerFactoryWithOptions(x.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", x.node).String()
		}))
	inf := f.Core().V1().Pods().Informer()
	// The informer's own store keeps only what the index needs; managed
	// fields and specs are most of a pod's size.
	if err := inf.SetTransform(slim); err != nil {
		return fmt.Errorf("pods: %w", err)
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { x.put(ctx, o) },
		UpdateFunc: func(_, o any) { x.put(ctx, o) },
		DeleteFunc: x.delete,
	}); err != nil {
		return fmt.Errorf("pods: %w", err)
	}
	x.synced = inf.HasSynced
	f.Start(ctx.Done())
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if !cache.WaitForCacheSync(wait.Done(), inf.HasSynced) {
		return fmt.Errorf("pods: the pods of node %s were not listed within %s", x.node, timeout)
	}
	return nil
}

// Synced reports whether the first list of pods is in.
func (x *Index) Synced() bool { return x.synced() }

// Lookup finds the pod of a container: by its runtime ID, else by the pod
// UID its cgroup path carries (a container that has just started is in
// the cgroup before the kubelet reports its ID).
func (x *Index) Lookup(containerID, podUID string) (*Pod, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if p, ok := x.byContainer[containerID]; ok && containerID != "" {
		return p, true
	}
	if p, ok := x.byUID[types.UID(podUID)]; ok && podUID != "" {
		return p, true
	}
	return nil, false
}

// Len is the number of pods indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byUID)
}

func (x *Index) put(ctx context.Context, o any) {
	obj, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	p := FromObject(obj)
	p.version = obj.ResourceVersion
	p.Owners, p.Resolved = x.owners.Chain(ctx, obj.Namespace, metav1.GetControllerOf(obj))
	if !p.Resolved {
		x.retry(ctx, obj)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.byUID[p.UID]; ok {
		for _, c := range old.Containers {
			delete(x.byContainer, c.ID)
		}
	}
	x.byUID[p.UID] = p
	for _, c := range p.Containers {
		x.byContainer[c.ID] = p
	}
}

// retryAfter is how long an owner lookup that failed waits to be retried.
var retryAfter = 10 * time.Second

// retry looks the owners of a pod up again later, unless the pod has been
// updated or deleted meanwhile (its update or delete then has its say).
func (x *Index) retry(ctx context.Context, obj *corev1.Pod) {
	time.AfterFunc(retryAfter, func() {
		if ctx.Err() != nil {
			return
		}
		x.mu.RLock()
		cur, ok := x.byUID[obj.UID]
		x.mu.RUnlock()
		if ok && !cur.Resolved && cur.version == obj.ResourceVersion {
			x.put(ctx, obj)
		}
	})
}

func (x *Index) delete(o any) {
	if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	obj, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.byUID[obj.UID]; ok {
		for _, c := range old.Containers {
			delete(x.byContainer, c.ID)
		}
		delete(x.byUID, obj.UID)
	}
}

// slim keeps what the index reads of a pod.
func slim(o any) (any, error) {
	p, ok := o.(*corev1.Pod)
	if !ok {
		return o, nil
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: p.Namespace, Name: p.Name, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Labels: p.Labels, Annotations: p.Annotations, OwnerReferences: p.OwnerReferences,
		},
		Spec: corev1.PodSpec{NodeName: p.Spec.NodeName},
		Status: corev1.PodStatus{
			ContainerStatuses:          p.Status.ContainerStatuses,
			InitContainerStatuses:      p.Status.InitContainerStatuses,
			EphemeralContainerStatuses: p.Status.EphemeralContainerStatuses,
		},
	}, nil
}
