package main

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// churn runs "true" at rate execs per second for d, from eight goroutines
// with fork/exec and no shell, and returns how many ran. A static busybox
// is used when there is one: a dynamically linked /bin/true spends most
// of its life in the loader, which caps how many execs a small machine
// can make.
func churn(rate int, d time.Duration) (int64, time.Duration) {
	prog := "/bin/true"
	if _, err := os.Stat("/bin/busybox"); err == nil {
		prog = "/bin/busybox"
	}
	var done atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			per := time.Duration(float64(time.Second) * workers / float64(rate))
			next := start.Add(time.Duration(w) * per / workers)
			attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
			for {
				now := time.Now()
				if now.After(deadline) {
					return
				}
				if wait := next.Sub(now); wait > 0 {
					time.Sleep(wait)
				}
				next = next.Add(per)
				pid, err := syscall.ForkExec(prog, []string{"true"}, attr)
				if err != nil {
					continue
				}
				var ws syscall.WaitStatus
				syscall.Wait4(pid, &ws, 0, nil)
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return done.Load(), time.Since(start)
}
