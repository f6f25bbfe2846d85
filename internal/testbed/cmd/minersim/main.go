// Command minersim is the testbed's miner simulator: it hashes for real,
// talks to a stratum pool and looks like XMRig from the outside.
// Run "minersim --help" for the options. Use it only against a testbed pool.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/davyproject/davy/internal/testbed/miner"
)

func main() {
	opts, err := miner.Parse(os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Print(miner.UsageText)
		return
	case errors.Is(err, miner.ErrVersion):
		fmt.Printf("XMRig %s\n built on Nov 27 2025 with GCC 12.2.0\n features: 64-bit AES\n", miner.Version)
		return
	case err != nil:
		fmt.Fprintf(os.Stderr, "%v\n\n%s", err, miner.UsageText)
		os.Exit(2)
	}
	if opts.Memfd {
		// On success this never returns: the process image is replaced.
		err := miner.ExecFromMemfd(append([]string{os.Args[0]}, miner.StripMemfd(os.Args[1:])...))
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := miner.Run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
