package pods_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/ptr"

	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/testenv/kube"
)

func TestIndexMapsContainersToPodsAndOwners(t *testing.T) {
	cfg := kube.APIServer(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ns := "shop"
	must(t, create(ctx, cs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))

	labels := map[string]string{"app": "web"}
	dep, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels, corev1.RestartPolicyAlways),
		},
	}, metav1.CreateOptions{})
	must(t, err)
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-7d9", OwnerReferences: []metav1.OwnerReference{controllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels, corev1.RestartPolicyAlways),
		},
	}, metav1.CreateOptions{})
	must(t, err)
	cj, err := cs.BatchV1().CronJobs(ns).Create(ctx, &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly"},
		Spec:       batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: podTemplate(nil, corev1.RestartPolicyNever)}}},
	}, metav1.CreateOptions{})
	must(t, err)
	job, err := cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly-2911", OwnerReferences: []metav1.OwnerReference{controllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))}},
		Spec:       batchv1.JobSpec{Template: podTemplate(nil, corev1.RestartPolicyNever)},
	}, metav1.CreateOptions{})
	must(t, err)

	webPod := newPod(ns, "web-7d9-x2", "node-a", labels, controllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet")))
	webPod = createPod(ctx, t, cs, webPod, "containerd://"+id('a'), "registry.example/web@sha256:"+id('d'))
	jobPod := createPod(ctx, t, cs, newPod(ns, "nightly-2911-q", "node-a", nil, controllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))), "containerd://"+id('b'), "")
	bare := createPod(ctx, t, cs, newPod(ns, "debug", "node-a", nil, metav1.OwnerReference{}), "", "")
	createPod(ctx, t, cs, newPod(ns, "elsewhere", "node-b", nil, metav1.OwnerReference{}), "containerd://"+id('e'), "")

	x := pods.New(cs, metadata.NewForConfigOrDie(cfg), "node-a", nil)
	must(t, x.Run(ctx, 30*time.Second))

	p := waitLookup(t, x, id('a'), "")
	if p.Name != webPod.Name || p.Namespace != ns || p.UID != webPod.UID || p.Node != "node-a" || p.Labels["app"] != "web" {
		t.Errorf("web pod = %+v", p)
	}
	if w := p.Workload(); w.Kind != "Deployment" || w.Name != "web" || w.UID != dep.UID {
		t.Errorf("web workload = %+v, want Deployment web", w)
	}
	if len(p.Owners) != 2 || p.Owners[0].Kind != "ReplicaSet" || !p.Resolved {
		t.Errorf("web owners = %+v (resolved %v)", p.Owners, p.Resolved)
	}
	if d := p.ImageDigests(); len(d) != 1 || d[0] != "sha256:"+id('d') {
		t.Errorf("image digests = %v", d)
	}
	if c, ok := p.Container(id('a')); !ok || c.Name != "main" {
		t.Errorf("container = %+v, %v", c, ok)
	}

	if w := waitLookup(t, x, id('b'), "").Workload(); w.Kind != "CronJob" || w.Name != "nightly" {
		t.Errorf("job pod workload = %+v, want CronJob nightly", w)
	}
	// A container not yet in the pod's status is found by the pod UID of
	// its cgroup path.
	if w := waitLookup(t, x, id('c'), string(bare.UID)).Workload(); w.Kind != "Pod" || w.Name != "debug" {
		t.Errorf("bare pod workload = %+v", w)
	}
	if _, ok := x.Lookup(id('e'), ""); ok {
		t.Error("a pod of another node was indexed")
	}

	must(t, cs.CoreV1().Pods(ns).Delete(ctx, jobPod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, ok := x.Lookup(id('b'), ""); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a deleted pod stayed in the index")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitLookup(t *testing.T, x *pods.Index, containerID, podUID string) *pods.Pod {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if p, ok := x.Lookup(containerID, podUID); ok {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s (pod %s) not found in the index of %d pods", containerID, podUID, x.Len())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func id(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func podTemplate(labels map[string]string, restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy: restart,
			Containers:    []corev1.Container{{Name: "main", Image: "registry.example/web:1"}},
		},
	}
}

func controllerRef(o metav1.Object, gvk schema.GroupVersionKind) metav1.OwnerReference {
	return *metav1.NewControllerRef(o, gvk)
}

func newPod(ns, name, node string, labels map[string]string, owner metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       podTemplate(nil, corev1.RestartPolicyAlways).Spec,
	}
	p.Spec.NodeName = node
	if owner.Name != "" {
		p.OwnerReferences = []metav1.OwnerReference{owner}
	}
	return p
}

// createPod creates a pod and, as a kubelet would, reports its container.
func createPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, p *corev1.Pod, containerID, imageID string) *corev1.Pod {
	t.Helper()
	p, err := cs.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
	must(t, err)
	if containerID == "" {
		return p
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", ContainerID: containerID, Image: p.Spec.Containers[0].Image, ImageID: imageID}}
	p, err = cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	must(t, err)
	return p
}

func create(ctx context.Context, cs kubernetes.Interface, ns *corev1.Namespace) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	return err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
