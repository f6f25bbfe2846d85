package miner

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Dialect names for Options.Dialect.
const (
	DialectXMRig   = "xmrig"
	DialectStratum = "stratum"
)

// ErrVersion is returned by Parse for -V/--version.
var ErrVersion = errors.New("version requested")

// ErrNoPool mirrors XMRig's message when neither flags nor config name a pool.
var ErrNoPool = errors.New("no valid configuration found, try https://xmrig.com/wizard")

// Options is everything the simulator needs to run.
type Options struct {
	URL         string
	User        string
	Pass        string
	RigID       string
	TLS         bool
	KeepAlive   bool
	Dialect     string
	Algo        string
	Coin        string
	UserAgent   string
	DonateLevel int
	RetryPause  time.Duration
	Threads     int
	Yield       bool
	Duty        float64
	DutyPeriod  time.Duration
	DatasetMiB  int
	// HugePages asks for huge pages for the dataset, as XMRig's
	// "huge-pages": true (the default) does.
	HugePages bool
	Config    string
	Memfd     bool
	PrintTime time.Duration
}

// Defaults returns the options used when nothing is given.
func Defaults() Options {
	return Options{
		Pass: "x", Dialect: DialectXMRig, Algo: DefaultAlgo, UserAgent: Agent, DonateLevel: 1,
		RetryPause: 5 * time.Second, Threads: 1, Yield: true, DutyPeriod: 500 * time.Millisecond,
		DatasetMiB: 64, PrintTime: 60 * time.Second, HugePages: true,
	}
}

// Parse reads XMRig-style arguments (without the program name), then the
// config file if one is given; flags set on the command line win.
// It returns flag.ErrHelp for -h and ErrVersion for -V.
func Parse(args []string) (Options, error) {
	o := Defaults()
	fs := flag.NewFlagSet("xmrig", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var retry, printTime int
	var noYield, noHuge, version, noColor bool
	var affinity, priority, rxMode string
	str := func(p *string, def string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, def, "")
		}
	}
	integer := func(p *int, def int, names ...string) {
		for _, n := range names {
			fs.IntVar(p, n, def, "")
		}
	}
	boolean := func(p *bool, names ...string) {
		for _, n := range names {
			fs.BoolVar(p, n, *p, "")
		}
	}
	str(&o.URL, "", "o", "url")
	str(&o.Algo, o.Algo, "a", "algo")
	str(&o.Coin, "", "coin")
	str(&o.User, "", "u", "user")
	str(&o.Pass, o.Pass, "p", "pass")
	str(&o.RigID, "", "rig-id")
	str(&o.Dialect, o.Dialect, "dialect")
	str(&o.UserAgent, o.UserAgent, "user-agent")
	str(&o.Config, "", "c", "config")
	str(&affinity, "", "cpu-affinity")
	str(&priority, "", "cpu-priority")
	str(&rxMode, "auto", "randomx-mode")
	boolean(&o.KeepAlive, "k", "keepalive")
	boolean(&o.TLS, "tls")
	boolean(&o.Memfd, "memfd")
	boolean(&noYield, "cpu-no-yield")
	boolean(&noHuge, "no-huge-pages")
	boolean(&noColor, "no-color")
	boolean(&version, "V", "version")
	integer(&o.DonateLevel, o.DonateLevel, "donate-level")
	integer(&retry, 5, "R", "retry-pause")
	integer(&o.Threads, o.Threads, "t", "threads")
	integer(&o.DatasetMiB, o.DatasetMiB, "dataset-mib")
	integer(&printTime, 60, "print-time")
	fs.Float64Var(&o.Duty, "duty", 0, "")
	fs.DurationVar(&o.DutyPeriod, "duty-period", o.DutyPeriod, "")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("parse arguments: %w", err)
	}
	if version {
		return o, ErrVersion
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.RetryPause = time.Duration(retry) * time.Second
	o.PrintTime = time.Duration(printTime) * time.Second
	o.Yield = !noYield
	o.HugePages = !noHuge
	if o.Config != "" {
		if err := applyConfigFile(&o, o.Config, set); err != nil {
			return o, err
		}
	}
	return o, o.normalize()
}

func (o *Options) normalize() error {
	if o.Coin != "" {
		a, ok := coinAlgos[strings.ToLower(o.Coin)]
		if !ok {
			return fmt.Errorf("unsupported coin %q", o.Coin)
		}
		o.Algo = a
	}
	if a := normalizeAlgo(o.Algo); a != "" {
		o.Algo = a
	} else {
		return fmt.Errorf("unknown algorithm %q", o.Algo)
	}
	if o.URL == "" {
		return ErrNoPool
	}
	if o.Dialect != DialectXMRig && o.Dialect != DialectStratum {
		return fmt.Errorf("dialect %q: want %s or %s", o.Dialect, DialectXMRig, DialectStratum)
	}
	switch {
	case o.Threads < 1 || o.Threads > 256:
		return fmt.Errorf("threads %d out of range 1..256", o.Threads)
	case o.Duty < 0 || o.Duty > 1:
		return fmt.Errorf("duty %v out of range 0..1", o.Duty)
	case o.DatasetMiB < 1 || o.DatasetMiB > 4096:
		return fmt.Errorf("dataset-mib %d out of range 1..4096", o.DatasetMiB)
	case o.RetryPause <= 0:
		o.RetryPause = time.Second
	}
	if o.PrintTime <= 0 {
		o.PrintTime = 60 * time.Second
	}
	return nil
}

// StripMemfd removes --memfd from args so the re-executed copy does not loop.
func StripMemfd(args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "memfd", "memfd=true", "memfd=1":
			if strings.HasPrefix(a, "-") {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}
