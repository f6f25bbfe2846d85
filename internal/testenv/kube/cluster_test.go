package kube

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

// TestClusterRunsALimitedDeployment runs a CPU burner as a Deployment with
// a 500m limit on the real single-node cluster, checks the pod network, the
// limit on the host cgroup and the container's CPU in kubelet's cAdvisor
// metrics, scales it to zero, and checks that teardown, with another pod
// still running, leaves nothing behind.
func TestClusterRunsALimitedDeployment(t *testing.T) {
	testenv.NeedCommand(t, "nsenter")
	testenv.NeedCommand(t, "bash")
	// Built first, so the cluster's timings do not include a compile.
	bins := testbedtest.BuildOnce(t)
	began := time.Now()
	missing := missingHostPaths()
	env := Cluster(t)
	img, err := BinaryImage(bins.Burner, "--mode", "sha", "--threads", "1")
	if err != nil {
		t.Fatal(err)
	}
	const ref = "davy.test/burner:1"
	env.ImportImage(t, img, ref)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cs := env.Clientset
	labels := map[string]string{"app": "burn"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "burn", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: new(int64(1)),
					Containers: []corev1.Container{{
						Name:            "burn",
						Image:           ref,
						ImagePullPolicy: corev1.PullNever,
						Resources: corev1.ResourceRequirements{
							Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
						},
					}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	var pod corev1.Pod
	waitFor(ctx, t, "the burner pod Running", func() bool {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=burn"})
		if err != nil || len(pods.Items) != 1 {
			return false
		}
		pod = pods.Items[0]
		return pod.Status.Phase == corev1.PodRunning && len(pod.Status.ContainerStatuses) == 1 &&
			pod.Status.ContainerStatuses[0].State.Running != nil
	})
	id := strings.TrimPrefix(pod.Status.ContainerStatuses[0].ContainerID, "containerd://")
	t.Logf("pod %s running container %s, %.1fs into the test", pod.Name, id, time.Since(began).Seconds())

	// The pod network: an address on the bridge's subnet, a route to that
	// subnet and none beyond it.
	if ip := net.ParseIP(pod.Status.PodIP); ip == nil || !mustCIDR(podSubnet).Contains(ip) {
		t.Errorf("pod IP %q is not in %s", pod.Status.PodIP, podSubnet)
	}
	ns := podNetns(t, env.StateDir)
	routes := inNetns(t, ns, "ip", "-4", "route", "show")
	if !strings.Contains(routes, "10.203.0.0/24") || strings.Contains(routes, "default") {
		t.Errorf("pod routes:\n%s\nwant the pod subnet only", routes)
	}
	// The API server is reachable from the pod at the node address (what
	// InClusterEnv gives in-cluster clients); anything off the subnet is
	// not, and fails before a packet leaves.
	hostPort := net.JoinHostPort(env.NodeIP, strconv.Itoa(env.APIServerPort))
	inNetns(t, ns, "bash", "-c", "exec 3<>/dev/tcp/"+strings.Replace(hostPort, ":", "/", 1))
	if out, err := exec.Command("nsenter", "--net="+ns, "bash", "-c", "exec 3<>/dev/tcp/192.0.2.1/443").CombinedOutput(); err == nil || !strings.Contains(string(out), "unreachable") {
		t.Errorf("connecting from the pod to 192.0.2.1: %v: %s; want network unreachable", err, out)
	}

	// The limit on the host: the container's own cgroup in the cpu
	// hierarchy, below kubelet's private cgroupRoot.
	cg := findCgroup(t, env.CgroupRoot, id)
	if q := readInt(t, filepath.Join(cg, "cpu.cfs_quota_us")); q != 50000 {
		t.Errorf("cpu.cfs_quota_us of %s = %d, want 50000", cg, q)
	}
	if p := readInt(t, filepath.Join(cg, "cpu.cfs_period_us")); p != 100000 {
		t.Errorf("cpu.cfs_period_us of %s = %d, want 100000", cg, p)
	}
	// And it bites: the burner wants a whole CPU and gets half.
	waitFor(ctx, t, "CFS throttling of the burner", func() bool {
		b, err := os.ReadFile(filepath.Join(cg, "cpu.stat"))
		return err == nil && throttled(string(b)) > 0
	})
	pids := cgroupPIDs(t, cg)
	if len(pids) == 0 {
		t.Fatalf("no process in %s", cg)
	}

	// kubelet's cAdvisor through the API server's node proxy: the series
	// carry the pod and container, and the burner has used CPU.
	var series string
	waitFor(ctx, t, "the burner's CPU in /metrics/cadvisor", func() bool {
		b, err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", env.NodeName, "proxy", "metrics", "cadvisor").DoRaw(ctx)
		if err != nil {
			return false
		}
		series = cpuSeries(string(b), pod.Name, "burn")
		return series != ""
	})
	t.Logf("cadvisor: %s", series)

	// A pod left running at teardown, which then goes through ctr rather
	// than kubelet.
	idle := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "idle", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "idle", Image: sandboxImage, ImagePullPolicy: corev1.PullNever,
		}}},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, idle, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "burn", Namespace: "default"}, Spec: autoscalingv1.ScaleSpec{Replicas: 0}}
	if _, err := cs.AppsV1().Deployments("default").UpdateScale(ctx, "burn", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the burner gone after scaling to zero", func() bool {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=burn"})
		if err != nil || len(pods.Items) != 0 {
			return false
		}
		out, err := env.Ctr(ctx, "tasks", "ls")
		if err != nil || strings.Contains(string(out), id) {
			return false
		}
		for _, pid := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				return false
			}
		}
		return true
	})
	t.Logf("scaled to zero, %.1fs into the test", time.Since(began).Seconds())
	waitFor(ctx, t, "the idle pod Running", func() bool {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "idle", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning
	})

	state, root := env.StateDir, env.CgroupRoot
	if err := env.Stop(); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	t.Logf("torn down, %.1fs into the test", time.Since(began).Seconds())
	assertNothingLeft(t, state, root)
	for _, p := range missing {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s did not exist before the cluster and does after it", p)
		}
	}
}

// hostPaths are where kubelet, containerd and the control plane write by
// default. The CNI directories are not among them: podman, in tests running
// beside this one, may write there too.
var hostPaths = []string{
	"/var/lib/kubelet", "/var/lib/containerd", "/var/log/containers", "/var/log/pods",
	"/run/containerd", "/run/kubernetes", "/etc/kubernetes", "/opt/containerd",
	"/usr/libexec/kubernetes",
}

func missingHostPaths() []string {
	var out []string
	for _, p := range hostPaths {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			out = append(out, p)
		}
	}
	return out
}

// throttled is nr_throttled from a v1 cpu.stat.
func throttled(stat string) int64 {
	for line := range strings.Lines(stat) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "nr_throttled" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

// podNetns is the only pod network namespace, which containerd mounts
// below its state directory.
func podNetns(t *testing.T, state string) string {
	t.Helper()
	var nss []string
	_ = filepath.WalkDir(filepath.Join(state, "containerd", "state"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "cni-") {
			nss = append(nss, p)
		}
		return nil
	})
	if len(nss) != 1 {
		t.Fatalf("pod network namespaces: %v, want one", nss)
	}
	return nss[0]
}

// inNetns runs a command in a network namespace.
func inNetns(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=" + ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v in %s: %v: %s", args, ns, err, out)
	}
	return string(out)
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// findCgroup finds the cgroup directory named after the container in the
// cpu hierarchy below root.
func findCgroup(t *testing.T, root, id string) string {
	t.Helper()
	var found string
	base := filepath.Join("/sys/fs/cgroup/cpu", root)
	_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == id {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no cgroup for container %s under %s", id, base)
	}
	return found
}

func readInt(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

func cgroupPIDs(t *testing.T, dir string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cpuSeries is the container_cpu_usage_seconds_total line of the pod's
// container when it is labelled and above zero.
func cpuSeries(metrics, pod, container string) string {
	sc := bufio.NewScanner(strings.NewReader(metrics))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "container_cpu_usage_seconds_total{") ||
			!strings.Contains(line, `pod="`+pod+`"`) || !strings.Contains(line, `container="`+container+`"`) {
			continue
		}
		f := strings.Fields(line[strings.LastIndex(line, "}")+1:])
		if len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil && v > 0 {
				return line
			}
		}
	}
	return ""
}

// assertNothingLeft checks the host after teardown: no process of the
// cluster, no pod network, no mount, cgroup or file of it.
func assertNothingLeft(t *testing.T, state, root string) {
	t.Helper()
	for _, pid := range procPIDs() {
		if strings.Contains(strings.Join(procCmdline(pid), " "), state) {
			t.Errorf("process %d left: %q", pid, procCmdline(pid))
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil && strings.Contains(string(b), root) {
			t.Errorf("process %d left in cgroup %s: %q", pid, root, procCmdline(pid))
		}
	}
	if _, err := net.InterfaceByName(bridgeName); err == nil {
		t.Errorf("bridge %s left", bridgeName)
	}
	if mps, err := mountsUnder(state); err != nil || len(mps) > 0 {
		t.Errorf("mounts left under %s: %v %v", state, mps, err)
	}
	if dirs := cgroupDirs(root); len(dirs) > 0 {
		t.Errorf("cgroups left: %v", dirs)
	}
	if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state directory %s left (%v)", state, err)
	}
	if _, err := os.Stat(filepath.Join(devicePluginDir, "kubelet.sock")); err == nil {
		t.Errorf("%s/kubelet.sock left", devicePluginDir)
	}
	if left, _ := filepath.Glob(filepath.Join(cniResultsDir, cniNetwork+"-*")); len(left) > 0 {
		t.Errorf("CNI results left: %v", left)
	}
}
