package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// containersConf makes podman use runc (crun fails on hybrid cgroup
// layouts), cgroupfs, and file logs that davy's log detector can read.
const containersConf = `[containers]
default_ulimits = ["nofile=4096:4096","nproc=4096:4096"]
log_driver = "k8s-file"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`

// Podman runs containers for one test and removes them when it ends.
type Podman struct {
	tb   testing.TB
	conf string
}

// NewPodman checks for root, podman and runc and writes a containers.conf.
func NewPodman(tb testing.TB) *Podman {
	tb.Helper()
	NeedRoot(tb)
	NeedCommand(tb, "podman")
	NeedCommand(tb, "runc")
	conf := filepath.Join(tb.TempDir(), "containers.conf")
	if err := os.WriteFile(conf, []byte(containersConf), 0o644); err != nil {
		tb.Fatal(err)
	}
	return &Podman{tb: tb, conf: conf}
}

func (p *Podman) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, "podman", args...)
	c.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	return c
}

// Podman runs one podman command and returns its trimmed stdout.
func (p *Podman) Podman(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	c := p.cmd(ctx, args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return "", &podmanError{args: args, err: err, stderr: errb.String()}
	}
	return strings.TrimSpace(out.String()), nil
}

type podmanError struct {
	args   []string
	err    error
	stderr string
}

func (e *podmanError) Error() string {
	return "podman " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + strings.TrimSpace(e.stderr)
}

func (e *podmanError) Unwrap() error { return e.err }

var containerSeq atomic.Int64

// Container is one running test container.
type Container struct {
	ID  string
	PID int
}

// Run starts a detached container from a root filesystem directory (no
// image pull: tests never reach a registry) and removes it at cleanup.
// runArgs go before --rootfs (e.g. "--cpus", "0.5"); cmd is the command.
func (p *Podman) Run(rootfs string, runArgs []string, cmd ...string) Container {
	p.tb.Helper()
	// A named container can be removed even when `podman run` fails after
	// creating it (a runtime error at start leaves it "Created").
	name := fmt.Sprintf("davy-test-%d-%d", os.Getpid(), containerSeq.Add(1))
	args := []string{"run", "-d", "--name", name}
	if !hasNetworkArg(runArgs) {
		// Tests reach nothing by default; a test that needs its loopback
		// pool passes --network=host.
		args = append(args, "--network=none")
	}
	args = append(args, runArgs...)
	args = append(args, "--rootfs", rootfs)
	args = append(args, cmd...)
	p.tb.Cleanup(func() {
		if _, err := p.Podman("rm", "-f", "-t", "0", "--ignore", name); err != nil {
			p.tb.Logf("removing container %s: %v", name, err)
		}
	})
	id, err := p.Podman(args...)
	if err != nil {
		p.tb.Fatal(err)
	}
	pidText, err := p.Podman("inspect", "--format", "{{.State.Pid}}", id)
	if err != nil {
		p.tb.Fatal(err)
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		p.tb.Fatalf("container %s has no PID (%q)", id, pidText)
	}
	return Container{ID: id, PID: pid}
}

// Rootfs builds a minimal root filesystem: a static busybox as /bin/sh and
// the given files (destination path in the rootfs -> source path on the host).
func Rootfs(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, d := range []string{"bin", "tmp", "etc", "proc", "sys", "dev"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		tb.Fatal(err)
	}
	Need(tb, isFile("/bin/busybox"), "static /bin/busybox (Debian busybox-static)")
	copyFile(tb, "/bin/busybox", filepath.Join(dir, "bin/busybox"), 0o755)
	for _, app := range []string{"sh", "sleep", "cat", "cp", "sha256sum", "gzip"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", app)); err != nil {
			tb.Fatal(err)
		}
	}
	for dst, src := range files {
		copyFile(tb, src, filepath.Join(dir, dst), 0o755)
	}
	return dir
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func copyFile(tb testing.TB, src, dst string, mode os.FileMode) {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		tb.Fatal(err)
	}
}

func hasNetworkArg(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "--network") || strings.HasPrefix(a, "--net=") {
			return true
		}
	}
	return false
}
