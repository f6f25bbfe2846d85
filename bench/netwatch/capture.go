package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/davyproject/davy/internal/intel"
	"github.com/davyproject/davy/internal/netwatch"
)

// runCapture is the capture process: a netwatch.Watcher in namespace ns
// for the given duration, then its figures as JSON on stdout.
func runCapture(ns string, args []string) error {
	fs := flag.NewFlagSet(capture, flag.ContinueOnError)
	d := fs.Duration("for", 20*time.Second, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	in, err := intel.Load("")
	if err != nil {
		return err
	}
	w, err := netwatch.New(netwatch.Options{Netns: []string{ns}, Intel: in, On: func(netwatch.Observation) {}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *d)
	defer cancel()
	start := time.Now()
	if err := w.Run(ctx); err != nil {
		return err
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s := w.Stats()
	r := result{Recognized: s.Recognized, Seconds: time.Since(start).Seconds(), MaxRSSKiB: vmHWM(),
		CPUSeconds: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()}
	for _, c := range s.Captures {
		r.Received += c.Received
		r.Dropped += c.Dropped
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// vmHWM is this process's peak RSS in KiB. getrusage's ru_maxrss is not
// reset by exec, so it would count the forking parent's pages.
func vmHWM() int64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
