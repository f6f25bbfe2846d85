// Package burn is a benign CPU burner for tests: it keeps threads busy
// with ordinary work (hashing a buffer, sorting, compressing) so detectors
// can be checked for false positives on high, flat CPU. It must hold no
// miner or pool content, so it imports neither of those packages.
package burn

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/davyproject/davy/internal/testbed/duty"
)

// Modes is every workload Run knows.
var Modes = []string{"sha", "sort", "compress", "matrix"}

// Options configures Run.
type Options struct {
	Mode       string
	Threads    int
	Duty       float64       // fraction of a CPU per thread; 0 or 1 = full
	DutyPeriod time.Duration // one busy+idle cycle
	Duration   time.Duration // 0 = until ctx ends
}

// Usage is the burner's help text.
const Usage = `Usage: burner [MODE] [OPTIONS]

Keeps CPU threads busy with ordinary work.

Modes: sha (SHA-256 over a buffer), sort (sort random numbers), compress (DEFLATE a text buffer)

Options:
  --mode=MODE            workload (default: sha); may also be the first argument
  --threads=N            busy threads (default: 1)
  --duty=F               busy fraction of each cycle, 0 < F < 1 (default: full)
  --duty-period=DUR      length of one busy+idle cycle (default: 500ms)
  --duration=DUR         stop after this long (default: run until interrupted)
`

// Parse reads burner arguments; the mode may come first as a word.
func Parse(args []string) (Options, error) {
	o := Options{Mode: "sha", Threads: 1, DutyPeriod: duty.DefaultPeriod}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		o.Mode, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("burner", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.Mode, "mode", o.Mode, "")
	fs.IntVar(&o.Threads, "threads", o.Threads, "")
	fs.Float64Var(&o.Duty, "duty", 0, "")
	fs.DurationVar(&o.DutyPeriod, "duty-period", o.DutyPeriod, "")
	fs.DurationVar(&o.Duration, "duration", 0, "")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("parse arguments: %w", err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, o.validate()
}

func (o Options) validate() error {
	if !slices.Contains(Modes, o.Mode) {
		return fmt.Errorf("mode %q: want one of %s", o.Mode, strings.Join(Modes, ", "))
	}
	if o.Threads < 1 || o.Threads > 256 {
		return fmt.Errorf("threads %d out of range 1..256", o.Threads)
	}
	if o.Duty < 0 || o.Duty > 1 {
		return fmt.Errorf("duty %v out of range 0..1", o.Duty)
	}
	return nil
}

// Run burns CPU until ctx ends or Duration passes and returns how many
// work units were done.
func Run(ctx context.Context, o Options) (uint64, error) {
	if err := o.validate(); err != nil {
		return 0, err
	}
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	var units atomic.Uint64
	var wg sync.WaitGroup
	for i := range o.Threads {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			work := newWork(o.Mode, uint64(i))
			cyc := duty.New(o.Duty, o.DutyPeriod, uint64(i)+1)
			for cyc.Step(ctx) {
				work()
				units.Add(1)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return units.Load(), err
	}
	return units.Load(), nil
}

// newWork returns one unit of the mode's work (well under a millisecond
// to a few, so the duty cycle stays accurate).
func newWork(mode string, seed uint64) func() {
	rnd := rand.New(rand.NewPCG(seed, 0x5eed))
	switch mode {
	case "sort":
		nums := make([]uint64, 32<<10)
		return func() {
			for i := range nums {
				nums[i] = rnd.Uint64()
			}
			slices.Sort(nums)
		}
	case "matrix":
		// Floating point, as numerical code does: a 64x64 product.
		const n = 64
		a, b, c := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
		for i := range a {
			a[i], b[i] = rnd.Float64(), rnd.Float64()
		}
		return func() {
			for i := range n {
				for k := range n {
					x := a[i*n+k]
					for j := range n {
						c[i*n+j] += x * b[k*n+j]
					}
				}
			}
			copy(a, c)
			for i := range a {
				a[i] = a[i] / (1 + a[i])
			}
		}
	case "compress":
		text := sampleText(64 << 10)
		var out bytes.Buffer
		w, _ := flate.NewWriter(&out, flate.DefaultCompression) // level is valid
		return func() {
			out.Reset()
			w.Reset(&out)
			_, _ = w.Write(text)
			_ = w.Close()
		}
	default: // sha
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = byte(rnd.Uint32())
		}
		return func() {
			sum := sha256.Sum256(buf)
			copy(buf, sum[:])
		}
	}
}

// sampleText is compressible, log-like text.
func sampleText(n int) []byte {
	words := []string{"request", "served", "in", "ms", "status", "200", "cache", "hit", "miss", "user", "GET", "/index.html", "bytes"}
	var b bytes.Buffer
	rnd := rand.New(rand.NewPCG(1, 2))
	for b.Len() < n {
		b.WriteString(words[rnd.IntN(len(words))])
		if rnd.IntN(12) == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}
