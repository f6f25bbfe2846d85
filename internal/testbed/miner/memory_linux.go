package miner

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// allocWords maps n words of anonymous memory for the dataset, as XMRig
// does: explicit huge pages (MAP_HUGETLB) when the host has some reserved,
// else transparent huge pages asked for with madvise, else plain pages. It
// reports which it got. The memory is unmapped once owner is collected.
func allocWords(n int, huge bool, owner *dataset) ([]uint64, string) {
	size := n * 8
	prot, flags := unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS
	kind := "4k"
	var b []byte
	var err error
	if huge {
		// Huge page sizes are 2 MiB here; round up.
		hsize := (size + 2<<20 - 1) &^ (2<<20 - 1)
		if b, err = unix.Mmap(-1, 0, hsize, prot, flags|unix.MAP_HUGETLB); err == nil {
			kind = "hugetlb"
		}
	}
	if b == nil {
		if b, err = unix.Mmap(-1, 0, size, prot, flags); err != nil {
			return make([]uint64, n), "heap"
		}
		if huge && unix.Madvise(b, unix.MADV_HUGEPAGE) == nil {
			kind = "thp"
		}
	}
	runtime.AddCleanup(owner, func(b []byte) { _ = unix.Munmap(b) }, b)
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n), kind
}

// jitPage maps the anonymous read-write-execute page RandomX's JIT
// compiles each program into, and writes a program's worth of code bytes
// (returns only: nothing runs from it). It stays mapped while the worker
// runs.
func jitPage() []byte {
	b, err := unix.Mmap(-1, 0, 64<<10, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil
	}
	for i := range b {
		b[i] = 0xc3 // RET
	}
	return b
}

func freeJIT(b []byte) {
	if b != nil {
		_ = unix.Munmap(b)
	}
}
