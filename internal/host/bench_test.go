package host

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkTake compares one snapshot (no window) with `ps -eo pid,comm,args`
// on this machine with DAVY_BENCH_IDLE (default 1000) extra idle processes,
// and reports the peak RSS of a process that takes one snapshot.
//
//	go test ./internal/host/ -run '^$' -bench BenchmarkTake -benchtime 20x
func BenchmarkTake(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("DAVY_BENCH_IDLE")); err == nil && v >= 0 {
		n = v
	}
	sleepPath, err := exec.LookPath("sleep")
	if err != nil {
		b.Skip("no sleep binary")
	}
	for range n {
		startChild(b, exec.Command(sleepPath, "600"))
	}
	ctx := context.Background()

	b.Run("Take", func(b *testing.B) {
		procs := 0
		for b.Loop() {
			s, err := Take(ctx, Options{})
			if err != nil {
				b.Fatal(err)
			}
			procs = len(s.Processes)
		}
		b.ReportMetric(float64(procs), "procs")
	})
	b.Run("ps", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command("ps", "-eo", "pid,comm,args")
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Skipf("ps: %v", err)
			}
		}
	})
	b.Run("peakRSS", func(b *testing.B) {
		var kib float64
		for b.Loop() {
			c := startHelper(b, "take", nil)
			_ = c.cmd.Wait()
			f := strings.Fields(c.ready) // "ready <KiB> <processes>"
			if len(f) != 3 {
				b.Fatalf("helper said %q", c.ready)
			}
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatalf("helper said %q", c.ready)
			}
			kib = max(kib, v)
		}
		b.ReportMetric(kib/1024, "peak-RSS-MiB")
	})
}

// helperTake runs in a helper process: one snapshot, then its peak RSS in KiB.
func helperTake() {
	s, err := Take(context.Background(), Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready", maxRSSKiB(), len(s.Processes))
}

func BenchmarkParseStat(b *testing.B) {
	data := []byte(realStat)
	for b.Loop() {
		if _, err := parseStat(data); err != nil {
			b.Fatal(err)
		}
	}
}
