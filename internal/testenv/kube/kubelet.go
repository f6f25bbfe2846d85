package kube

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// kubelet holds the node agent's files.
type kubelet struct {
	bin, dir   string
	nodeName   string
	cgroupRoot string
	port       int
	healthPort int
	config     string
	kubeconfig string
}

func (k *kubelet) rootDir() string { return filepath.Join(k.dir, "root") }
func (k *kubelet) podLogs() string { return filepath.Join(k.dir, "pod-logs") }

// prepare writes kubelet's certificates, kubeconfig and configuration.
func (k *kubelet) prepare(p *pki, apiURL, containerdSocket string) error {
	var err error
	if k.port, err = freePort(nodeIP); err != nil {
		return err
	}
	if k.healthPort, err = freePort("127.0.0.1"); err != nil {
		return err
	}
	// The node authorizer knows kubelet by this name and group.
	client, err := p.issue("kubelet-client", "system:node:"+k.nodeName, []string{"system:nodes"}, nil)
	if err != nil {
		return err
	}
	serving, err := p.issue("kubelet-serving", "system:node:"+k.nodeName, []string{"system:nodes"}, []string{nodeIP, k.nodeName})
	if err != nil {
		return err
	}
	k.kubeconfig = filepath.Join(k.dir, "kubeconfig")
	if err := p.kubeconfig(k.kubeconfig, apiURL, client); err != nil {
		return err
	}
	cfg := map[string]any{
		"apiVersion": "kubelet.config.k8s.io/v1beta1",
		"kind":       "KubeletConfiguration",
		// This host has cgroup v1 controllers (hybrid): kubelet 1.36 exits
		// on v1 unless told otherwise.
		"failCgroupV1": false,
		"cgroupDriver": "cgroupfs", // no systemd here
		"cgroupRoot":   k.cgroupRoot,
		"failSwapOn":   false,
		// Lowering its own oom_score_adj takes CAP_SYS_RESOURCE.
		"oomScoreAdj":              0,
		"containerRuntimeEndpoint": "unix://" + containerdSocket,
		"address":                  nodeIP,
		"port":                     k.port,
		"readOnlyPort":             0,
		"healthzBindAddress":       "127.0.0.1",
		"healthzPort":              k.healthPort,
		"tlsCertFile":              serving.Cert,
		"tlsPrivateKeyFile":        serving.Key,
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": true},
			"x509":      map[string]any{"clientCAFile": p.CAFile},
		},
		"authorization": map[string]any{"mode": "Webhook"},
		// Kept out of fixed host paths: pod logs and FlexVolume plugins
		// (kubelet creates /usr/libexec/kubernetes/... otherwise).
		"podLogsDir":      k.podLogs(),
		"volumePluginDir": filepath.Join(k.dir, "volume-plugins"),
		"staticPodPath":   "",
		"resolvConf":      "", // no cluster DNS, and pods have no egress
		// Otherwise kubelet adds KUBE-FIREWALL and friends to the host's
		// iptables.
		"makeIPTablesUtilChains": false,
		// Imported images can never be pulled again: never collect them,
		// and let a nearly full test disk not evict the test's pods.
		"imageGCHighThresholdPercent": 100,
		"imageGCLowThresholdPercent":  99,
		"evictionHard": map[string]string{
			"memory.available":  "50Mi",
			"nodefs.available":  "1%",
			"nodefs.inodesFree": "1%",
			"imagefs.available": "1%",
		},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("kubelet config: %w", err)
	}
	k.config = filepath.Join(k.dir, "config.yaml") // JSON is YAML
	if err := os.WriteFile(k.config, b, 0o600); err != nil {
		return fmt.Errorf("kubelet config: %w", err)
	}
	return nil
}

func (k *kubelet) start(logs, containerdSocket string) (*proc, error) {
	return startProc("kubelet", filepath.Join(logs, "kubelet.log"), filepath.Join(k.bin, "kubelet"),
		"--config="+k.config,
		"--kubeconfig="+k.kubeconfig,
		"--root-dir="+k.rootDir(),
		"--cert-dir="+filepath.Join(k.dir, "pki"),
		"--hostname-override="+k.nodeName,
		"--node-ip="+nodeIP,
		// The embedded cAdvisor looks for containerd at its default socket
		// otherwise, and then labels no series with pod or container.
		"--containerd="+containerdSocket,
		"--v=2",
	)
}
