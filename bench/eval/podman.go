package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// podman runs the evaluation's containers with runc and file logs.
type podman struct {
	conf string
	seq  int
}

func newPodman(dir string) (*podman, error) {
	for _, c := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(c); err != nil {
			return nil, fmt.Errorf("%s is needed for the container cases (run scripts/install-test-deps.sh, or pass -no-containers)", c)
		}
	}
	conf := filepath.Join(dir, "containers.conf")
	err := os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = [\"nofile=4096:4096\",\"nproc=4096:4096\"]\nlog_driver = \"k8s-file\"\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"), 0o644)
	return &podman{conf: conf}, err
}

func (p *podman) cmd(args ...string) (string, error) {
	c := exec.Command("podman", args...)
	c.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func (p *podman) run(args ...string) (string, error) {
	// Named, so a container that `podman run` created but could not start
	// is removed too.
	p.seq++
	name := fmt.Sprintf("davy-eval-%d-%d", os.Getpid(), p.seq)
	id, err := p.cmd(append([]string{"run", "-d", "--name", name}, args...)...)
	if err != nil {
		p.remove(name)
	}
	return id, err
}

func (p *podman) remove(id string) { _, _ = p.cmd("rm", "-f", "-t", "0", id) }

// rootfs lays out a minimal root filesystem with a static busybox.
func (p *podman) rootfs(dir string, files map[string]string) error {
	for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	files["bin/busybox"] = "/bin/busybox"
	for dst, src := range files {
		if err := copyFile(src, filepath.Join(dir, dst)); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	for _, app := range []string{"sh", "sha256sum"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", app)); err != nil {
			return err
		}
	}
	return nil
}
