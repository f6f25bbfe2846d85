// Command agent measures davy agent on this machine in one run and prints
// the figures against the bars: its CPU when the node is steady (with many
// idle containers) and under process churn, whether any exec event was
// lost (or exactly how many the agent says it lost), its peak RSS, and the
// time from a miner's exec to its alert. Run it as root from the module
// root: go run ./bench/agent.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

type options struct {
	containers int
	rate       int
	steady     time.Duration
	churn      time.Duration
	source     string
	miners     int
}

func main() {
	var o options
	flag.IntVar(&o.containers, "containers", 200, "idle containers (cgroups named like containers, each with one sleeping process)")
	flag.IntVar(&o.rate, "rate", 500, "execs per second during the churn phase")
	flag.DurationVar(&o.steady, "steady", 20*time.Second, "length of the steady phase")
	flag.DurationVar(&o.churn, "churn", 20*time.Second, "length of the churn phase")
	flag.StringVar(&o.source, "source", "auto", "event source of the agent")
	flag.IntVar(&o.miners, "miners", 5, "miner starts timed for exec-to-alert latency")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: run as root (the agent needs it, and the containers are cgroups)")
		os.Exit(1)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
