package respond

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/davyproject/davy/internal/host"
)

// signal stops (freeze) or kills every process of t, each through a pidfd
// opened before its start time is checked, so a PID that was reused by
// another process in between is never signalled. It returns the PIDs
// signalled (or that would be, in a dry run).
func (r *Responder) signal(ctx context.Context, t Target, dryRun bool) ([]int, error) {
	sig := unix.SIGKILL
	if r.o.Action == ActionFreeze {
		sig = unix.SIGSTOP
	}
	var done []int
	var errs []error
	for _, p := range t.Processes {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		err := r.signalOne(p, sig, dryRun)
		switch {
		case err == nil:
			done = append(done, p.PID)
		case errors.Is(err, errGone):
			// Nothing left to act on: not a failure.
		default:
			errs = append(errs, err)
		}
	}
	if len(done) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("every process of the workload is gone")
	}
	return done, errors.Join(errs...)
}

func (r *Responder) signalOne(p Process, sig unix.Signal, dryRun bool) error {
	fd, err := unix.PidfdOpen(p.PID, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return errGone
		}
		return fmt.Errorf("pidfd of %d: %w", p.PID, err)
	}
	defer unix.Close(fd)
	ticks, err := host.StartTicks(r.o.ProcFS, p.PID)
	if err != nil || ticks != p.StartTicks {
		return errGone
	}
	if dryRun {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return errGone
		}
		return fmt.Errorf("%s to %d: %w", unix.SignalName(sig), p.PID, err)
	}
	return nil
}
