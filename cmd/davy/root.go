package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, documented in `davy --help`.
const (
	exitOK    = 0
	exitError = 1
)

// exitCodeError carries a chosen exit code (from --exit-code) out of a command.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

type globals struct {
	logLevel   string
	cpuProfile string
	stdout     io.Writer
	stderr     io.Writer
	// stopProfile ends the --cpu-profile, if one was started.
	stopProfile func()
}

func (g *globals) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl}))
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "davy",
		Short: "Find and stop cryptocurrency miners on hosts, in containers and in Kubernetes",
		Long: `Davy finds cryptocurrency miners hidden in processes and containers and tells
them apart from honest CPU-heavy work, with the evidence behind each verdict.

Exit codes:
  0  the command ran and nothing reached --fail-on (or --exit-code was not set)
  1  the command failed (bad flags, unreadable input); the message says why
  4  scan image/fs: a layer or file could not be scanned (the report says which)
  N  the value of --exit-code, when a workload reached --fail-on (scan host)
     or a finding had one of --severity (scan image/fs)`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	addProfileFlag(root, &g.cpuProfile)
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		stop, err := startProfile(g.cpuProfile)
		g.stopProfile = stop
		return err
	}
	root.AddCommand(newVersionCmd(g), newScanCmd(g), newAgentCmd(g), newRulesCmd(g), newWebhookCmd(g), newControllerCmd(g))
	return root
}

func run(args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if g.stopProfile != nil {
		g.stopProfile()
	}
	var ec exitCodeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ec):
		return ec.code
	}
	fmt.Fprintln(stderr, "davy:", err)
	return exitError
}
