package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// idleContainers are cgroups named like containers (a bare 64-hex ID, as
// containerd and docker with cgroupfs write them), each holding one
// sleeping process: what the agent sees of a container, without a runtime
// starting two hundred of them. Created under davy-bench in every
// hierarchy that counts CPU.
type idleContainers struct {
	dirs  []string
	procs []*exec.Cmd
}

// cgroupRoots returns the hierarchies to create the cgroups in: the v1
// cpu and cpuacct controllers and the unified hierarchy, whichever exist.
func cgroupRoots() []string {
	var roots []string
	for _, r := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(filepath.Join(r, "cgroup.procs")); err == nil {
			roots = append(roots, r)
		}
	}
	if len(roots) == 0 {
		if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
			roots = append(roots, "/sys/fs/cgroup")
		}
	}
	return roots
}

func startIdleContainers(n int) (*idleContainers, error) {
	c := &idleContainers{}
	roots := cgroupRoots()
	if len(roots) == 0 {
		return nil, errors.New("no cgroup hierarchy found")
	}
	for range n {
		var b [32]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		cmd := exec.Command("sleep", "infinity")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			c.stop()
			return nil, fmt.Errorf("sleep: %w", err)
		}
		c.procs = append(c.procs, cmd)
		for _, r := range roots {
			dir := filepath.Join(r, "davy-bench", id)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				c.stop()
				return nil, fmt.Errorf("cgroup: %w", err)
			}
			c.dirs = append(c.dirs, dir)
			if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
				c.stop()
				return nil, fmt.Errorf("cgroup %s: %w", dir, err)
			}
		}
	}
	return c, nil
}

// stop kills the sleeps it started and removes the cgroups.
func (c *idleContainers) stop() {
	for _, p := range c.procs {
		p.Process.Kill()
		p.Wait()
	}
	for i := len(c.dirs) - 1; i >= 0; i-- {
		os.Remove(c.dirs[i])
	}
	for _, r := range cgroupRoots() {
		os.Remove(filepath.Join(r, "davy-bench"))
	}
}
