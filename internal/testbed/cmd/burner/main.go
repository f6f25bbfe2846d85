// Command burner keeps CPU threads busy with ordinary work (sha, sort,
// compress): the benign counterpart of the miner simulator in tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/davyproject/davy/internal/testbed/burn"
)

func main() {
	opts, err := burn.Parse(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Print(burn.Usage)
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n\n%s", err, burn.Usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	units, err := burn.Run(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("burner: mode %s threads %d units %d in %s\n", opts.Mode, opts.Threads, units, time.Since(start).Round(time.Millisecond))
}
