package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// hostLockPath serialises clusters host-wide: kubelet's device plugin
// socket is at a fixed path, and two clusters would also share the bridge.
// flock goes away with the process, so a crashed test never holds it.
const hostLockPath = "/run/davy-kube-cluster.lock"

// hostLock waits for the host-wide cluster lock. Locks on separate opens
// conflict even within one process, so parallel tests of one package also
// take turns.
func hostLock(ctx context.Context) (*os.File, error) {
	f, err := os.OpenFile(hostLockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the cluster lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("taking the cluster lock %s: %w", hostLockPath, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the cluster lock %s (another test's cluster runs): %w", hostLockPath, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
