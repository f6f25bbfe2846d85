// Package e2e runs Davy as users run it: the chart installed with helm into
// a real single-node cluster (internal/testenv/kube), Davy's own image and
// the testbed's miners and burners built by the test and imported into the
// node's containerd, Prometheus scraping the kubelet's cAdvisor, and the
// API server calling the webhook.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/controller"
	"github.com/davyproject/davy/internal/kube/reporter"
	"github.com/davyproject/davy/internal/testbed"
	"github.com/davyproject/davy/internal/testbed/pool"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
	"github.com/davyproject/davy/internal/testenv/kube"
)

const (
	davyImage   = "davy.test/davy:e2e"
	minerImage  = "davy.test/calc:1"
	burnerImage = "davy.test/render:1"
)

func TestDavyInACluster(t *testing.T) {
	testenv.NeedRoot(t)
	helm := testenv.Helm(t)
	c := kube.Cluster(t)
	cs := c.Clientset
	ctx := context.Background()

	bins := testbedtest.BuildOnce(t)
	for ref, bin := range map[string]string{davyImage: buildDavy(t), minerImage: bins.Miner, burnerImage: bins.Burner} {
		img, err := kube.BinaryImage(bin)
		must(t, err)
		c.ImportImage(t, img, ref)
	}
	// The simulated pool and the registry the webhook scans images from
	// listen on the node's bridge address, which the test cluster made.
	p := testbedtest.StartPool(t, pool.Config{Addr: net.JoinHostPort(c.NodeIP, "0"), Difficulty: 1})
	reg := startRegistry(t, c.NodeIP)
	promURL := startPrometheus(t, c)

	values := map[string]any{
		"image":    map[string]any{"repository": "davy.test/davy", "tag": "e2e", "pullPolicy": "Never"},
		"extraEnv": c.InClusterEnv(),
		"agent":    map[string]any{"interval": "5s"},
		"controller": map[string]any{
			"prometheusURL": promURL, "limitsFrom": "cadvisor", "cpuThreshold": 0.5, "cpuWindow": "1m", "cpuRateWindow": "30s", "interval": "5s",
			"policy": map[string]any{"rules": []any{map[string]any{"name": "mining", "namespaces": []string{"mining"}, "action": "scale-to-zero"}}},
		},
		"webhook": map[string]any{
			"scanBudget": "8s", "timeoutSeconds": 15, "failurePolicy": "Fail",
			"insecureRegistries": []string{reg},
			// The workloads below run images only the node has: the
			// webhook could not scan them, and they are what the agent
			// and the controller must catch.
			"exemptNamespaces": []string{"mining", "video"},
		},
	}
	vf := filepath.Join(t.TempDir(), "values.yaml")
	b, err := yaml.Marshal(values)
	must(t, err)
	must(t, os.WriteFile(vf, b, 0o600))
	chart := filepath.Join("..", "deploy", "chart", "davy")
	t.Cleanup(func() {
		if t.Failed() {
			podLogs(t, cs, "davy")
		}
	})
	start := time.Now()
	run(t, helm, "install", "davy", chart, "--namespace", "davy", "--create-namespace", "--kubeconfig", c.Kubeconfig,
		"-f", vf, "--wait", "--timeout", "4m")
	// helm --wait does not wait for a DaemonSet's pods to run.
	waitRunning(t, cs, "davy", "app.kubernetes.io/component=agent")
	t.Logf("chart installed and ready in %s", time.Since(start).Round(time.Second))

	t.Run("webhook", func(t *testing.T) { webhook(t, cs, reg, p.URL()) })

	mustNS(t, cs, "mining")
	mustNS(t, cs, "video")
	// The honest heavy job: a burner at its CPU limit, marked as expected.
	burner := deployment("video", "render", burnerImage, map[string]string{controller.ExpectedHighCPU: "true"},
		[]string{"--mode", "sha", "--threads", "1", "--duration", "10m"}, nil)
	_, err = cs.AppsV1().Deployments("video").Create(ctx, burner, metav1.CreateOptions{})
	must(t, err)
	// The miner reads its pool from a config file, as droppers do, with a
	// CPU limit like a well-behaved tenant's.
	cfg := fmt.Sprintf(`{"pools":[{"url":%q,"user":%q,"pass":"x"}],"cpu":{"max-threads-hint":100}}`, p.URL(), testbed.MoneroWallet)
	_, err = cs.CoreV1().ConfigMaps("mining").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "calc"}, Data: map[string]string{"config.json": cfg}}, metav1.CreateOptions{})
	must(t, err)
	miner := deployment("mining", "calc", minerImage, nil, []string{"-c", "/etc/calc/config.json", "-t", "1", "--dataset-mib", "2"}, &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "calc"}})
	_, err = cs.AppsV1().Deployments("mining").Create(ctx, miner, metav1.CreateOptions{})
	must(t, err)
	minerPod := waitRunning(t, cs, "mining", "app=calc")
	running := time.Now()
	waitRunning(t, cs, "video", "app=render")

	rc := reportClient(t, c)
	var rep v1alpha1.MinerReport
	eventually(t, 30*time.Second, "a miner report for the miner Deployment", func() bool {
		err := rc.Get(ctx, client.ObjectKey{Namespace: "mining", Name: "deployment-calc"}, &rep)
		return err == nil && rep.Status.Verdict == v1alpha1.VerdictMiner
	})
	t.Logf("miner found %s after its pod ran: score %d, evidence %v", time.Since(running).Round(time.Second), rep.Status.Score, evidenceIDs(&rep))
	eventually(t, 30*time.Second, "a MinerDetected event on the miner's pod", func() bool {
		evs, err := cs.CoreV1().Events("mining").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + minerPod})
		return err == nil && hasReason(evs.Items, reporter.ReasonMinerDetected)
	})
	// Dry run: the controller records what it would do and does nothing.
	eventually(t, 60*time.Second, "the controller's dry run in the report", func() bool {
		err := rc.Get(ctx, client.ObjectKey{Namespace: "mining", Name: "deployment-calc"}, &rep)
		return err == nil && hasAction(&rep, "scale-to-zero", true)
	})
	if n := replicas(t, cs, "mining", "calc"); n != 1 {
		t.Fatalf("a dry run scaled the miner to %d", n)
	}

	// Enforcing, it scales the miner to zero.
	run(t, helm, "upgrade", "davy", chart, "--namespace", "davy", "--kubeconfig", c.Kubeconfig, "--reuse-values",
		"--set", "controller.enforce=true", "--wait", "--timeout", "3m")
	eventually(t, 90*time.Second, "the miner Deployment scaled to zero", func() bool {
		return replicas(t, cs, "mining", "calc") == 0
	})
	eventually(t, 30*time.Second, "the action in the report", func() bool {
		err := rc.Get(ctx, client.ObjectKey{Namespace: "mining", Name: "deployment-calc"}, &rep)
		return err == nil && hasAction(&rep, "scale-to-zero", false)
	})

	// The CPU rule over the kubelet's real cAdvisor metrics: both
	// workloads burn their 500m limit; the controller leaves the burner
	// out because of its label.
	rule := controller.CPURule{Threshold: 0.5, Window: time.Minute, Step: 10 * time.Second, RateWindow: 30 * time.Second, UnlimitedCores: 0.5, Limits: controller.LimitsCAdvisor}
	prom, err := controller.NewPrometheus(promURL, rule)
	must(t, err)
	eventually(t, 3*time.Minute, "Prometheus to show the burner above half its limit for a minute", func() bool {
		hot, err := prom.Hot(ctx, time.Now())
		if err != nil {
			return false
		}
		for _, h := range hot {
			if h.Namespace == "video" && !h.NoLimit {
				return true
			}
		}
		return false
	})
	var st controller.Status
	var stErr error
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last controller status: %+v (err %v)", st, stErr)
		}
	})
	eventually(t, 30*time.Second, "the controller to exclude the expected high-CPU burner", func() bool {
		st, stErr = controllerStatus(ctx, cs)
		return stErr == nil && st.Excluded >= 1 && len(st.Degraded) == 0
	})
	var reps v1alpha1.MinerReportList
	must(t, rc.List(ctx, &reps, client.InNamespace("video")))
	for _, r := range reps.Items {
		if r.Status.Verdict == v1alpha1.VerdictMiner {
			t.Errorf("the honest burner was called a miner: %+v", r.Status)
		}
	}
	if n := replicas(t, cs, "video", "render"); n != 1 {
		t.Errorf("the honest burner was scaled to %d", n)
	}
}

// webhook checks that the API server calls Davy's webhook: a pod with a
// pool URL in its args and one whose image holds a miner are refused, a
// clean one is admitted.
func webhook(t *testing.T, cs kubernetes.Interface, reg, poolURL string) {
	ctx := context.Background()
	mustNS(t, cs, "shop")
	limits := corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}
	pod := func(name, image string, args ...string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "main", Image: image, Args: args, ImagePullPolicy: corev1.PullNever, Resources: limits}},
		}}
	}
	_, err := cs.CoreV1().Pods("shop").Create(ctx, pod("pool-args", reg+"/render:1", "-o", poolURL), metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Errorf("a pod with a pool URL in its args: %v", err)
	} else {
		t.Logf("refused: %v", err)
	}
	_, err = cs.CoreV1().Pods("shop").Create(ctx, pod("miner-image", reg+"/calc:1"), metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Errorf("a pod with a miner image: %v", err)
	} else {
		t.Logf("refused: %v", err)
	}
	_, err = cs.CoreV1().Pods("shop").Create(ctx, pod("clean", reg+"/render:1", "--help"), metav1.CreateOptions{})
	if err != nil {
		t.Errorf("a clean pod was refused: %v", err)
	}
}

// podLogs prints the tail of every container's log in namespace ns.
func podLogs(t *testing.T, cs kubernetes.Interface, ns string) {
	ctx := context.Background()
	l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("listing pods of %s: %v", ns, err)
		return
	}
	for _, p := range l.Items {
		b, err := cs.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{TailLines: ptr.To[int64](40)}).DoRaw(ctx)
		t.Logf("log of %s/%s (%s, err %v):\n%s", ns, p.Name, p.Status.Phase, err, b)
	}
}

// buildDavy builds a static davy for the image.
func buildDavy(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "davy")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "../cmd/davy")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building davy: %v\n%s", err, b)
	}
	return out
}

// startRegistry serves an in-process registry on host (the cluster's
// bridge address) holding the miner and burner images; it returns
// host:port.
func startRegistry(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	must(t, err)
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	bins := testbedtest.BuildOnce(t)
	for repo, bin := range map[string]string{"calc:1": bins.Miner, "render:1": bins.Burner} {
		img, err := kube.BinaryImage(bin)
		must(t, err)
		ref, err := name.ParseReference(addr+"/"+repo, name.Insecure)
		must(t, err)
		must(t, remote.Write(ref, img))
	}
	return addr
}

// startPrometheus runs Prometheus on the node's bridge address, scraping
// the kubelet's cAdvisor endpoint with a service account token, as an
// in-cluster Prometheus would.
func startPrometheus(t *testing.T, c *kube.ClusterEnv) string {
	t.Helper()
	ctx := context.Background()
	cs := c.Clientset
	mustNS(t, cs, "monitoring")
	_, err := cs.CoreV1().ServiceAccounts("monitoring").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "prometheus"}}, metav1.CreateOptions{})
	must(t, err)
	_, err = cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "e2e-prometheus"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes/metrics", "nodes/stats", "nodes/proxy"}, Verbs: []string{"get"}}}}, metav1.CreateOptions{})
	must(t, err)
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "e2e-prometheus"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "e2e-prometheus"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "monitoring", Name: "prometheus"}}}, metav1.CreateOptions{})
	must(t, err)
	tok, err := cs.CoreV1().ServiceAccounts("monitoring").CreateToken(ctx, "prometheus",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	must(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(tok.Status.Token), 0o600))
	node, err := cs.CoreV1().Nodes().Get(ctx, c.NodeName, metav1.GetOptions{})
	must(t, err)
	target := net.JoinHostPort(c.NodeIP, fmt.Sprint(node.Status.DaemonEndpoints.KubeletEndpoint.Port))
	scrape := fmt.Sprintf(`  - job_name: cadvisor
    scheme: https
    metrics_path: /metrics/cadvisor
    authorization:
      credentials_file: %s
    tls_config:
      insecure_skip_verify: true
    static_configs:
      - targets: [%q]
`, tokenFile, target)
	return testenv.StartPrometheus(t, testenv.PrometheusOptions{Host: c.NodeIP, ScrapeConfigs: scrape, ScrapeInterval: "5s"})
}

func deployment(ns, name, image string, labels map[string]string, args []string, config *corev1.ConfigMapVolumeSource) *appsv1.Deployment {
	lbl := map[string]string{"app": name}
	podLabels := map[string]string{"app": name}
	for k, v := range labels {
		podLabels[k] = v
	}
	spec := corev1.PodSpec{Containers: []corev1.Container{{
		Name: "main", Image: image, Args: args, ImagePullPolicy: corev1.PullNever,
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}},
	}}}
	if config != nil {
		spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: config}}}
		spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "config", MountPath: "/etc/" + name}}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: spec},
		},
	}
}

func waitRunning(t *testing.T, cs kubernetes.Interface, ns, selector string) string {
	t.Helper()
	var name string
	eventually(t, 90*time.Second, "a running pod "+ns+"/"+selector, func() bool {
		l, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false
		}
		for _, p := range l.Items {
			if p.Status.Phase == corev1.PodRunning {
				name = p.Name
				return true
			}
		}
		return false
	})
	return name
}

func replicas(t *testing.T, cs kubernetes.Interface, ns, name string) int32 {
	t.Helper()
	d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	must(t, err)
	return *d.Spec.Replicas
}

// controllerStatus reads the controller's /status from its pod.
func controllerStatus(ctx context.Context, cs kubernetes.Interface) (controller.Status, error) {
	var st controller.Status
	l, err := cs.CoreV1().Pods("davy").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=controller"})
	if err != nil || len(l.Items) == 0 || l.Items[0].Status.PodIP == "" {
		return st, fmt.Errorf("no controller pod: %v", err)
	}
	resp, err := http.Get("http://" + net.JoinHostPort(l.Items[0].Status.PodIP, "9478") + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func reportClient(t *testing.T, c *kube.ClusterEnv) client.Client {
	t.Helper()
	s := clientScheme(t)
	rc, err := client.New(c.Config, client.Options{Scheme: s})
	must(t, err)
	return rc
}

func hasReason(evs []corev1.Event, reason string) bool {
	for _, e := range evs {
		if e.Reason == reason {
			return true
		}
	}
	return false
}

func hasAction(r *v1alpha1.MinerReport, action string, dryRun bool) bool {
	for _, a := range r.Status.Actions {
		if a.Action == action && a.DryRun == dryRun && (dryRun || a.Done) {
			return true
		}
	}
	return false
}

func evidenceIDs(r *v1alpha1.MinerReport) []string {
	var ids []string
	for _, e := range r.Status.Evidence {
		ids = append(ids, e.ID)
	}
	return ids
}

func mustNS(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	_, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

func eventually(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
