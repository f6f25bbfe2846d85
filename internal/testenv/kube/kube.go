// Package kube gives tests a real Kubernetes API server (etcd and
// kube-apiserver, no kubelet) through controller-runtime's envtest, with
// Davy's CRDs installed. The binaries are built from the Go module proxy by
// scripts/k8s-binaries.sh and cached by version; envtest never downloads.
package kube

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/davyproject/davy/deploy/crds"
	"github.com/davyproject/davy/internal/testenv"
)

// Env is a running API server.
type Env struct {
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig for kubectl.
	Kubeconfig string
	// BinDir holds etcd, kube-apiserver and kubectl.
	BinDir string

	logs *logBuffer
}

// APIServer starts an API server with Davy's CRDs established and returns a
// config with admin rights. Everything stops when the test ends.
func APIServer(t testing.TB) *rest.Config {
	t.Helper()
	return Start(t).Config
}

// Start is APIServer that also gives the kubeconfig and the binaries, for
// tests that run kubectl.
func Start(t testing.TB) *Env {
	t.Helper()
	bin := BinDir(t)
	env, stop, err := Run(bin)
	if err != nil {
		failOrSkip(t, err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("kube-apiserver log (tail):\n%s", env.logs.tail(8192))
		}
	})
	return env
}

// Run starts an API server from the binaries in bin, for programs such as
// benchmarks that are not tests; stop ends it.
func Run(bin string) (env *Env, stop func() error, err error) {
	crdList, err := davyCRDs()
	if err != nil {
		return nil, nil, err
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory: bin,
		DownloadBinaryAssets:  false,
		CRDs:                  crdList,
		ErrorIfCRDPathMissing: true,
		// Cold starts on a busy 2-core machine, with `go test ./...`
		// running other packages beside this one, take more than 3-5 s.
		ControlPlaneStartTimeout: 60 * time.Second,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	api := te.ControlPlane.GetAPIServer()
	// envtest binds 127.0.0.1, which kube-apiserver refuses as an advertise
	// address unless it does not reconcile the kubernetes Service's endpoints.
	api.Configure().Set("endpoint-reconciler-type", "none")
	// The API server's own logs are shown only when asked (a failed test).
	logs := &logBuffer{}
	api.Out, api.Err = logs, logs

	cfg, err := te.Start()
	if err != nil {
		_ = te.Stop()
		return nil, nil, fmt.Errorf("starting the API server from %s: %w\n%s", bin, err, logs.String())
	}
	dir, err := os.MkdirTemp("", "davy-kubeconfig-")
	if err != nil {
		_ = te.Stop()
		return nil, nil, err
	}
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, te.KubeConfig, 0o600); err != nil {
		_ = te.Stop()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop = func() error {
		os.RemoveAll(dir)
		if err := te.Stop(); err != nil {
			return fmt.Errorf("stopping the API server: %w", err)
		}
		return nil
	}
	return &Env{Config: cfg, Kubeconfig: kc, BinDir: bin, logs: logs}, stop, nil
}

// davyCRDs decodes the CRDs embedded from deploy/crds.
func davyCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := crds.All()
	if err != nil {
		return nil, err
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for name, b := range files {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(b, crd); err != nil {
			return nil, fmt.Errorf("decoding CRD %s: %w", name, err)
		}
		out = append(out, crd)
	}
	return out, nil
}

// failOrSkip fails when integration components are required (CI,
// DAVY_REQUIRE_INTEGRATION=1) and skips otherwise, as testenv.Need does.
func failOrSkip(t testing.TB, err error) {
	t.Helper()
	testenv.Need(t, false, err.Error())
}
