package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
	script, err := findUp(filepath.Join("scripts", "helm.sh"))
	if err != nil {
		return "", err
	}
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

// findUp looks for rel in the working directory (a test's package
// directory) and its parents, up to the module root.
func findUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New(rel + " not found above the test's directory")
		}
		dir = parent
	}
}
