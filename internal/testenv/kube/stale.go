package kube

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cleanStale removes what an earlier cluster left when its test binary was
// killed before teardown (a go test timeout, SIGKILL): its components die
// with the test binary, but shims, containers, mounts and cgroups outlive
// it. It runs under the host lock, so every state directory named like
// ours belongs to a dead run. Only processes that run was known to start
// are killed: shims naming its containerd socket, processes naming its
// state directory, and processes inside its private cgroups.
func cleanStale(logf func(string, ...any)) error {
	var errs []error
	seen := map[string]bool{}
	for _, base := range []string{os.TempDir(), "/tmp"} {
		dirs, _ := filepath.Glob(filepath.Join(base, "davyk-*"))
		for _, dir := range dirs {
			id := strings.TrimPrefix(filepath.Base(dir), "davyk-")
			if _, err := strconv.ParseUint(id, 10, 64); err != nil || seen[dir] {
				continue
			}
			seen[dir] = true
			logf("cluster: cleaning up %s, left by an earlier run that was killed", dir)
			if err := cleanStaleRun(dir, "/davykube-"+id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func cleanStaleRun(dir, cgroupRoot string) error {
	cd := newContainerd(filepath.Join(dir, "containerd"))
	socket := cd.socket
	shimSockets, sandboxes := cd.shimSockets(), cd.sandboxIDs()
	owned := func(pid int) bool {
		args := procCmdline(pid)
		if len(args) == 0 {
			return false
		}
		switch filepath.Base(args[0]) {
		case "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "containerd":
			for _, a := range args[1:] {
				if strings.Contains(a, dir+"/") {
					return true
				}
			}
		case "containerd-shim-runc-v2", "containerd-shim-runc-v1", "containerd-shim":
			for i, a := range args[:len(args)-1] {
				if a == "-address" && args[i+1] == socket {
					return true
				}
			}
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			return false
		}
		for _, line := range strings.Split(string(b), "\n") {
			// hierarchy-id:controllers:path
			if f := strings.SplitN(line, ":", 3); len(f) == 3 && within(f[2], cgroupRoot) {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []int
		for _, pid := range procPIDs() {
			if pid != os.Getpid() && owned(pid) {
				left = append(left, pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes of the earlier cluster in %s still run: %v", dir, left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := unmountAll(dir); err != nil {
		return err
	}
	var errs []error
	// The dead run's kubelet changed these; its state holds the values
	// from before.
	if saved, err := loadSysctls(dir); err == nil {
		if err := restoreSysctls(saved); err != nil {
			errs = append(errs, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := removeCgroupRoot(cgroupRoot); err != nil {
		errs = append(errs, err)
	}
	// Its log links, CNI results and shim sockets, and the directories
	// holding them when nothing else is left there; the bridge is replaced
	// by setupBridge.
	o := &outside{created: outsideDirs()}
	if err := o.clean(filepath.Join(dir, "kubelet", "pod-logs"), sandboxes, shimSockets); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, fmt.Errorf("removing %s: %w", dir, err))
	}
	return errors.Join(errs...)
}
