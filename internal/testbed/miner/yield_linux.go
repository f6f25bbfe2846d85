package miner

import "golang.org/x/sys/unix"

// yieldCPU is XMRig's per-hash sched_yield (cpu.yield: true), a real
// syscall so syscall-level detectors see it.
func yieldCPU() { _, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
