// Command rules measures how many events per second one core evaluates
// against Davy's default rules, over a mix of event types like the agent's
// (mostly process starts and exits, some connections, periodic CPU samples
// and verdicts, a few of them suspicious), and prints the figure against
// the 1,000,000 events/s bar and against the ~250,000 syscalls/s per CPU
// cited for Falco.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/davyproject/davy/internal/rules"
)

const (
	bar         = 1_000_000 // events/s per core Davy's rules must sustain
	falcoCited  = 250_000   // syscalls/s per CPU cited for Falco
	mixSize     = 4096      // events in the mix, cycled through
	rounds      = 5         // timed rounds; the median is reported
	warmupLoops = 20_000
)

func main() {
	dur := flag.Duration("round", time.Second, "length of one timed round")
	flag.Parse()
	if err := run(*dur); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(round time.Duration) error {
	rs, err := rules.Load(rules.Options{}, rules.DefaultSource())
	if err != nil {
		return fmt.Errorf("loading the default rules: %w", err)
	}
	events, shares := mix(rand.New(rand.NewPCG(1, 2)))
	// One goroutine on one locked thread: the figure is per core.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	dst := make([]*rules.Rule, 0, 16)
	matches := 0
	for i := 0; i < warmupLoops; i++ {
		dst = rs.AppendMatches(dst[:0], events[i%len(events)])
	}
	var rates []float64
	var allocs uint64
	for r := 0; r < rounds; r++ {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		n := 0
		start := time.Now()
		deadline := start.Add(round)
		for time.Now().Before(deadline) {
			// Check the clock every 1,024 events only.
			for i := 0; i < 1024; i++ {
				dst = rs.AppendMatches(dst[:0], events[n%len(events)])
				matches += len(dst)
				n++
			}
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		allocs += after.Mallocs - before.Mallocs
		rates = append(rates, float64(n)/elapsed.Seconds())
	}
	med := median(rates)
	nr, _, _ := rs.Counts()
	fmt.Printf("default rules: %d rules, indexed event types %v\n", nr, rs.IndexedTypes())
	fmt.Printf("event mix (%d events): %s\n", len(events), shares)
	fmt.Printf("rounds: %d x %v, median %.0f events/s on one core (%.0f ns/event), %d matches, %d allocations in all\n",
		rounds, round, med, 1e9/med, matches, allocs)
	fmt.Printf("vs the bar of %d events/s per core: %.2fx (%s)\n", bar, med/bar, pass(med >= bar))
	fmt.Printf("vs Falco's cited ~%d syscalls/s per CPU: %.1fx\n", falcoCited, med/falcoCited)
	return nil
}

func pass(ok bool) string {
	if ok {
		return "meets it"
	}
	return "BELOW IT"
}

func median(v []float64) float64 {
	s := append([]float64{}, v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// mix builds the events: 60% process starts, 20% exits, 14% connections,
// 4% CPU samples, 2% verdicts; about 1% of starts, connections and
// verdicts are a miner's, with the evidence the detectors would attach.
func mix(rng *rand.Rand) ([]*rules.Event, string) {
	names := []string{"nginx", "sh", "python3", "java", "node", "curl", "git", "ls", "grep", "postgres"}
	dirs := []string{"/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/opt/app/bin/"}
	images := []string{"docker.io/library/nginx", "registry.example.test/shop/web", "registry.example.test/ci/builder", ""}
	counts := map[string]int{}
	events := make([]*rules.Event, mixSize)
	for i := range events {
		name := names[rng.IntN(len(names))]
		img := images[rng.IntN(len(images))]
		e := &rules.Event{Time: time.Unix(1_740_000_000, int64(i))}
		e.Proc = rules.Process{
			Name: name, Exe: name, ExePath: dirs[rng.IntN(len(dirs))] + name,
			Cmdline: name + " --serve /srv", Args: []string{"--serve", "/srv"},
			PID: 1000 + i, PPID: 900, PName: "bash", Ancestors: []string{"bash", "containerd-shim", "systemd"},
			Cwd: "/srv", UID: uint32(rng.IntN(2) * 1000), User: "app",
		}
		if img != "" {
			e.Container = rules.Container{ID: fmt.Sprintf("%012x", rng.Uint64()>>16), Name: "app", ImageRepository: img}
			e.K8s = rules.K8s{Namespace: "shop", Pod: "app-1"}
		}
		evil := rng.IntN(100) == 0
		switch p := rng.IntN(100); {
		case p < 60:
			e.EvtType = rules.EventExec
			if evil {
				e.Proc.ExePath = "/tmp/.cache/" + name
				e.Davy.Evidence = []string{"DAVY-I001", "DAVY-C001", "DAVY-P001"}
			}
		case p < 80:
			e.EvtType = rules.EventExit
		case p < 94:
			e.EvtType = rules.EventConnect
			e.Fd = rules.Fd{
				SIP: netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(250))}), SPort: 443,
				CIP: netip.AddrFrom4([4]byte{10, 0, 0, 5}), CPort: uint16(30000 + rng.IntN(20000)),
				L4Proto: "tcp", SIPNames: []string{"api.example.test"},
			}
			if evil {
				e.Davy.Evidence = []string{"DAVY-N003"}
			}
		case p < 98:
			e.EvtType = rules.EventCPU
			e.Davy.CPURatio = rng.Float64()
		default:
			e.EvtType = rules.EventVerdict
			e.Davy.Verdict, e.Davy.Score = "clean", 0
			if evil {
				e.Davy.Verdict, e.Davy.Score = "miner", 95
			}
		}
		counts[e.EvtType]++
		events[i] = e
	}
	s := ""
	for _, t := range rules.EventTypes {
		s += fmt.Sprintf("%s %.0f%% ", t, 100*float64(counts[t])/float64(len(events)))
	}
	return events, s
}
