package kube

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/davyproject/davy/internal/testbed"
)

// Version is the Kubernetes version the tests run; v1.36.x, as
// docs/kubernetes.md explains.
const Version = "v1.36.3"

// apiServerBinaries are what envtest runs.
var apiServerBinaries = []string{"etcd", "kube-apiserver", "kubectl"}

// clusterBinaries are what the whole single-node cluster runs.
var clusterBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl"}

// binSet finds or builds one set of binaries once per test binary.
type binSet struct {
	names []string
	once  sync.Once
	dir   string
	err   error
}

var (
	apiServerBins = &binSet{names: apiServerBinaries}
	clusterBins   = &binSet{names: clusterBinaries}
)

func (b *binSet) get(t testing.TB) string {
	t.Helper()
	b.once.Do(func() { b.dir, b.err = findOrBuild(b.names) })
	if b.err != nil {
		failOrSkip(t, b.err)
	}
	return b.dir
}

// BinDir returns the directory holding etcd, kube-apiserver and kubectl:
// KUBEBUILDER_ASSETS when it holds all three, else the cache of
// scripts/k8s-binaries.sh, which it runs when the cache is empty. That first
// build takes about 10 minutes on 2 cores (20 s with a warm Go build cache),
// so `make test` runs `make k8s-binaries` before `go test`.
func BinDir(t testing.TB) string {
	t.Helper()
	return apiServerBins.get(t)
}

// ClusterBinDir is BinDir for the whole cluster: it also requires
// kube-controller-manager, kube-scheduler and kubelet.
func ClusterBinDir(t testing.TB) string {
	t.Helper()
	return clusterBins.get(t)
}

// APIServerBinaries is BinDir for programs that are not tests.
func APIServerBinaries() (string, error) {
	apiServerBins.once.Do(func() { apiServerBins.dir, apiServerBins.err = findOrBuild(apiServerBins.names) })
	return apiServerBins.dir, apiServerBins.err
}

func findOrBuild(binaries []string) (string, error) {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" && complete(d, binaries) {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	dir := filepath.Join(cache, "davy", "k8s", Version)
	if complete(dir, binaries) {
		return dir, nil
	}
	root, err := testbed.ModuleRoot()
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(root, "scripts", "k8s-binaries.sh"), Version, dir)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the Kubernetes binaries (scripts/k8s-binaries.sh %s %s): %w\n%s", Version, dir, err, out.String())
	}
	if !complete(dir, binaries) {
		return "", fmt.Errorf("scripts/k8s-binaries.sh left %s without %s", dir, strings.Join(binaries, ", "))
	}
	return dir, nil
}

func complete(dir string, binaries []string) bool {
	for _, b := range binaries {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
