// Package pods maps the containers running on one node to their pods, from
// a pod informer limited to that node: namespace, name, UID, labels,
// annotations, the owner chain up to the workload, and image digests. The
// agent reads it for the k8s.* rule fields and for the reports it writes.
package pods

import (
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Owner is one link of an owner chain: a ReplicaSet, a Deployment, a Job...
type Owner struct {
	Kind string
	Name string
	UID  types.UID
}

// Container is one container of a pod as its status reports it.
type Container struct {
	// ID is the runtime's container ID without its "containerd://" scheme,
	// as internal/host reads it from cgroup paths.
	ID      string
	Name    string
	Image   string
	ImageID string // the image digest the runtime resolved, when known
}

// Pod is what the agent knows of one pod. A Pod is never modified once
// published, so readers share it without locks.
type Pod struct {
	Namespace   string
	Name        string
	UID         types.UID
	Node        string
	Labels      map[string]string
	Annotations map[string]string
	// Owners runs from the pod's controller (a ReplicaSet, a Job...) up to
	// the top one (a Deployment, a CronJob...); empty for a bare pod.
	Owners     []Owner
	Containers []Container
	// Resolved is false while owners above the first could not be looked
	// up yet; the chain then stops at the pod's own controller.
	Resolved bool

	version string // the object's resourceVersion, for retries
}

// Workload is the top of the owner chain, or the pod itself when it has no
// controller: what a report is about and what remediation acts on.
func (p *Pod) Workload() Owner {
	if n := len(p.Owners); n > 0 {
		return p.Owners[n-1]
	}
	return Owner{Kind: "Pod", Name: p.Name, UID: p.UID}
}

// Container returns the container with the given runtime ID.
func (p *Pod) Container(id string) (Container, bool) {
	for _, c := range p.Containers {
		if c.ID == id {
			return c, true
		}
	}
	return Container{}, false
}

// ImageDigests lists the distinct image digests of the pod's containers.
func (p *Pod) ImageDigests() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range p.Containers {
		if d := digestOf(c.ImageID); d != "" && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// digestOf keeps the digest of an imageID such as
// "docker.io/library/x@sha256:..." or "sha256:...".
func digestOf(imageID string) string {
	if i := strings.LastIndex(imageID, "@"); i >= 0 {
		imageID = imageID[i+1:]
	}
	if strings.HasPrefix(imageID, "sha256:") {
		return imageID
	}
	return ""
}

// RuntimeID drops the runtime scheme of a status container ID
// ("containerd://abc" -> "abc"), as internal/host names containers.
func RuntimeID(id string) string {
	if i := strings.Index(id, "://"); i >= 0 {
		return id[i+3:]
	}
	return id
}

// FromObject copies what Davy needs out of a Pod object; owners are set by
// the caller.
func FromObject(o *corev1.Pod) *Pod {
	p := &Pod{
		Namespace:   o.Namespace,
		Name:        o.Name,
		UID:         o.UID,
		Node:        o.Spec.NodeName,
		Labels:      maps.Clone(o.Labels),
		Annotations: maps.Clone(o.Annotations),
	}
	for _, list := range [][]corev1.ContainerStatus{o.Status.InitContainerStatuses, o.Status.ContainerStatuses, o.Status.EphemeralContainerStatuses} {
		for _, s := range list {
			if s.ContainerID == "" {
				continue
			}
			p.Containers = append(p.Containers, Container{ID: RuntimeID(s.ContainerID), Name: s.Name, Image: s.Image, ImageID: s.ImageID})
		}
	}
	return p
}
