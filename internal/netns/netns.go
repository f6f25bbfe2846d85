// Package netns runs code inside Linux network namespaces: sockets made
// there stay there, while the rest of the process stays in its own.
package netns

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Path turns a namespace reference into a path: "" stays "" (the current
// namespace), a path is kept, and a bare name is one that `ip netns`
// manages, under /run/netns.
func Path(ns string) (string, error) {
	switch {
	case ns == "":
		return "", nil
	case strings.Contains(ns, "/"):
		return ns, nil
	case ns == "." || ns == "..":
		return "", fmt.Errorf("invalid network namespace name %q", ns)
	}
	return filepath.Join("/run/netns", ns), nil
}

// Do runs fn on an OS thread that has joined the network namespace at
// path ("" runs fn here, in the caller's). Sockets fn creates belong to
// that namespace for their whole life, whichever thread uses them later;
// that is how a capture (or a test's client and server) lives in another
// namespace while the rest of the process stays in its own.
//
// The thread joins its original namespace again before it returns to the
// scheduler. If it cannot, it stays locked, and the Go runtime ends it when
// the goroutine exits instead of running other goroutines in the wrong
// namespace.
func Do(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- joinAndRun(path, fn)
	}()
	return <-errc
}

// joinAndRun is Do's goroutine body, on a locked thread. It unlocks
// the thread only when the thread is back in its own namespace.
func joinAndRun(path string, fn func() error) error {
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("opening the current network namespace: %w", err)
	}
	defer unix.Close(orig)
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("joining network namespace %s: %w", path, err)
	}
	ferr := fn()
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		return errors.Join(ferr, fmt.Errorf("leaving network namespace %s: %w", path, err))
	}
	runtime.UnlockOSThread()
	return ferr
}
