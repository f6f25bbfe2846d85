package main

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// churn runs /bin/true at rate execs per second for d, from two
// goroutines with fork/exec and no shell, and returns how many ran.
func churn(rate int, d time.Duration) (int64, time.Duration) {
	var done atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	const workers = 4
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
				pid, err := syscall.ForkExec("/bin/true", []string{"true"}, attr)
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
