package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/davyproject/davy/internal/testenv"
)

// NodeName is the cluster's only node.
const NodeName = "davy-node"

// Start-up budget: a Ready node takes 6-10 s on an idle 2-core machine, a
// good deal more when other test packages run beside it.
const clusterStartTimeout = 3 * time.Minute

// lockTimeout bounds the wait for another test's cluster to finish.
const lockTimeout = 10 * time.Minute

// ClusterEnv is a running single-node cluster: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, containerd with the CRI plugin
// and runc, the CNI bridge plugin and kubelet, all started by the test and
// all stopped, with every trace they leave on the host, when it ends.
type ClusterEnv struct {
	// Config has admin rights (system:masters).
	Config    *rest.Config
	Clientset kubernetes.Interface
	// Kubeconfig is the path of an admin kubeconfig for kubectl.
	Kubeconfig string
	// BinDir holds the Kubernetes binaries, kubectl among them.
	BinDir string
	// NodeName and NodeIP are the node's; NodeIP is the pod bridge's
	// address, where the API server and kubelet listen.
	NodeName, NodeIP string
	// APIServerPort is the API server's port on NodeIP.
	APIServerPort int
	// ContainerdSocket is the cluster's containerd (namespace k8s.io).
	ContainerdSocket string
	// StateDir holds every file of the cluster, logs in StateDir/logs;
	// it is removed at the end.
	StateDir string
	// CgroupRoot is kubelet's cgroupRoot, present in every hierarchy.
	CgroupRoot string

	t        testing.TB
	lock     *os.File
	logDir   string
	cd       *containerd
	sysctls  map[string]string
	outside  *outside
	procs    map[string]*proc
	cgroupOK bool
	bridgeOK bool

	began  time.Time
	phases []string

	stopOnce sync.Once
	stopErr  error
}

// Cluster starts a single-node cluster and waits until the node is Ready
// and schedulable, the default service account exists and Davy's CRDs are
// established. It holds a host-wide lock while it runs: one cluster per
// host. Without root, containerd, ctr, runc or the CNI plugins it fails
// under CI (DAVY_REQUIRE_INTEGRATION=1) and skips otherwise.
func Cluster(t testing.TB) *ClusterEnv {
	t.Helper()
	testenv.NeedRoot(t)
	for _, c := range []string{"containerd", "ctr", "runc", "ip"} {
		testenv.NeedCommand(t, c)
	}
	for _, p := range []string{"bridge", "host-local", "loopback"} {
		_, err := os.Stat(filepath.Join("/usr/lib/cni", p))
		testenv.Need(t, err == nil, "CNI plugin /usr/lib/cni/"+p+" (containernetworking-plugins)")
	}
	bin := ClusterBinDir(t)
	pause, err := pauseBinary()
	if err != nil {
		t.Fatal(err)
	}

	lockCtx, cancelLock := context.WithTimeout(context.Background(), lockTimeout)
	defer cancelLock()
	lock, err := hostLock(lockCtx)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkNoKubelet(); err != nil {
		lock.Close()
		t.Fatal(err)
	}
	if err := cleanStale(t.Logf); err != nil {
		lock.Close()
		t.Fatal(err)
	}
	c := &ClusterEnv{t: t, lock: lock, BinDir: bin, NodeName: NodeName, NodeIP: nodeIP, procs: map[string]*proc{}}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("tearing the cluster down: %v", err)
		}
	})
	c.began = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	defer cancel()
	if err := c.start(ctx, pause); err != nil {
		t.Fatalf("starting the cluster: %v", err)
	}
	t.Logf("cluster: usable %.1fs after start (%s; state in %s)", time.Since(c.began).Seconds(), strings.Join(c.phases, ", "), c.StateDir)
	return c
}

func (c *ClusterEnv) start(ctx context.Context, pauseBin string) error {
	var err error
	// Short: socket paths below it must stay under 108 bytes.
	base := os.TempDir()
	if len(base) > 40 {
		base = "/tmp"
	}
	if c.StateDir, err = os.MkdirTemp(base, "davyk-"); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	c.logDir = filepath.Join(c.StateDir, "logs")
	if err := os.Mkdir(c.logDir, 0o755); err != nil {
		return fmt.Errorf("log directory: %w", err)
	}
	if c.sysctls, err = readSysctls(); err != nil {
		return err
	}
	if err := saveSysctls(c.StateDir, c.sysctls); err != nil {
		return err
	}
	if c.outside, err = recordOutside(); err != nil {
		return err
	}
	c.CgroupRoot = "/davykube-" + strings.TrimPrefix(filepath.Base(c.StateDir), "davyk-")
	c.cgroupOK = true // partial directories are removed too
	if err := makeCgroupRoot(c.CgroupRoot); err != nil {
		return err
	}
	c.bridgeOK = true
	if err := setupBridge(); err != nil {
		return err
	}

	p, err := newPKI(filepath.Join(c.StateDir, "pki"))
	if err != nil {
		return err
	}
	cp := &controlPlane{bin: c.BinDir, dir: filepath.Join(c.StateDir, "control-plane"), pki: p}
	if err := os.MkdirAll(cp.dir, 0o700); err != nil {
		return fmt.Errorf("control plane directory: %w", err)
	}
	if err := cp.prepare(); err != nil {
		return err
	}
	c.APIServerPort, c.Kubeconfig = cp.apiPort, cp.adminKubeconfig
	c.cd = newContainerd(filepath.Join(c.StateDir, "containerd"))
	c.ContainerdSocket = c.cd.socket
	if err := os.MkdirAll(c.cd.dir, 0o711); err != nil {
		return fmt.Errorf("containerd directory: %w", err)
	}
	cniConf := filepath.Join(c.StateDir, "cni", "net.d")
	if err := writeCNIConfig(cniConf, filepath.Join(c.StateDir, "cni", "ipam")); err != nil {
		return err
	}
	if err := c.cd.writeConfig(cniConf); err != nil {
		return err
	}
	kl := &kubelet{bin: c.BinDir, dir: filepath.Join(c.StateDir, "kubelet"), nodeName: c.NodeName, cgroupRoot: c.CgroupRoot}
	if err := os.MkdirAll(kl.dir, 0o700); err != nil {
		return fmt.Errorf("kubelet directory: %w", err)
	}
	if err := kl.prepare(p, cp.apiURL(), c.cd.socket); err != nil {
		return err
	}

	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return fmt.Errorf("admin config: %w", err)
	}
	c.Config.QPS, c.Config.Burst = 50, 100
	if c.Clientset, err = kubernetes.NewForConfig(c.Config); err != nil {
		return fmt.Errorf("admin client: %w", err)
	}

	// etcd and containerd first, side by side; each step then waits only
	// for what it needs.
	if err := c.run("etcd", func() (*proc, error) { return cp.startEtcd(c.logDir) }); err != nil {
		return err
	}
	if err := c.run("containerd", func() (*proc, error) { return c.cd.start(c.logDir) }); err != nil {
		return err
	}
	if err := cp.waitEtcd(ctx, c.procs["etcd"]); err != nil {
		return err
	}
	c.phase("etcd ready")
	if err := c.run("kube-apiserver", func() (*proc, error) { return cp.startAPIServer(c.logDir) }); err != nil {
		return err
	}
	if err := c.cd.wait(ctx, c.procs["containerd"]); err != nil {
		return err
	}
	pauseImg, err := BinaryImage(pauseBin)
	if err != nil {
		return err
	}
	if err := c.importImage(pauseImg, sandboxImage); err != nil {
		return err
	}
	if err := waitAPIServer(ctx, c.procs["kube-apiserver"], c.Clientset); err != nil {
		return err
	}
	c.phase("API server ready")
	// Only now: the controller-manager exits when RBAC's bootstrap roles
	// are not there yet, and kubelet backs off for seconds between failed
	// node registrations.
	if err := c.run("kube-controller-manager", func() (*proc, error) { return cp.startControllerManager(c.logDir) }); err != nil {
		return err
	}
	if err := c.run("kube-scheduler", func() (*proc, error) { return cp.startScheduler(c.logDir) }); err != nil {
		return err
	}
	if err := c.run("kubelet", func() (*proc, error) { return kl.start(c.logDir, c.cd.socket) }); err != nil {
		return err
	}
	crdList, err := davyCRDs()
	if err != nil {
		return err
	}
	if _, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{CRDs: crdList, MaxTime: time.Minute}); err != nil {
		return fmt.Errorf("installing Davy's CRDs: %w", err)
	}
	return c.waitUsable(ctx)
}

// phase notes how long start-up took to reach a step.
func (c *ClusterEnv) phase(what string) {
	c.phases = append(c.phases, fmt.Sprintf("%s %.1fs", what, time.Since(c.began).Seconds()))
}

// run starts a component and records it for teardown.
func (c *ClusterEnv) run(name string, start func() (*proc, error)) error {
	p, err := start()
	if err != nil {
		return err
	}
	c.procs[name] = p
	return nil
}

// waitUsable waits until a pod can be created and scheduled at once: the
// node Ready without the not-ready taint, the default service account and
// the root CA config map there.
func (c *ClusterEnv) waitUsable(ctx context.Context) error {
	cs := c.Clientset
	var ready bool
	if err := c.poll(ctx, "node "+c.NodeName+" Ready and untainted", func() (bool, error) {
		n, err := cs.CoreV1().Nodes().Get(ctx, c.NodeName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				if !ready {
					ready = true
					c.phase("node Ready")
				}
				// The node lifecycle controller removes the not-ready
				// taint only after its own start-up.
				return len(n.Spec.Taints) == 0, nil
			}
		}
		return false, nil
	}); err != nil {
		return err
	}
	c.phase("untainted")
	return c.poll(ctx, "the default service account and kube-root-ca.crt", func() (bool, error) {
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return false, nil
		}
		_, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil, nil
	})
}

// poll is the package's poll watching every component at once.
func (c *ClusterEnv) poll(ctx context.Context, what string, cond func() (bool, error)) error {
	return poll(ctx, nil, what, func() (bool, error) {
		for _, p := range c.procs {
			if done, err := p.exited(); done {
				return false, fmt.Errorf("%s exited (%v); see %s", p.name, err, p.log)
			}
		}
		return cond()
	})
}

// InClusterEnv is what in-cluster clients need in their pod spec: there is
// no kube-proxy, so the kubernetes Service's ClusterIP goes nowhere, and
// the API server is reached at the node address instead.
func (c *ClusterEnv) InClusterEnv() []corev1.EnvVar {
	return []corev1.EnvVar{
		{Name: "KUBERNETES_SERVICE_HOST", Value: c.NodeIP},
		{Name: "KUBERNETES_SERVICE_PORT", Value: strconv.Itoa(c.APIServerPort)},
	}
}

// Ctr runs ctr against the cluster's containerd in the k8s.io namespace.
func (c *ClusterEnv) Ctr(ctx context.Context, args ...string) ([]byte, error) {
	return c.cd.ctr(ctx, args...)
}

// checkNoKubelet refuses to start beside another kubelet, whose device
// plugin socket ours would replace.
func checkNoKubelet() error {
	for _, pid := range procPIDs() {
		if args := procCmdline(pid); len(args) > 0 && filepath.Base(args[0]) == "kubelet" {
			return fmt.Errorf("a kubelet (pid %d) already runs on this host", pid)
		}
	}
	return nil
}

// Stop tears the cluster down; it runs at the test's end and may be called
// earlier to check what is left. Order: kubelet, the control plane, the
// containers through ctr, containerd and any shim left, then mounts, the
// pod network, cgroups, sysctls and the files written outside StateDir.
func (c *ClusterEnv) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *ClusterEnv) stop() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, name := range []string{"kubelet", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"} {
		add(c.procs[name].stop(15 * time.Second))
	}
	var shimSockets, sandboxes []string
	if c.cd != nil {
		shimSockets, sandboxes = c.cd.shimSockets(), c.cd.sandboxIDs()
		if p := c.procs["containerd"]; p != nil {
			if done, _ := p.exited(); !done {
				add(c.cd.removeAll(ctx))
				shimSockets = append(shimSockets, c.cd.shimSockets()...)
			}
		}
		add(c.procs["containerd"].stop(15 * time.Second))
		add(c.cd.killShims())
	}
	if c.StateDir != "" {
		add(unmountAll(c.StateDir))
	}
	if c.bridgeOK {
		add(deleteBridge())
	}
	if c.cgroupOK {
		add(removeCgroupRoot(c.CgroupRoot))
	}
	if c.sysctls != nil {
		add(restoreSysctls(c.sysctls))
	}
	if c.outside != nil {
		add(c.outside.clean(filepath.Join(c.StateDir, "kubelet", "pod-logs"), sandboxes, shimSockets))
	}
	err := errors.Join(errs...)
	if c.t.Failed() || err != nil {
		c.logTails()
	}
	if keep := os.Getenv("DAVY_CLUSTER_LOGS"); keep != "" && c.logDir != "" {
		if cpErr := copyLogs(c.logDir, keep); cpErr != nil {
			c.t.Logf("cluster: keeping logs: %v", cpErr)
		}
	}
	if c.StateDir != "" && err == nil {
		if rmErr := os.RemoveAll(c.StateDir); rmErr != nil {
			err = fmt.Errorf("removing %s: %w", c.StateDir, rmErr)
		}
	} else if c.StateDir != "" {
		// The next cluster's start cleans it up (cleanStale).
		c.t.Logf("cluster: state kept in %s after teardown errors", c.StateDir)
	}
	if c.lock != nil {
		c.lock.Close()
	}
	return err
}

// copyLogs copies the components' logs into dir (DAVY_CLUSTER_LOGS), for
// reading after a passing run too.
func copyLogs(from, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("log copy directory: %w", err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		return fmt.Errorf("reading logs: %w", err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return fmt.Errorf("reading log: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return fmt.Errorf("copying log: %w", err)
		}
	}
	return nil
}

// logTails writes the end of every component's log to the test log.
func (c *ClusterEnv) logTails() {
	if c.logDir == "" {
		return
	}
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet"} {
		path := filepath.Join(c.logDir, name+".log")
		if _, err := os.Stat(path); err != nil {
			continue
		}
		n := int64(4096)
		if name == "kubelet" || name == "containerd" {
			n = 12288
		}
		c.t.Logf("%s log (tail):\n%s", name, tailFile(path, n))
	}
}
