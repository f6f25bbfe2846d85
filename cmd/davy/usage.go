package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// peakRSSKiB reads the process's own resident-set high-water mark. Unlike
// getrusage's ru_maxrss it does not include memory of the parent that
// forked this process before exec.
func peakRSSKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
