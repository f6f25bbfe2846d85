package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/davyproject/davy/internal/agent"
	"github.com/davyproject/davy/internal/alert"
	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/events"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
	"github.com/davyproject/davy/internal/respond"
)

type agentFlags struct {
	hostPathFlags
	detectorFlags
	rules        rulesFlags
	source       string
	pollInterval time.Duration
	interval     time.Duration
	window       time.Duration
	cooldown     time.Duration
	cacheDir     string
	intel        string
	metricsAddr  string
	netCapture   bool

	kube        kubeFlags
	kubeMode    string
	nodeName    string
	kubeReports bool

	stdoutPriority                     string
	webhook, webhookPriority           string
	webhookHeaders                     []string
	alertmanager, alertmanagerPriority string
	alertmanagerLabels                 []string
	file, filePriority                 string
	fileMaxSize                        int64
	fileBackups                        int
	bufferSize                         int

	respond                                string
	enforce                                bool
	allowContainers, allowExes, allowComms []string
	maxActions                             int
}

func newAgentCmd(g *globals) *cobra.Command {
	f := &agentFlags{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Watch this node continuously and raise alerts from Falco-format rules",
		Long: `Runs the detectors of 'davy scan host' continuously: on every exec and connect
as it happens (eBPF tracepoints, the netlink proc connector, or polling /proc,
whichever works here), and on every workload each --interval with a CPU window.
Rules in Falco's format (built-in, plus --rules files) turn what the detectors
see into alerts, deduplicated per workload and rule.

Alerts go to stdout as Falco's JSON lines by default; --webhook (e.g.
Falcosidekick), --alertmanager and --file add outputs, each with its own
minimum priority. Metrics, /healthz and /readyz are served on --metrics-addr.

Response actions are off unless --respond is set, and a dry run unless
--enforce is given too: they apply only to workloads judged miner, never to
allowlisted ones.`,
		Example: `  davy agent
  davy agent --alertmanager http://alertmanager:9093 --alertmanager-priority warning
  davy agent --path.procfs /host/proc --path.sysfs /host/sys --path.rootfs /host --metrics-addr :9476
  davy agent --respond freeze --enforce --allow-container registry-mirror`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAgent(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	f.hostPathFlags.register(fl)
	f.detectorFlags.register(fl)
	fl.StringSliceVar(&f.rules.files, "rules", nil, "rules files in Falco's format, loaded after the built-in rules")
	fl.BoolVar(&f.rules.noDefault, "no-default-rules", false, "do not load the built-in rules")
	fl.StringVar(&f.source, "source", events.Auto, "event source: auto, ebpf, proc-connector, poll")
	fl.DurationVar(&f.pollInterval, "poll-interval", time.Second, "how often the poll source lists processes")
	fl.DurationVar(&f.interval, "interval", 30*time.Second, "time between two assessments of every workload")
	fl.DurationVar(&f.window, "window", 5*time.Second, "CPU sampling window of each assessment")
	fl.DurationVar(&f.cooldown, "cooldown", 10*time.Minute, "repeats of an alert for one workload and rule within this time are counted, not sent")
	fl.StringVar(&f.cacheDir, "cache-dir", defaultCacheDir(), "where executable scan results are cached (empty: memory only)")
	fl.StringVar(&f.intel, "intel", "", "directory of extra indicator files, added to the built-in ones")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "127.0.0.1:9476", "address of /metrics, /healthz and /readyz (empty: none)")
	fl.BoolVar(&f.netCapture, "net-capture", true, "capture packets on every interface of this network namespace: passive DNS, mining protocols on any port and pool cadence, attributed to processes (needs CAP_NET_RAW; the agent goes on without it if it cannot)")
	fl.StringVar(&f.stdoutPriority, "stdout-priority", "debug", "minimum priority of alerts on stdout, or none")
	fl.StringVar(&f.webhook, "webhook", "", "URL that receives each alert as Falco's JSON (e.g. Falcosidekick)")
	fl.StringVar(&f.webhookPriority, "webhook-priority", "debug", "minimum priority of alerts sent to --webhook")
	fl.StringSliceVar(&f.webhookHeaders, "webhook-header", nil, "header added to webhook requests, as Name:value (repeatable)")
	fl.StringVar(&f.alertmanager, "alertmanager", "", "Alertmanager base URL; alerts go to its API v2")
	fl.StringVar(&f.alertmanagerPriority, "alertmanager-priority", "warning", "minimum priority of alerts sent to --alertmanager")
	fl.StringSliceVar(&f.alertmanagerLabels, "alertmanager-label", nil, "label added to every Alertmanager alert, as name=value (repeatable)")
	fl.StringVar(&f.file, "file", "", "file that alerts are appended to as JSON lines, rotated by size")
	fl.StringVar(&f.filePriority, "file-priority", "debug", "minimum priority of alerts written to --file")
	fl.Int64Var(&f.fileMaxSize, "file-max-size", 100<<20, "size in bytes past which --file is rotated")
	fl.IntVar(&f.fileBackups, "file-backups", 5, "rotated --file copies kept")
	fl.IntVar(&f.bufferSize, "output-buffer", alert.DefaultBufferSize, "alerts each output holds while it is down; past it the oldest are dropped and counted")
	fl.StringVar(&f.respond, "respond", "", "response to workloads judged miner: freeze or kill (default: none)")
	fl.BoolVar(&f.enforce, "enforce", false, "carry out --respond; without it, responses are a dry run")
	fl.StringSliceVar(&f.allowContainers, "allow-container", nil, "container ID (or 12+ character prefix) or name never acted on")
	fl.StringSliceVar(&f.allowExes, "allow-exe", nil, "executable path pattern never acted on (path.Match syntax)")
	fl.StringSliceVar(&f.allowComms, "allow-comm", nil, "process name never acted on")
	fl.IntVar(&f.maxActions, "max-actions-per-hour", 10, "cap on response actions per hour")
	f.kube.register(fl)
	fl.StringVar(&f.kubeMode, "kube", "auto", "map containers to pods and write MinerReports: on, off, or auto (on in a pod or with --kubeconfig)")
	fl.StringVar(&f.nodeName, "node-name", os.Getenv("NODE_NAME"), "this node's name in the cluster (default $NODE_NAME)")
	fl.BoolVar(&f.kubeReports, "kube-reports", true, "with --kube, write a MinerReport per suspicious or miner workload and an Event on its pod")
	return cmd
}

func runAgent(ctx context.Context, g *globals, f *agentFlags) error {
	log := g.logger()
	sel, err := f.selection()
	if err != nil {
		return err
	}
	rs, err := f.rules.load(g, true)
	if err != nil {
		printDiags(g, err)
		return fmt.Errorf("rules did not load; see 'davy rules check'")
	}
	action, err := respond.ParseAction(f.respond)
	if err != nil {
		return fmt.Errorf("--respond: %w", err)
	}
	outs, err := f.outputs(g)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kube, err := startAgentKube(ctx, &f.kube, f.kubeMode, f.nodeName, f.kubeReports, log)
	if err != nil {
		outs.Close(context.Background())
		return err
	}
	var podIndex *pods.Index
	var reports *reporter.Reporter
	if kube != nil {
		defer kube.stop()
		podIndex, reports = kube.pods, kube.reports
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerOutputMetrics(reg, outs)
	a, err := agent.New(agent.Options{
		ProcFS: f.procfs, SysFS: f.sysfs, RootFS: f.rootfs,
		Source: f.source, PollInterval: f.pollInterval, Rules: rs,
		Selection: sel, Thresholds: detect.DefaultThresholds, IntelDir: f.intel, CacheDir: f.cacheDir,
		Interval: f.interval, Window: f.window, Cooldown: f.cooldown, NetCapture: f.netCapture,
		Emit: func(al alert.Alert) { outs.Enqueue(al) },
		Respond: respond.New(respond.Options{
			Action: action, Enforce: f.enforce, MaxPerHour: f.maxActions, ProcFS: f.procfs,
			CgroupFS: f.sysfs + "/fs/cgroup", Log: log,
			Allow: respond.Allowlist{Containers: f.allowContainers, Exes: f.allowExes, Comms: f.allowComms},
		}),
		Pods:    podIndex,
		Reports: reports,
		Metrics: agent.NewMetrics(reg),
		Log:     log,
	})
	if err != nil {
		outs.Close(context.Background())
		return err
	}
	if action != respond.ActionNone {
		log.Warn("response enabled", "action", action, "enforce", f.enforce)
	}
	serveErr := make(chan error, 1)
	if f.metricsAddr != "" {
		go func() { serveErr <- agent.Serve(ctx, f.metricsAddr, reg, a.Ready, log) }()
	}
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()
	select {
	case err = <-runErr:
	case err = <-serveErr:
		cancel()
		err = errors.Join(err, <-runErr)
	}
	// Alerts still queued get a few seconds to go out.
	flush, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if left, cerr := outs.Close(flush); left > 0 || cerr != nil {
		log.Warn("alerts left unsent at exit", "alerts", left, "err", cerr)
	}
	return err
}

// outputs builds one dispatcher per alert output.
func (f *agentFlags) outputs(g *globals) (alert.Outputs, error) {
	var outs alert.Outputs
	add := func(sink alert.Sink, prio string) error {
		p, err := alert.ParsePriority(prio)
		if err != nil {
			return fmt.Errorf("%s priority: %w", sink.Name(), err)
		}
		outs = append(outs, alert.NewDispatcher(sink, alert.DispatchOptions{MinPriority: p, BufferSize: f.bufferSize, Logger: g.logger()}))
		return nil
	}
	fail := func(err error) (alert.Outputs, error) {
		outs.Close(context.Background())
		return nil, err
	}
	if !strings.EqualFold(f.stdoutPriority, "none") {
		if err := add(alert.NewWriter("stdout", g.stdout), f.stdoutPriority); err != nil {
			return fail(err)
		}
	}
	if f.webhook != "" {
		headers, err := splitPairs(f.webhookHeaders, ":")
		if err != nil {
			return fail(fmt.Errorf("--webhook-header: %w", err))
		}
		wh, err := alert.NewWebhook(alert.WebhookOptions{URL: f.webhook, Headers: headers})
		if err != nil {
			return fail(fmt.Errorf("--webhook: %w", err))
		}
		if err := add(wh, f.webhookPriority); err != nil {
			return fail(err)
		}
	}
	if f.alertmanager != "" {
		labels, err := splitPairs(f.alertmanagerLabels, "=")
		if err != nil {
			return fail(fmt.Errorf("--alertmanager-label: %w", err))
		}
		am, err := alert.NewAlertmanager(alert.AlertmanagerOptions{URL: f.alertmanager, Labels: labels})
		if err != nil {
			return fail(fmt.Errorf("--alertmanager: %w", err))
		}
		if err := add(am, f.alertmanagerPriority); err != nil {
			return fail(err)
		}
	}
	if f.file != "" {
		backups := f.fileBackups
		if backups == 0 {
			backups = -1 // the library reads 0 as its default
		}
		fl, err := alert.OpenFile(alert.FileOptions{Path: f.file, MaxSize: f.fileMaxSize, MaxBackups: backups})
		if err != nil {
			return fail(fmt.Errorf("--file: %w", err))
		}
		if err := add(fl, f.filePriority); err != nil {
			return fail(err)
		}
	}
	if len(outs) == 0 {
		return nil, errors.New("no alert output: --stdout-priority none and no --webhook, --alertmanager or --file")
	}
	return outs, nil
}

func splitPairs(items []string, sep string) (map[string]string, error) {
	out := map[string]string{}
	for _, it := range items {
		k, v, ok := strings.Cut(it, sep)
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%q is not name%svalue", it, sep)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// registerOutputMetrics exports each output's counters.
func registerOutputMetrics(reg *prometheus.Registry, outs alert.Outputs) {
	type counter struct {
		name, help string
		get        func(alert.Stats) float64
	}
	for _, c := range []counter{
		{"davy_output_alerts_sent_total", "Alerts the output accepted.", func(s alert.Stats) float64 { return float64(s.Sent) }},
		{"davy_output_send_failures_total", "Failed sends to the output (each retry counts).", func(s alert.Stats) float64 { return float64(s.Failed) }},
		{"davy_output_alerts_dropped_total", "Alerts dropped from the output's full buffer.", func(s alert.Stats) float64 { return float64(s.Dropped) }},
		{"davy_output_alerts_abandoned_total", "Alerts given up after the retries, on a permanent error, or unsent at exit.", func(s alert.Stats) float64 { return float64(s.Abandoned) }},
		{"davy_output_alerts_filtered_total", "Alerts below the output's minimum priority.", func(s alert.Stats) float64 { return float64(s.Filtered) }},
	} {
		for _, d := range outs {
			d := d
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: c.name, Help: c.help, ConstLabels: prometheus.Labels{"output": d.Stats().Sink},
			}, func() float64 { return c.get(d.Stats()) }))
		}
	}
	for _, d := range outs {
		d := d
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "davy_output_alerts_queued", Help: "Alerts waiting for the output.", ConstLabels: prometheus.Labels{"output": d.Stats().Sink},
		}, func() float64 { return float64(d.Stats().Queued) }))
	}
}
