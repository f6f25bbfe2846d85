package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
)

// kubeFlags say how to reach the Kubernetes API server.
type kubeFlags struct {
	kubeconfig string
	qps        float32
	burst      int
}

func (f *kubeFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: the in-cluster service account, else $KUBECONFIG or ~/.kube/config)")
	fl.Float32Var(&f.qps, "kube-api-qps", 20, "requests per second to the API server")
	fl.IntVar(&f.burst, "kube-api-burst", 40, "burst of requests to the API server")
}

// inCluster reports whether this process runs in a pod with a service
// account, as rest.InClusterConfig requires.
func inCluster() bool {
	return os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBERNETES_SERVICE_PORT") != ""
}

// config loads the client configuration: --kubeconfig, else in-cluster,
// else kubectl's default loading rules.
func (f *kubeFlags) config() (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	switch {
	case f.kubeconfig != "":
		cfg, err = clientcmd.BuildConfigFromFlags("", f.kubeconfig)
	case inCluster():
		cfg, err = rest.InClusterConfig()
	default:
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client configuration: %w", err)
	}
	cfg.QPS, cfg.Burst = f.qps, f.burst
	cfg.UserAgent = "davy/" + version
	return cfg, nil
}

// kubeScheme knows the built-in kinds and Davy's.
func kubeScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// agentKube is what the agent gets from the cluster: the node's pods and a
// reporter.
type agentKube struct {
	pods    *pods.Index
	reports *reporter.Reporter
	stop    func()
}

// startAgentKube lists and watches the node's pods and, unless reports is
// false, prepares the reporter. It returns nil when Kubernetes is off.
func startAgentKube(ctx context.Context, f *kubeFlags, mode, node string, reports bool, log *slog.Logger) (*agentKube, error) {
	switch mode {
	case "off":
		return nil, nil
	case "auto":
		if f.kubeconfig == "" && !inCluster() {
			return nil, nil
		}
	case "on":
	default:
		return nil, fmt.Errorf("--kube: %q is not auto, on or off", mode)
	}
	if node == "" {
		return nil, fmt.Errorf("--kube: the node name is unknown; set --node-name or NODE_NAME (the downward API's spec.nodeName)")
	}
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes metadata client: %w", err)
	}
	k := &agentKube{pods: pods.New(cs, meta, node, log), stop: func() {}}
	if err := k.pods.Run(ctx, time.Minute); err != nil {
		return nil, err
	}
	log.Info("watching this node's pods", "node", node, "pods", k.pods.Len())
	if reports {
		scheme, err := kubeScheme()
		if err != nil {
			return nil, err
		}
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			return nil, fmt.Errorf("kubernetes client: %w", err)
		}
		rec, stop := reporter.NewRecorder(cs, node)
		k.stop = stop
		k.reports = reporter.New(reporter.Options{Client: c, Events: rec, Node: node, Log: log})
	}
	return k, nil
}
