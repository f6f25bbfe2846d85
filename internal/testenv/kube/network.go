package kube

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The pod network: a bridge the helper makes before anything starts, whose
// address is also the node's. The API server and kubelet listen on it, so
// pods reach them, and nothing listens on the host's real interfaces. No
// default route and no masquerade: pods have no egress.
const (
	bridgeName  = "davykube0"
	podSubnet   = "10.203.0.0/24"
	nodeIP      = "10.203.0.1"
	serviceCIDR = "10.203.1.0/24" // never routed: there is no kube-proxy
	cniNetwork  = "davy-test"
)

// setupBridge makes the bridge with the node address. A bridge of this name
// can only be a leftover of an earlier run of this helper that died without
// cleanup (the host lock rules out a live one), so it is replaced.
func setupBridge() error {
	if _, err := net.InterfaceByName(bridgeName); err == nil {
		if err := deleteBridge(); err != nil {
			return err
		}
	}
	_, sub, _ := net.ParseCIDR(podSubnet)
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && (sub.Contains(n.IP) || n.Contains(sub.IP)) {
				return fmt.Errorf("the pod subnet %s overlaps the host address %s", podSubnet, n)
			}
		}
	}
	for _, args := range [][]string{
		{"link", "add", bridgeName, "type", "bridge"},
		{"addr", "add", nodeIP + "/24", "dev", bridgeName},
		{"link", "set", bridgeName, "up"},
	} {
		if err := ip(args...); err != nil {
			return err
		}
	}
	return nil
}

// deleteBridge removes the veths on the bridge, then the bridge.
func deleteBridge() error {
	var errs []string
	out, err := exec.Command("ip", "-o", "link", "show", "master", bridgeName).Output()
	if err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			// A veth goes with its peer when the pod's namespace does,
			// which can happen between the listing and here.
			if err := ip("link", "del", name); err != nil {
				if _, gone := net.InterfaceByName(name); gone != nil {
					continue
				}
				errs = append(errs, err.Error())
			}
		}
	}
	if _, err := net.InterfaceByName(bridgeName); err == nil {
		if err := ip("link", "del", bridgeName); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("removing the pod network: %s", strings.Join(errs, "; "))
	}
	return nil
}

// writeCNIConfig writes the bridge conflist containerd loads. The bridge is
// no gateway to the plugin: it has its address from setupBridge already,
// pods reach it on the link, and a gateway bridge would have the plugin turn
// on the host's IP forwarding. host-local keeps its leases in the state
// directory; containerd's CRI plugin adds the loopback interface itself.
func writeCNIConfig(confDir, ipamDir string) error {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       cniNetwork,
		"plugins": []any{map[string]any{
			"type":             "bridge",
			"bridge":           bridgeName,
			"isGateway":        false,
			"isDefaultGateway": false,
			"ipMasq":           false,
			"ipam": map[string]any{
				"type":    "host-local",
				"dataDir": ipamDir,
				"ranges":  []any{[]any{map[string]any{"subnet": podSubnet, "gateway": nodeIP}}},
			},
		}},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return fmt.Errorf("CNI config: %w", err)
	}
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		return fmt.Errorf("CNI config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "10-davy.conflist"), b, 0o644); err != nil {
		return fmt.Errorf("CNI config: %w", err)
	}
	return nil
}

func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
