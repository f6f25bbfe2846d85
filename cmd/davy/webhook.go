package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/davyproject/davy/internal/agent"
	"github.com/davyproject/davy/internal/kube/admission"
)

type webhookFlags struct {
	listen, metricsListen string
	tlsCert, tlsKey       string
	mode                  string
	blocklist             string
	requireCPULimits      bool
	scanBudget            time.Duration
	exemptNamespaces      []string
	cacheDir              string
	intel                 string
	insecureRegistries    []string
}

func newWebhookCmd(g *globals) *cobra.Command {
	f := &webhookFlags{}
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Serve a validating admission webhook that refuses miner pods",
		Long: `Serves admission.k8s.io/v1 AdmissionReviews for Pods (CREATE, UPDATE and
ephemeral containers) over HTTPS on ` + admission.Path + `. A pod is refused (--mode
enforce) or admitted with warnings (--mode warn) when an image's scan verdict
is miner, the --blocklist names an image, a container's command, args or env
carry a stratum URL or a wallet address, or, with --require-cpu-limits, a
container has no CPU limit.

Images not yet judged are scanned on demand; when the scan takes longer than
--scan-budget the pod is admitted with a warning and the scan goes on, so the
next request finds the verdict. The TLS certificate is re-read when its files
change. See docs/webhook.md for the ValidatingWebhookConfiguration to use.`,
		Example: `  davy webhook --tls-cert /tls/tls.crt --tls-key /tls/tls.key
  davy webhook --tls-cert tls.crt --tls-key tls.key --mode warn --blocklist /etc/davy/blocklist
  davy webhook --tls-cert tls.crt --tls-key tls.key --exempt-namespace davy --require-cpu-limits`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWebhook(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", ":8443", "address of the HTTPS admission endpoint")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serving certificate (PEM), re-read when it changes")
	fl.StringVar(&f.tlsKey, "tls-key", "", "serving key (PEM), re-read when it changes")
	fl.StringVar(&f.mode, "mode", string(admission.ModeEnforce), "enforce: refuse pods; warn: admit them with admission warnings")
	fl.StringVar(&f.blocklist, "blocklist", "", "file of image patterns always refused: references, repository globs, digests")
	fl.BoolVar(&f.requireCPULimits, "require-cpu-limits", false, "refuse containers without a CPU limit")
	fl.DurationVar(&f.scanBudget, "scan-budget", 3*time.Second, "how long a request waits for image scans before admitting with a warning")
	fl.StringSliceVar(&f.exemptNamespaces, "exempt-namespace", nil, "namespace never checked, besides kube-system (repeatable)")
	fl.StringVar(&f.cacheDir, "cache-dir", defaultCacheDir(), "where per-layer scan results are cached (empty: no disk cache)")
	fl.StringVar(&f.intel, "intel", "", "directory of extra indicator files, added to the built-in ones")
	fl.StringSliceVar(&f.insecureRegistries, "insecure-registry", nil, "registry (host:port) reached over plain HTTP, for tests and labs (repeatable)")
	fl.StringVar(&f.metricsListen, "metrics-listen", ":9477", "address of /metrics, /healthz and /readyz over plain HTTP (empty: none)")
	return cmd
}

func runWebhook(ctx context.Context, g *globals, f *webhookFlags) error {
	log := g.logger()
	// The certificate watcher logs through controller-runtime's logger.
	ctrllog.SetLogger(logr.FromSlogHandler(log.Handler()))
	mode, err := admission.ParseMode(f.mode)
	if err != nil {
		return fmt.Errorf("--mode: %w", err)
	}
	if f.tlsCert == "" || f.tlsKey == "" {
		return errors.New("--tls-cert and --tls-key are required: the API server calls webhooks over HTTPS only")
	}
	if f.scanBudget <= 0 {
		return errors.New("--scan-budget must be positive")
	}
	var bl *admission.Blocklist
	if f.blocklist != "" {
		if bl, err = admission.LoadBlocklist(f.blocklist); err != nil {
			return err
		}
		log.Info("blocklist loaded", "file", f.blocklist, "patterns", bl.Len())
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h, err := admission.New(admission.Options{
		Mode: mode, Blocklist: bl, RequireCPULimits: f.requireCPULimits,
		ExemptNamespaces: f.exemptNamespaces, ScanBudget: f.scanBudget,
		Scanner: &admission.EngineScanner{InsecureRegistries: f.insecureRegistries, CacheDir: f.cacheDir, IntelDir: f.intel, Log: log},
		Metrics: admission.NewMetrics(reg), Log: log,
	})
	if err != nil {
		return err
	}
	defer h.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	metricsErr := make(chan error, 1)
	if f.metricsListen != "" {
		go func() { metricsErr <- agent.Serve(ctx, f.metricsListen, reg, func() bool { return true }, log) }()
	}
	log.Info("webhook starting", "mode", mode, "scan_budget", f.scanBudget, "exempt", f.exemptNamespaces)
	serveErr := make(chan error, 1)
	go func() {
		serveErr <- admission.Serve(ctx, admission.ServeOptions{Addr: f.listen, CertFile: f.tlsCert, KeyFile: f.tlsKey, Handler: h, Log: log})
	}()
	select {
	case err = <-serveErr:
	case err = <-metricsErr:
		cancel()
		err = errors.Join(err, <-serveErr)
	}
	return err
}
