package kube

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// sysctls kubelet sets on the host (unless protectKernelDefaults, which
// makes it refuse to start where they differ). The CNI bridge plugin would
// turn on net.ipv4.ip_forward for a gateway bridge; ours is not one, and
// that sysctl is left alone, since other tests' podman may need it.
var sysctls = []string{"vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"}

func readSysctls() (map[string]string, error) {
	m := map[string]string{}
	for _, k := range sysctls {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			return nil, fmt.Errorf("reading sysctl %s: %w", k, err)
		}
		m[k] = strings.TrimSpace(string(b))
	}
	return m, nil
}

// sysctlFile keeps the values from before the cluster in its state
// directory, so a later run restores them when this one is killed.
const sysctlFile = "sysctls.json"

func saveSysctls(dir string, m map[string]string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("saving sysctls: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, sysctlFile), b, 0o600); err != nil {
		return fmt.Errorf("saving sysctls: %w", err)
	}
	return nil
}

func loadSysctls(dir string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, sysctlFile))
	if err != nil {
		return nil, fmt.Errorf("reading saved sysctls: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading saved sysctls: %w", err)
	}
	for k := range m {
		if !slices.Contains(sysctls, k) {
			return nil, fmt.Errorf("saved sysctls name %q, which the cluster never changes", k)
		}
	}
	return m, nil
}

func restoreSysctls(saved map[string]string) error {
	var errs []error
	for k, v := range saved {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err == nil && strings.TrimSpace(string(b)) == v {
			continue
		}
		if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring sysctl %s=%s: %w", k, v, err))
		}
	}
	return errors.Join(errs...)
}

// Paths kubelet, containerd and the CNI plugins write outside the state
// directory whatever they are configured with.
const (
	devicePluginDir = "/var/lib/kubelet/device-plugins"
	containerLogDir = "/var/log/containers"
	cniResultsDir   = "/var/lib/cni/results"
	shimSocketDir   = "/run/containerd/s"
)

// outside records which of those directories existed, so teardown removes
// the ones the cluster created and, in the others, only what it wrote.
type outside struct {
	created      []string // missing before start, parents first
	deviceBefore map[string]bool
}

// outsideDirs are the directories in question with their parents, parents
// first, up to the first that is not the cluster's alone.
func outsideDirs() []string {
	var out []string
	for _, leaf := range []string{devicePluginDir, containerLogDir, cniResultsDir, shimSocketDir} {
		var chain []string
		for d := leaf; d != "/" && d != "/var/lib" && d != "/var/log" && d != "/run"; d = filepath.Dir(d) {
			chain = append(chain, d)
		}
		slices.Reverse(chain)
		for _, d := range chain {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

func recordOutside() (*outside, error) {
	o := &outside{deviceBefore: map[string]bool{}}
	for _, d := range outsideDirs() {
		if _, err := os.Lstat(d); errors.Is(err, fs.ErrNotExist) {
			o.created = append(o.created, d)
		}
	}
	ents, _ := os.ReadDir(devicePluginDir)
	for _, e := range ents {
		o.deviceBefore[e.Name()] = true
	}
	return o, nil
}

// clean removes what the cluster wrote: new entries of kubelet's device
// plugin directory (its socket and checkpoint), the log links into logDir,
// the CNI results of the cluster's network and of the loopback of its pod
// sandboxes (named by sandbox ID), the given shim sockets, then the
// directories that did not exist before, when empty: something else (podman
// and its CNI cache, say) may have written there meanwhile.
func (o *outside) clean(logDir string, sandboxIDs, shimSockets []string) error {
	var errs []error
	rm := func(p string) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	ents, _ := os.ReadDir(devicePluginDir)
	for _, e := range ents {
		if !o.deviceBefore[e.Name()] {
			rm(filepath.Join(devicePluginDir, e.Name()))
		}
	}
	ents, _ = os.ReadDir(containerLogDir)
	for _, e := range ents {
		p := filepath.Join(containerLogDir, e.Name())
		if target, err := os.Readlink(p); err == nil && within(target, logDir) {
			rm(p)
		}
	}
	ents, _ = os.ReadDir(cniResultsDir)
	for _, e := range ents {
		ours := strings.HasPrefix(e.Name(), cniNetwork+"-")
		for _, id := range sandboxIDs {
			ours = ours || strings.Contains(e.Name(), "-"+id+"-")
		}
		if ours {
			rm(filepath.Join(cniResultsDir, e.Name()))
		}
	}
	for _, s := range shimSockets {
		if within(s, shimSocketDir) {
			rm(s)
		}
	}
	for _, d := range slices.Backward(o.created) {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
			errs = append(errs, fmt.Errorf("removing %s, which the cluster created: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// mountsUnder lists the mount points at or below dir, deepest last.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mounts: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if within(mp, dir) {
			out = append(out, mp)
		}
	}
	return out, sc.Err()
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// unmountAll detaches every mount at or below dir: container root
// filesystems, sandbox /dev/shm, pod network namespaces, kubelet's volumes
// and its shared bind mount of its root directory.
func unmountAll(dir string) error {
	if !strings.Contains(filepath.Base(dir), "davyk-") {
		return fmt.Errorf("refusing to unmount below %q, which is no cluster state directory", dir)
	}
	for range 10 {
		mps, err := mountsUnder(dir)
		if err != nil {
			return err
		}
		if len(mps) == 0 {
			return nil
		}
		for _, mp := range slices.Backward(mps) {
			_ = syscall.Unmount(mp, syscall.MNT_DETACH)
		}
	}
	mps, _ := mountsUnder(dir)
	return fmt.Errorf("mounts left under %s: %s", dir, strings.Join(mps, ", "))
}

// cgroupHierarchies are the mounted cgroup hierarchies: every v1
// controller, name=systemd and the unified one on a hybrid host.
func cgroupHierarchies() ([]string, error) {
	ents, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return nil, fmt.Errorf("listing cgroup hierarchies: %w", err)
	}
	var out []string
	for _, e := range ents {
		p := filepath.Join("/sys/fs/cgroup", e.Name())
		// Symlinks such as cpu,cpuacct point at a hierarchy listed anyway.
		if e.Type()&fs.ModeSymlink != 0 || !e.IsDir() {
			continue
		}
		var st syscall.Statfs_t
		if syscall.Statfs(p, &st) == nil && (st.Type == 0x27e0eb || st.Type == 0x63677270) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		// A pure cgroup v2 host has the hierarchy at /sys/fs/cgroup itself.
		out = append(out, "/sys/fs/cgroup")
	}
	return out, nil
}

// makeCgroupRoot makes kubelet's private cgroupRoot in every hierarchy;
// kubelet refuses to start without it.
func makeCgroupRoot(root string) error {
	hs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	for _, h := range hs {
		d := filepath.Join(h, root)
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("making cgroup %s: %w", d, err)
		}
		// A v1 cpuset child starts with no CPUs and no memory nodes, and no
		// process can join it until they are copied from the parent.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if b, err := os.ReadFile(filepath.Join(h, f)); err == nil {
				if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
					return fmt.Errorf("setting %s of %s: %w", f, d, err)
				}
			}
		}
	}
	return nil
}

// cgroupDirs lists the cgroup directories at or below root, deepest first.
func cgroupDirs(root string) []string {
	hs, _ := cgroupHierarchies()
	var out []string
	for _, h := range hs {
		base := filepath.Join(h, root)
		_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return out
}

// removeCgroupRoot removes the private cgroups, retrying while the kernel
// still counts exited processes in them.
func removeCgroupRoot(root string) error {
	if !strings.HasPrefix(root, "/davykube-") || strings.Contains(root[1:], "/") {
		return fmt.Errorf("refusing to remove cgroup %q, which is no cluster cgroupRoot", root)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var left []string
		for _, d := range cgroupDirs(root) {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
				left = append(left, fmt.Sprintf("%s (%v)", d, err))
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups left: %s", strings.Join(left, ", "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
