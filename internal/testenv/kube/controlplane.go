package kube

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
)

// controlPlane holds the files and ports the control plane components share.
type controlPlane struct {
	bin, dir string
	pki      *pki

	etcdPort, peerPort, apiPort, cmPort, schedPort int

	adminKubeconfig, cmKubeconfig, schedKubeconfig string
	apiServing, kubeletClient                      keyPair
	saKey, saPub                                   string
}

// prepare writes the certificates, keys and kubeconfigs.
func (c *controlPlane) prepare() error {
	var err error
	for _, p := range []*int{&c.etcdPort, &c.peerPort, &c.apiPort, &c.cmPort, &c.schedPort} {
		if *p, err = freePort("127.0.0.1"); err != nil {
			return err
		}
	}
	if c.saKey, c.saPub, err = c.pki.serviceAccountKeys(); err != nil {
		return err
	}
	// The first address of the service range is the kubernetes Service's.
	c.apiServing, err = c.pki.issue("apiserver", "kube-apiserver", nil, []string{
		"127.0.0.1", nodeIP, firstServiceIP(), "localhost",
		"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
	})
	if err != nil {
		return err
	}
	// The API server calls kubelet as a member of system:masters, which
	// kubelet's webhook authorizer then allows.
	if c.kubeletClient, err = c.pki.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, nil); err != nil {
		return err
	}
	users := []struct {
		path *string
		name string
		cn   string
		orgs []string
	}{
		{&c.adminKubeconfig, "admin", "davy-admin", []string{"system:masters"}},
		// Its controllers run with its own credentials, not one service
		// account each: fetching forty tokens one after the other held
		// the node lifecycle controller, and so the node's not-ready taint,
		// back by seconds.
		{&c.cmKubeconfig, "controller-manager", "system:kube-controller-manager", []string{"system:masters"}},
		{&c.schedKubeconfig, "scheduler", "system:kube-scheduler", nil},
	}
	for _, u := range users {
		kp, err := c.pki.issue(u.name, u.cn, u.orgs, nil)
		if err != nil {
			return err
		}
		*u.path = filepath.Join(c.dir, u.name+".kubeconfig")
		if err := c.pki.kubeconfig(*u.path, c.apiURL(), kp); err != nil {
			return err
		}
	}
	return nil
}

func (c *controlPlane) apiURL() string {
	return "https://" + net.JoinHostPort(nodeIP, strconv.Itoa(c.apiPort))
}

func (c *controlPlane) startEtcd(logs string) (*proc, error) {
	peer := fmt.Sprintf("http://127.0.0.1:%d", c.peerPort)
	client := fmt.Sprintf("http://127.0.0.1:%d", c.etcdPort)
	return startProc("etcd", filepath.Join(logs, "etcd.log"), filepath.Join(c.bin, "etcd"),
		"--name=davy",
		"--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=davy="+peer,
		// A test cluster's data need not survive a crash.
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
}

// waitEtcd polls etcd's health endpoint.
func (c *controlPlane) waitEtcd(ctx context.Context, p *proc) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/health", c.etcdPort)
	return poll(ctx, p, "etcd health", func() (bool, error) {
		resp, err := http.Get(url)
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(b), `"true"`), nil
	})
}

func (c *controlPlane) startAPIServer(logs string) (*proc, error) {
	return startProc("kube-apiserver", filepath.Join(logs, "kube-apiserver.log"), filepath.Join(c.bin, "kube-apiserver"),
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", c.etcdPort),
		// Only the bridge address: the host's and the pods' way in, never
		// the host's real interfaces.
		"--bind-address="+nodeIP,
		"--advertise-address="+nodeIP,
		fmt.Sprintf("--secure-port=%d", c.apiPort),
		"--cert-dir="+filepath.Join(c.dir, "apiserver"),
		"--tls-cert-file="+c.apiServing.Cert,
		"--tls-private-key-file="+c.apiServing.Key,
		"--client-ca-file="+c.pki.CAFile,
		"--service-cluster-ip-range="+serviceCIDR,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+c.saPub,
		"--service-account-signing-key-file="+c.saKey,
		"--authorization-mode=Node,RBAC",
		"--kubelet-client-certificate="+c.kubeletClient.Cert,
		"--kubelet-client-key="+c.kubeletClient.Key,
		"--kubelet-certificate-authority="+c.pki.CAFile,
		"--kubelet-preferred-address-types=InternalIP",
		"--allow-privileged=true",
		// With no kube-proxy, Service cluster IPs lead nowhere: the API
		// server reaches admission webhooks behind Services through their
		// endpoints (pod IPs on the bridge) instead.
		"--enable-aggregator-routing=true",
		"--profiling=false",
	)
}

func (c *controlPlane) startControllerManager(logs string) (*proc, error) {
	return startProc("kube-controller-manager", filepath.Join(logs, "kube-controller-manager.log"), filepath.Join(c.bin, "kube-controller-manager"),
		"--kubeconfig="+c.cmKubeconfig,
		"--authentication-kubeconfig="+c.cmKubeconfig,
		"--authorization-kubeconfig="+c.cmKubeconfig,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", c.cmPort),
		"--cert-dir="+filepath.Join(c.dir, "controller-manager"),
		"--leader-elect=false",
		// The token controller signs with the API server's key; the root
		// CA publisher writes kube-root-ca.crt, which projected service
		// account volumes mount.
		"--service-account-private-key-file="+c.saKey,
		"--root-ca-file="+c.pki.CAFile,
		"--cluster-signing-cert-file="+c.pki.CAFile,
		"--cluster-signing-key-file="+filepath.Join(c.pki.dir, "ca.key"),
		// It creates this directory, by default under /usr/libexec.
		"--flex-volume-plugin-dir="+filepath.Join(c.dir, "flexvolume"),
		// The not-ready taint goes sooner after the node turns Ready.
		"--node-monitor-period=1s",
		"--profiling=false",
	)
}

func (c *controlPlane) startScheduler(logs string) (*proc, error) {
	return startProc("kube-scheduler", filepath.Join(logs, "kube-scheduler.log"), filepath.Join(c.bin, "kube-scheduler"),
		"--kubeconfig="+c.schedKubeconfig,
		"--authentication-kubeconfig="+c.schedKubeconfig,
		"--authorization-kubeconfig="+c.schedKubeconfig,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", c.schedPort),
		"--leader-elect=false",
		"--profiling=false",
	)
}

// waitAPIServer polls /readyz with the admin credentials.
func waitAPIServer(ctx context.Context, p *proc, cs kubernetes.Interface) error {
	return poll(ctx, p, "kube-apiserver /readyz", func() (bool, error) {
		b, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(b) == "ok", nil
	})
}

// poll runs cond every 100 ms until it holds, ctx ends or p exits.
func poll(ctx context.Context, p *proc, what string, cond func() (bool, error)) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if p != nil {
			if done, err := p.exited(); done {
				return fmt.Errorf("waiting for %s: %s exited (%v); see %s", what, p.name, err, p.log)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// freePort asks the kernel for a free TCP port on host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func firstServiceIP() string {
	_, n, _ := net.ParseCIDR(serviceCIDR)
	ip := n.IP.To4()
	return net.IPv4(ip[0], ip[1], ip[2], ip[3]+1).String()
}
