package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"github.com/davyproject/davy/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTakeRealContainer starts a real container with bare runc, under a
// cgroupfs kubelet-style path with a CPU quota of half a core, runs a busy
// loop in it, and checks that Take attributes its processes to the
// container and reads its cgroup counter and limit. Needs root, runc and a
// static busybox.
func TestTakeRealContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a container")
	}
	testenv.NeedRoot(t)
	runc := testenv.NeedCommand(t, "runc")
	busybox := testenv.NeedCommand(t, "busybox")
	fileOut, _ := exec.Command("file", "-L", busybox).Output()
	testenv.Need(t, strings.Contains(string(fileOut), "statically linked"), "static busybox (Debian busybox-static)")

	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"sh", "timeout"} {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", l)); err != nil {
			t.Fatal(err)
		}
	}

	id := randomHex(t, 32)
	top := "davy-test-" + id[:8]
	uid := "0c1d2e3f-4a5b-4c6d-8e7f-" + id[:12]
	cgPath := "/" + top + "/kubepods/burstable/pod" + uid + "/" + id
	if out, err := exec.Command(runc, "spec", "--bundle", dir).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v: %s", err, out)
	}
	spec := map[string]any{}
	specPath := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	// The busy loop ends by itself after a minute even if this test dies:
	// timeout is not the container's PID 1, which would ignore its signal.
	proc["args"] = containerArgs
	spec["root"] = map[string]any{"path": rootfs, "readonly": true}
	linux := spec["linux"].(map[string]any)
	linux["cgroupsPath"] = cgPath
	res, _ := linux["resources"].(map[string]any)
	if res == nil {
		res = map[string]any{}
		linux["resources"] = res
	}
	res["cpu"] = map[string]any{"quota": 50000, "period": 100000}
	raw, err = json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	state := filepath.Join(dir, "state")
	name := "davy-host-test-" + id[:8]
	// The container inherits runc's stdio: files, not pipes that Run would
	// wait on until the container ends.
	errFile, err := os.Create(filepath.Join(dir, "runc.err"))
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	run := exec.Command(runc, "--root", state, "run", "--detach", "--bundle", dir, name)
	run.Stderr = errFile
	if err := run.Run(); err != nil {
		msg, _ := os.ReadFile(errFile.Name())
		t.Fatalf("runc run: %v: %s", err, msg)
	}
	t.Cleanup(func() {
		// runc kills and removes only this container's processes and cgroups.
		_ = exec.Command(runc, "--root", state, "delete", "--force", name).Run()
		removeCgroupDirs(top)
	})
	out, err := exec.Command(runc, "--root", state, "state", name).Output()
	if err != nil {
		t.Fatalf("runc state: %v", err)
	}
	var st struct{ Pid int }
	if err := json.Unmarshal(out, &st); err != nil || st.Pid == 0 {
		t.Fatalf("runc state %s: %v", out, err)
	}
	time.Sleep(200 * time.Millisecond) // let timeout start the shell

	s, err := Take(context.Background(), Options{Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var c *Container
	for _, x := range s.Containers {
		if x.ID == id {
			c = x
		}
	}
	if c == nil {
		t.Fatalf("container %s not found; containers %+v; init %+v", id, s.Containers, s.Process(st.Pid))
	}
	if c.Runtime != RuntimeContainerd || c.PodUID != uid || c.QoS != QoSBurstable || c.CgroupPath != cgPath {
		t.Errorf("container %+v; want runtime containerd, pod %s, burstable, path %s", *c, uid, cgPath)
	}
	// sh (PID 1 inside), the busy sh that timeout became, timeout's watcher
	if len(c.PIDs) != 3 || !slices.Contains(c.PIDs, st.Pid) {
		t.Errorf("container PIDs %v, want the init %d and two more", c.PIDs, st.Pid)
	}
	if !near(c.CPULimit, 0.5) {
		t.Errorf("CPULimit = %v, want 0.5", c.CPULimit)
	}
	// The quota holds the loop at half a core at most; the counter says so.
	// How much of that half it gets depends on what else the machine runs
	// (other test packages), so the lower bound only says it ran.
	if c.CPU <= 0.02 || c.CPU > 0.6 {
		t.Errorf("container CPU = %.2f cores, want above 0 and at most the 0.5 quota", c.CPU)
	}
	var sum float64
	for _, pid := range c.PIDs {
		p := mustFind(t, s, pid)
		sum += p.CPU
		if p.ContainerID != id || p.CgroupPath != cgPath || p.NetNS == 0 || p.NetNS == selfNetNS(t) {
			t.Errorf("process %d: container %q cgroup %q netns %d", pid, p.ContainerID, p.CgroupPath, p.NetNS)
		}
	}
	if d := sum - c.CPU; d > 0.15 || d < -0.15 {
		t.Errorf("processes use %.2f cores, the cgroup counter says %.2f", sum, c.CPU)
	}
	init := mustFind(t, s, st.Pid)
	if init.Exe != "/bin/busybox" || !slices.Equal(init.Cmdline, containerArgs) {
		t.Errorf("init exe %q cmdline %q", init.Exe, init.Cmdline)
	}
}

var containerArgs = []string{"/bin/sh", "-c", "/bin/timeout 60 /bin/sh -c 'while :; do :; done'; exit 0"}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// removeCgroupDirs removes the empty cgroup directories that runc left
// above the container under top, in every hierarchy.
func removeCgroupDirs(top string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	for _, r := range roots {
		base := filepath.Join(r, top)
		var dirs []string
		_ = filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		slices.SortFunc(dirs, func(a, b string) int { return len(b) - len(a) })
		for _, d := range dirs {
			_ = os.Remove(d) // only empty cgroups go; rmdir of a cgroup ignores its files
		}
	}
}
