package detect

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/davyproject/davy/internal/host"
)

// containerLogPaths lists where runtimes keep a container's output:
// kubelet (containerd, CRI-O), docker's json-file and podman's k8s-file.
func containerLogPaths(rootfs string, c *host.Container) []string {
	if c == nil || !validID(c.ID) {
		return nil
	}
	var out []string
	add := func(p string) {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	// kubelet links /var/log/containers/<pod>_<ns>_<name>-<id>.log to the
	// file under /var/log/pods; links are absolute, so resolve them under rootfs.
	links, _ := filepath.Glob(filepath.Join(rootfs, "var/log/containers", "*-"+c.ID+".log"))
	for _, l := range links {
		if t, err := os.Readlink(l); err == nil && filepath.IsAbs(t) {
			add(filepath.Join(rootfs, t))
		} else {
			add(l)
		}
	}
	if len(out) == 0 && c.PodUID != "" && validID(c.PodUID) {
		// Without the link, read every container log of the pod.
		pods, _ := filepath.Glob(filepath.Join(rootfs, "var/log/pods", "*_"+c.PodUID, "*", "*.log"))
		for _, p := range pods {
			add(p)
		}
	}
	add(filepath.Join(rootfs, "var/lib/docker/containers", c.ID, c.ID+"-json.log"))
	add(filepath.Join(rootfs, "var/lib/containers/storage/overlay-containers", c.ID, "userdata/ctr.log"))
	return out
}

// processOutputPaths lists a bare process's stdout and stderr when they are
// redirected to files ("nohup ./miner > out.log").
func processOutputPaths(procfs string, pid int) []string {
	var out []string
	seen := map[string]bool{}
	for _, fd := range []string{"1", "2"} {
		p := filepath.Join(procfs, strconv.Itoa(pid), "fd", fd)
		target, err := os.Readlink(p)
		if err != nil || seen[target] || target == "/dev/null" {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			seen[target] = true
			out = append(out, p)
		}
	}
	return out
}

// validID keeps IDs read from cgroup paths from escaping a directory in a glob.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
