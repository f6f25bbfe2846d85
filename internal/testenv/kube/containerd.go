package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// criNamespace is the containerd namespace of the CRI plugin.
const criNamespace = "k8s.io"

// sandboxImage is the pause image the helper builds and imports; it can
// never be pulled, so pods fail loudly if it is missing.
const sandboxImage = "davy.test/pause:1"

// containerd is the cluster's own containerd: its root, state, socket and
// runc root are all in the state directory.
type containerd struct {
	dir    string // root of its files
	socket string
	config string
}

func newContainerd(dir string) *containerd {
	return &containerd{
		dir:    dir,
		socket: filepath.Join(dir, "containerd.sock"),
		config: filepath.Join(dir, "config.toml"),
	}
}

func (c *containerd) stateDir() string { return filepath.Join(c.dir, "state") }

// writeConfig writes a version 2 config: CRI with runc and cgroupfs, the
// Debian CNI plugins, and nothing at fixed host paths: the opt plugin
// (/opt/containerd) is off, and the v1 runtime, which the tasks service
// needs loaded even when unused, keeps its runc root here too.
func (c *containerd) writeConfig(cniConfDir string) error {
	q := strconv.Quote
	cfg := `version = 2
root = ` + q(filepath.Join(c.dir, "root")) + `
state = ` + q(c.stateDir()) + `
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = ` + q(c.socket) + `

[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = ` + q(filepath.Join(c.dir, "runc-v1")) + `

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ` + q(sandboxImage) + `
  # Without CAP_SYS_RESOURCE runc cannot set the negative oom_score_adj
  # kubelet asks for the sandbox ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  # Pod network namespaces are mounted here, not in /run/netns.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ` + q(filepath.Join(c.dir, "runc")) + `
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ` + q(cniConfDir) + `
    max_conf_num = 1
`
	if err := os.WriteFile(c.config, []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("containerd config: %w", err)
	}
	return nil
}

func (c *containerd) start(logs string) (*proc, error) {
	return startProc("containerd", filepath.Join(logs, "containerd.log"), "containerd", "--config", c.config)
}

// wait polls until containerd answers on its socket.
func (c *containerd) wait(ctx context.Context, p *proc) error {
	return poll(ctx, p, "containerd", func() (bool, error) {
		if _, err := os.Stat(c.socket); err != nil {
			return false, nil
		}
		_, err := c.ctr(ctx, "version")
		return err == nil, nil
	})
}

// ctr runs ctr against this containerd in the CRI namespace.
func (c *containerd) ctr(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"--address", c.socket, "--namespace", criNamespace}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// shimSockets are the ttrpc sockets of this containerd's shims, which live
// in /run/containerd/s whatever the state directory; each task's bundle
// names its shim's in an "address" file.
func (c *containerd) shimSockets() []string {
	files, _ := filepath.Glob(filepath.Join(c.stateDir(), "io.containerd.runtime.v2.task", "*", "*", "address"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		addr := strings.TrimSpace(string(b))
		addr = strings.TrimPrefix(addr, "unix://")
		if addr != "" {
			out = append(out, addr)
		}
	}
	return out
}

// sandboxIDs are the pod sandboxes the CRI plugin has a directory for,
// which is also how CNI names its cached results.
func (c *containerd) sandboxIDs() []string {
	ents, _ := os.ReadDir(filepath.Join(c.dir, "root", "io.containerd.grpc.v1.cri", "sandboxes"))
	var ids []string
	for _, e := range ents {
		ids = append(ids, e.Name())
	}
	return ids
}

// removeAll kills every task with SIGKILL and deletes tasks and
// containers, while containerd still runs and kubelet no longer does.
func (c *containerd) removeAll(ctx context.Context) error {
	var errs []error
	tasks, err := c.ids(ctx, "tasks", "ls")
	if err != nil {
		return err
	}
	for _, id := range tasks {
		// A task that already stopped refuses the signal; delete copes.
		_, _ = c.ctr(ctx, "tasks", "kill", "--all", "--signal", "SIGKILL", id)
	}
	for _, id := range tasks {
		if _, err := c.ctr(ctx, "tasks", "delete", "--force", id); err != nil && !strings.Contains(err.Error(), "not found") {
			errs = append(errs, err)
		}
	}
	containers, err := c.ids(ctx, "containers", "ls")
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, id := range containers {
		if _, err := c.ctr(ctx, "containers", "delete", id); err != nil && !strings.Contains(err.Error(), "not found") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ids lists the first column of a ctr listing, without its header.
func (c *containerd) ids(ctx context.Context, args ...string) ([]string, error) {
	out, err := c.ctr(ctx, args...)
	if err != nil {
		return nil, err
	}
	var ids []string
	for i, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 0 {
			ids = append(ids, f[0])
		}
	}
	return ids, nil
}

// killShims kills the shims this containerd started and that outlived it.
// A shim is recognised by its command line naming this containerd's
// socket, which no other process on the host has.
func (c *containerd) killShims() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := c.shimPIDs()
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd shims still running: %v", pids)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *containerd) shimPIDs() []int {
	var pids []int
	for _, pid := range procPIDs() {
		args := procCmdline(pid)
		if len(args) == 0 || !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i, a := range args[:len(args)-1] {
			if a == "-address" && args[i+1] == c.socket {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func procPIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func procCmdline(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}
