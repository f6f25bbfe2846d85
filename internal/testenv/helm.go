package testenv

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

// HelmVersion is the helm the tests use, built by scripts/helm.sh.
const HelmVersion = "v3.22.0"

var (
	helmOnce sync.Once
	helmBin  string
	helmErr  error
)

// Helm returns the path of the cached helm binary, building it when it is
// missing (make test builds it beforehand, outside the tests' timeouts).
// Without it the test fails in CI and skips elsewhere, as Need does.
func Helm(t testing.TB) string {
	t.Helper()
	helmOnce.Do(func() { helmBin, helmErr = buildHelm() })
	Need(t, helmErr == nil, fmt.Sprint("helm: ", helmErr))
	return helmBin
}

func buildHelm() (string, error) {
	root, err := testbed.ModuleRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "scripts", "helm.sh")
	var out bytes.Buffer
	cmd := exec.Command(script, HelmVersion)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/helm.sh %s: %w\n%s", HelmVersion, err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	bin := filepath.Join(lines[len(lines)-1], "helm")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("scripts/helm.sh left no helm: %w", err)
	}
	return bin, nil
}
