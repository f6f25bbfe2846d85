package respond

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/davyproject/davy/internal/host"
)

// freezeContainer freezes the cgroup of t's container: cgroup.freeze in
// the unified (v2) hierarchy when the container has a cgroup there, else
// the v1 freezer. The cgroup is found from /proc/PID/cgroup of one of the
// container's processes, so it is the kernel's own answer, whatever the
// runtime's naming. It returns the file written.
func (r *Responder) freezeContainer(t Target, dryRun bool) (string, error) {
	var errs []error
	for _, p := range t.Processes {
		ticks, err := host.StartTicks(r.o.ProcFS, p.PID)
		if err != nil || ticks != p.StartTicks {
			continue
		}
		file, value, err := r.freezerOf(p.PID, t.ContainerID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if dryRun {
			return file, nil
		}
		if err := os.WriteFile(file, []byte(value), 0); err != nil {
			return file, fmt.Errorf("freezing: %w", err)
		}
		return file, nil
	}
	if len(errs) == 0 {
		return "", fmt.Errorf("every process of the container is gone")
	}
	return "", errors.Join(errs...)
}

// freezerOf returns the freeze control file for pid's cgroup and the value
// that freezes it. The cgroup must be the container's (its path names the
// container ID): a process that left its container is not a handle on it.
func (r *Responder) freezerOf(pid int, containerID string) (file, value string, err error) {
	data, err := os.ReadFile(filepath.Join(r.o.ProcFS, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return "", "", fmt.Errorf("cgroup of %d: %w", pid, err)
	}
	var v1, v2 string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case hasController(parts[1], "freezer"):
			v1 = parts[2]
		}
	}
	if v2 != "" && v2 != "/" && strings.Contains(v2, containerID) {
		for _, root := range []string{r.o.CgroupFS, filepath.Join(r.o.CgroupFS, "unified")} {
			f := filepath.Join(root, filepath.Clean("/"+v2), "cgroup.freeze")
			if _, err := os.Stat(f); err == nil {
				return f, "1", nil
			}
		}
	}
	if v1 != "" && v1 != "/" && strings.Contains(v1, containerID) {
		f := filepath.Join(r.o.CgroupFS, "freezer", filepath.Clean("/"+v1), "freezer.state")
		if _, err := os.Stat(f); err == nil {
			return f, "FROZEN", nil
		}
	}
	return "", "", fmt.Errorf("no freezer for the cgroup of %d (v2 %q, v1 freezer %q)", pid, v2, v1)
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// ownContainer is the container davy itself runs in, or "".
func (r *Responder) ownContainer() string {
	data, err := os.ReadFile(filepath.Join(r.o.ProcFS, "self", "cgroup"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 {
			if info := host.ParseCgroupPath(parts[2]); info.ContainerID != "" {
				return info.ContainerID
			}
		}
	}
	return ""
}
