package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/alert"
	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
	"github.com/davyproject/davy/internal/testbed/pool"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
	"github.com/davyproject/davy/internal/testenv/kube"
)

// TestAgentNamesThePodAndReportsIt runs a miner in a cgroup laid out as the
// kubelet lays out a pod's container, for a pod that exists in a real API
// server: the alert carries the pod's namespace, name and labels, and the
// workload gets a MinerReport and its pod a MinerDetected Event.
func TestAgentNamesThePodAndReportsIt(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	cfg := kube.APIServer(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	const node, ns = "node-1", "batch"
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b [32]byte
	rand.Read(b[:])
	containerID := hex.EncodeToString(b[:])
	pod, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "render-0", Labels: map[string]string{"team": "video"}},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "render", Image: "registry.test/render:2.1"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "render", ContainerID: "containerd://" + containerID, Image: "registry.test/render:2.1"}}
	if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	idx := pods.New(cs, metadata.NewForConfigOrDie(cfg), node, quietLog())
	if err := idx.Run(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	clientgoscheme.AddToScheme(scheme)
	v1alpha1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	rec, stop := reporter.NewRecorder(cs, node)
	t.Cleanup(stop)
	withOptions = func(o *Options) {
		o.Pods = idx
		o.Reports = reporter.New(reporter.Options{Client: c, Events: rec, Node: node, Log: quietLog()})
	}
	t.Cleanup(func() { withOptions = nil })
	_, col := startAgent(t, "auto", time.Hour, nil)

	dirs := podCgroups(t, string(pod.UID), containerID)
	p := testbedtest.StartPool(t, pool.Config{Difficulty: 1})
	// The shell joins the container's cgroups and then execs the miner, so
	// the miner's exec happens inside the "container".
	script := `for d in ` + strings.Join(dirs, " ") + `; do echo $$ > "$d/cgroup.procs"; done; exec "$0" "$@"`
	m := testbedtest.Start(t, "/bin/sh", append([]string{"-c", script, bins.Miner}, testbedtest.MinerArgs(p.URL())...)...)

	got := col.wait(t, 20*time.Second, "a miner alert naming the pod", func(al alert.Alert) bool {
		return al.Rule == "Miner verdict" && al.OutputFields["k8s.pod.name"] == pod.Name
	})
	if got.OutputFields["k8s.ns.name"] != ns || !strings.Contains(got.Output, ns+"/"+pod.Name) {
		t.Errorf("alert: %s %v", got.Output, got.OutputFields)
	}
	t.Logf("alert: %s", got.Output)

	var rep v1alpha1.MinerReport
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pod-render-0"}, &rep)
		if err == nil && rep.Status.Verdict == v1alpha1.VerdictMiner {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no miner report for the pod (last error %v, report %+v)", err, rep.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rep.Spec.Workload.ContainerIDs[0] != containerID || rep.Status.ReportingNodes[0] != node {
		t.Errorf("report %+v / %+v", rep.Spec.Workload, rep.Status)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod.Name})
		if err == nil && len(evs.Items) > 0 && evs.Items[0].Reason == reporter.ReasonMinerDetected {
			t.Logf("event: %s", evs.Items[0].Message)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no MinerDetected event on the pod")
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.Stop()
}

// podCgroups makes the cgroups of a container of a besteffort pod, as the
// kubelet with the cgroupfs driver names them, under a private parent, in
// each hierarchy the host reads containers from. They are removed when the
// test ends (after its processes, which t.Cleanup stops first).
func podCgroups(t *testing.T, podUID, containerID string) []string {
	t.Helper()
	var roots []string
	for _, r := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(r, "cgroup.procs")); err == nil {
			roots = append(roots, r)
		}
	}
	if len(roots) == 0 {
		t.Fatal("no cgroup hierarchy found")
	}
	parent := "davy-agent-test-" + containerID[:8]
	var dirs []string
	for _, r := range roots {
		dir := filepath.Join(r, parent, "kubepods", "besteffort", "pod"+podUID, containerID)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
		t.Cleanup(func() {
			for d := dir; d != r; d = filepath.Dir(d) {
				if err := os.Remove(d); err != nil {
					t.Errorf("removing cgroup: %v", err)
					return
				}
			}
		})
	}
	return dirs
}
