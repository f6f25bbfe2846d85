package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/davyproject/davy/internal/agent"
	"github.com/davyproject/davy/internal/kube/controller"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
)

type controllerFlags struct {
	kube         kubeFlags
	prometheus   string
	rule         controller.CPURule
	policy       string
	enforce      bool
	interval     time.Duration
	maxReportAge time.Duration
	metricsAddr  string
	leaderElect  bool
	namespace    string
	scanImages   bool
	pullSecrets  bool
	scanWorkers  int
	insecure     []string
	cacheDir     string
	intel        string
}

func newControllerCmd(g *globals) *cobra.Command {
	f := &controllerFlags{rule: controller.DefaultCPURule}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Judge workloads cluster-wide and remediate miners by policy",
		Long: `Runs in the cluster beside the agents. Every --interval it:

  - asks Prometheus (--prometheus-url) for containers above --cpu-threshold of
    their CPU limit for all of --cpu-window (cAdvisor usage; limits from
    kube-state-metrics or cAdvisor), leaving out pods labelled or annotated
    davy.dev/expected-high-cpu=true, and lists busy containers with no limit;
  - folds that with the agents' MinerReports into one verdict per workload;
  - remediates miners as the --policy file says: alert (the default),
    quarantine, delete or scale-to-zero. Everything is a dry run unless
    --enforce is given; system namespaces and allowlisted workloads are never
    touched; actions are capped per hour and written to the report and an
    Event on the pod.

Nothing is done on data that could not be read: a pass with Prometheus or
the API server down says it is degraded (/status, davy_controller_degraded).`,
		Example: `  davy controller --prometheus-url http://prometheus.monitoring:9090
  davy controller --policy /etc/davy/policy.yaml --enforce`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runController(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	f.kube.register(fl)
	fl.StringVar(&f.prometheus, "prometheus-url", "", "Prometheus base URL for the CPU rule (empty: no CPU rule)")
	fl.Float64Var(&f.rule.Threshold, "cpu-threshold", f.rule.Threshold, "fraction of its CPU limit a container must stay above")
	fl.DurationVar(&f.rule.Window, "cpu-window", f.rule.Window, "how long it must stay above it")
	fl.DurationVar(&f.rule.RateWindow, "cpu-rate-window", f.rule.RateWindow, "range of rate() over cAdvisor's CPU counter (at least four scrape intervals)")
	fl.StringVar(&f.rule.Limits, "limits-from", f.rule.Limits, "where CPU limits are read: kube-state-metrics or cadvisor")
	fl.Float64Var(&f.rule.UnlimitedCores, "unlimited-cores", f.rule.UnlimitedCores, "cores a container without a limit must use for all of the window to be listed")
	fl.StringVar(&f.policy, "policy", "", "remediation policy file (YAML; default: alert only)")
	fl.BoolVar(&f.enforce, "enforce", false, "carry out the policy's actions; without it they are a dry run")
	fl.DurationVar(&f.interval, "interval", time.Minute, "time between two passes")
	fl.DurationVar(&f.maxReportAge, "max-report-age", 5*time.Minute, "reports no agent confirmed for longer are not acted on")
	fl.StringVar(&f.metricsAddr, "metrics-addr", ":9478", "address of /metrics, /healthz, /readyz and /status (empty: none)")
	fl.BoolVar(&f.leaderElect, "leader-elect", false, "elect a leader among replicas, with a Lease in --namespace")
	fl.BoolVar(&f.scanImages, "scan-images", true, "scan the images running pods use, once per digest, with davy scan image's engine")
	fl.BoolVar(&f.pullSecrets, "pull-secrets", true, "pull images to scan with the pod's pull secrets and service account, as the kubelet does (needs get on secrets and serviceaccounts)")
	fl.IntVar(&f.scanWorkers, "scan-workers", 2, "images scanned at once")
	fl.StringSliceVar(&f.insecure, "insecure-registry", nil, "registry (host:port) reached over plain HTTP (repeatable)")
	fl.StringVar(&f.cacheDir, "cache-dir", defaultCacheDir(), "where per-layer scan results are cached (empty: no disk cache)")
	fl.StringVar(&f.intel, "intel", "", "directory of extra indicator files, added to the built-in ones")
	fl.StringVar(&f.namespace, "namespace", os.Getenv("POD_NAMESPACE"), "davy's own namespace: never acted on, and where the leader Lease lives (default $POD_NAMESPACE)")
	return cmd
}

func runController(ctx context.Context, g *globals, f *controllerFlags) error {
	log := g.logger()
	pol := controller.DefaultPolicy()
	if f.policy != "" {
		b, err := os.ReadFile(f.policy)
		if err != nil {
			return fmt.Errorf("--policy: %w", err)
		}
		if pol, err = controller.ParsePolicy(b); err != nil {
			return fmt.Errorf("--policy %s: %w", f.policy, err)
		}
	}
	if f.namespace != "" && !slices.Contains(pol.AllowNamespaces, f.namespace) {
		pol.AllowNamespaces = append(pol.AllowNamespaces, f.namespace)
	}
	var prom *controller.Prometheus
	if f.prometheus != "" {
		var err error
		if prom, err = controller.NewPrometheus(f.prometheus, f.rule); err != nil {
			return fmt.Errorf("--prometheus-url: %w", err)
		}
	}
	cfg, err := f.kube.config()
	if err != nil {
		return err
	}
	scheme, err := kubeScheme()
	if err != nil {
		return err
	}
	mgr, err := controller.NewManager(cfg, controller.ManagerOptions{Scheme: scheme, LeaderElection: f.leaderElect, LeaderElectionNamespace: f.namespace, Log: log})
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	rec, stopRec := reporter.NewRecorder(cs, "")
	defer stopRec()
	reports := reporter.New(reporter.Options{Client: mgr.GetClient(), Events: rec, Log: log})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var scans *controller.ImageScans
	var images controller.ImageChecker
	if f.scanImages {
		so := controller.ImageScanOptions{Insecure: f.insecure, CacheDir: f.cacheDir, IntelDir: f.intel, Workers: f.scanWorkers, Log: log}
		if f.pullSecrets {
			so.Clientset = cs
		}
		scans = controller.NewImageScans(mgr.GetCache(), so)
		images = scans
	}
	ctl := controller.New(controller.Options{
		Client: mgr.GetClient(), Prometheus: prom, Images: images, Policy: pol, Reports: reports, Events: rec,
		Remediator:   controller.NewRemediator(mgr.GetClient(), f.enforce, pol.MaxActionsPerHour, log),
		Resolver:     pods.NewResolver(controller.CachedGetter(mgr.GetCache())),
		Interval:     f.interval,
		MaxReportAge: f.maxReportAge,
		Metrics:      controller.NewMetrics(reg),
		Log:          log,
	})
	if !f.enforce {
		log.Info("remediation is a dry run; pass --enforce to act")
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	if f.metricsAddr != "" {
		status := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(ctl.Status())
		})
		go func() {
			errs <- agent.ServeWith(ctx, f.metricsAddr, reg, ctl.Ready, log, map[string]http.Handler{"/status": status})
		}()
	}
	// The passes and the report writer run only on the elected leader.
	if err := mgr.Add(leaderRunnable(func(ctx context.Context) error {
		go reports.Run(ctx)
		if scans != nil {
			go scans.Run(ctx)
		}
		ctl.Run(ctx)
		return nil
	})); err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	go func() { errs <- mgr.Start(ctx) }()
	select {
	case <-ctx.Done():
		return nil
	case err := <-errs:
		if err == nil || errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
}

// leaderRunnable runs fn only while this replica leads.
type leaderRunnable func(ctx context.Context) error

func (r leaderRunnable) Start(ctx context.Context) error { return r(ctx) }
func (r leaderRunnable) NeedLeaderElection() bool        { return true }
