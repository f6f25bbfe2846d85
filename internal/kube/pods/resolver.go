package pods

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
)

// Parents are the owner kinds whose own controller is looked up: a
// ReplicaSet belongs to a Deployment, a Job to a CronJob. Other kinds
// (StatefulSet, DaemonSet...) are the top of their chains in practice.
var Parents = map[string]schema.GroupVersionKind{
	"ReplicaSet": {Group: "apps", Version: "v1", Kind: "ReplicaSet"},
	"Job":        {Group: "batch", Version: "v1", Kind: "Job"},
}

// maxChain bounds an owner chain, against cycles in hostile metadata.
const maxChain = 4

// ownerTTL is how long a looked-up owner is trusted; owners of ReplicaSets
// and Jobs almost never change.
const ownerTTL = 10 * time.Minute

// maxCachedOwners bounds the cache; stale entries are dropped as it grows.
const maxCachedOwners = 16384

// GetMeta returns the metadata of the object of kind gvk named ns/name.
type GetMeta func(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (metav1.Object, error)

// MetadataGetter reads metadata through client-go's metadata client.
func MetadataGetter(meta metadata.Interface) GetMeta {
	if meta == nil {
		return nil
	}
	return func(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (metav1.Object, error) {
		gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: resourceOf(gvk.Kind)}
		return meta.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	}
}

// resourceOf is the resource name of the kinds in Parents.
func resourceOf(kind string) string {
	switch kind {
	case "ReplicaSet":
		return "replicasets"
	case "Job":
		return "jobs"
	}
	return ""
}

// Resolver follows a pod's controllers up to its workload, caching what it
// looks up. Safe for concurrent use.
type Resolver struct {
	get GetMeta

	mu     sync.Mutex
	owners map[types.UID]cachedOwner
}

type cachedOwner struct {
	owner *Owner // nil: no controller
	at    time.Time
}

// NewResolver returns a Resolver reading through get; with a nil get,
// chains stop at the pod's own controller.
func NewResolver(get GetMeta) *Resolver {
	return &Resolver{get: get, owners: map[types.UID]cachedOwner{}}
}

// Chain follows controllers up from ref, a pod's controller in namespace
// ns. It reports false when a lookup failed, so the chain may stop short.
func (r *Resolver) Chain(ctx context.Context, ns string, ref *metav1.OwnerReference) ([]Owner, bool) {
	var out []Owner
	for ref != nil && len(out) < maxChain {
		o := Owner{Kind: ref.Kind, Name: ref.Name, UID: ref.UID}
		out = append(out, o)
		gvk, ok := Parents[o.Kind]
		if !ok || r.get == nil {
			break
		}
		next, err := r.parentOf(ctx, gvk, ns, o)
		if err != nil {
			return out, false
		}
		if next == nil {
			break
		}
		ref = &metav1.OwnerReference{Kind: next.Kind, Name: next.Name, UID: next.UID}
	}
	return out, true
}

// parentOf returns the controller of an owner, from the cache or the API.
func (r *Resolver) parentOf(ctx context.Context, gvk schema.GroupVersionKind, ns string, o Owner) (*Owner, error) {
	r.mu.Lock()
	c, ok := r.owners[o.UID]
	r.mu.Unlock()
	if ok && time.Since(c.at) < ownerTTL {
		return c.owner, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err := r.get(ctx, gvk, ns, o.Name)
	if err != nil {
		return nil, fmt.Errorf("getting %s %s/%s: %w", o.Kind, ns, o.Name, err)
	}
	var parent *Owner
	if ref := metav1.GetControllerOf(m); ref != nil {
		parent = &Owner{Kind: ref.Kind, Name: ref.Name, UID: ref.UID}
	}
	r.mu.Lock()
	if len(r.owners) >= maxCachedOwners {
		for k, v := range r.owners {
			if time.Since(v.at) >= ownerTTL {
				delete(r.owners, k)
			}
		}
		if len(r.owners) >= maxCachedOwners {
			clear(r.owners)
		}
	}
	r.owners[o.UID] = cachedOwner{owner: parent, at: time.Now()}
	r.mu.Unlock()
	return parent, nil
}
