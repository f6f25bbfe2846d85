// Command netwatch measures Davy's packet capture under load, in one run:
// two network namespaces joined by a veth pair carry many small TCP
// segments (a mix of chatty flows) while new miner handshakes keep
// opening; a capture process in one namespace reports its CPU, memory,
// drops and how many handshakes it recognised. Run as root from the
// module root: go run ./bench/netwatch. Nothing leaves the namespaces.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

type options struct {
	pps        int
	duration   time.Duration
	flows      int
	handshakes int
}

// Bars of the issue.
const (
	barCPU   = 0.30 // of one core
	barRSS   = 64   // MiB
	barRate  = 100_000
	capture  = "capture"
	captured = "DAVY_BENCH_CAPTURE_NS"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == capture {
		if err := runCapture(os.Getenv(captured), os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "capture:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	// Each write and its answer would be two packets, but the kernel
	// merges small writes and acknowledgements under load: asking for
	// more than the bar gets the bar's rate on the wire (the capture's own
	// count is what is reported).
	flag.IntVar(&o.pps, "pps", 180_000, "packets per second to aim for (writes x 2, both directions)")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "length of the load")
	flag.IntVar(&o.flows, "flows", 32, "chatty flows carrying the load")
	flag.IntVar(&o.handshakes, "handshakes", 200, "miner handshakes opened during the load")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: run as root (namespaces and packet capture)")
		os.Exit(1)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// result is what the capture process reports.
type result struct {
	Received, Dropped uint64
	Recognized        uint64
	CPUSeconds        float64
	Seconds           float64
	MaxRSSKiB         int64
}

func (r result) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}
