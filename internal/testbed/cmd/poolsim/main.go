// Command poolsim runs the testbed stratum pool (both the XMRig dialect and
// stratum v1) and prints "listening on stratum+tcp://HOST:PORT" once ready.
// It listens on loopback unless --listen says otherwise.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/davyproject/davy/internal/testbed/pool"
)

func main() {
	var cfg pool.Config
	var statsEvery time.Duration
	flag.StringVar(&cfg.Addr, "listen", "127.0.0.1:3333", "listen address (host:port; port 0 picks a free one)")
	flag.BoolVar(&cfg.TLS, "tls", false, "serve TLS with a self-signed certificate (stratum+ssl)")
	flag.DurationVar(&cfg.JobInterval, "job-interval", pool.DefaultJobInterval, "how often to push a new job")
	flag.Uint64Var(&cfg.Difficulty, "difficulty", pool.DefaultDifficulty, "share difficulty")
	flag.IntVar(&cfg.MaxConns, "max-conns", pool.DefaultMaxConns, "maximum concurrent connections")
	flag.DurationVar(&statsEvery, "stats-interval", 0, "print stats as one JSON line this often (0: only at exit)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := pool.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", srv.URL())
	var tick <-chan time.Time
	if statsEvery > 0 {
		t := time.NewTicker(statsEvery)
		defer t.Stop()
		tick = t.C
	}
	enc := json.NewEncoder(os.Stdout)
	for {
		select {
		case <-ctx.Done():
			srv.Close()
			_ = enc.Encode(srv.Stats())
			return
		case <-tick:
			_ = enc.Encode(srv.Stats())
		}
	}
}
