// Package testbedtest has test helpers for the testbed workloads: build
// them once per test binary run (cached across packages by source hash),
// start them as real processes and clean up only what was started.
package testbedtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/testbed"
)

var (
	buildOnce sync.Once
	built     testbed.Binaries
	buildErr  error
)

// BuildOnce returns the testbed binaries, building them at most once per
// test binary and reusing os.TempDir()/davy-testbed-<source hash> when
// another package already built the same sources.
func BuildOnce(tb testing.TB) testbed.Binaries {
	tb.Helper()
	buildOnce.Do(func() { built, buildErr = buildCached() })
	if buildErr != nil {
		tb.Fatalf("testbed: %v", buildErr)
	}
	return built
}

func buildCached() (testbed.Binaries, error) {
	root, err := testbed.ModuleRoot()
	if err != nil {
		return testbed.Binaries{}, err
	}
	sum, err := testbed.SourceHash(root)
	if err != nil {
		return testbed.Binaries{}, err
	}
	dir := filepath.Join(os.TempDir(), "davy-testbed-"+sum)
	if testbed.Complete(dir) {
		return testbed.Paths(dir), nil
	}
	// Build aside and rename into place, so parallel test binaries never
	// see a half-written directory.
	tmp, err := os.MkdirTemp(os.TempDir(), "davy-testbed-build-")
	if err != nil {
		return testbed.Binaries{}, fmt.Errorf("build dir: %w", err)
	}
	// Readable by container users, which may not be root.
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return testbed.Binaries{}, fmt.Errorf("build dir: %w", err)
	}
	if _, err := testbed.Build(tmp); err != nil {
		os.RemoveAll(tmp)
		return testbed.Binaries{}, err
	}
	if !testbed.Complete(dir) {
		os.RemoveAll(dir) // leftover of an interrupted run
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if testbed.Complete(dir) {
			return testbed.Paths(dir), nil // another test binary won the race
		}
		return testbed.Binaries{}, fmt.Errorf("install testbed binaries: %w", err)
	}
	pruneStale(dir)
	return testbed.Paths(dir), nil
}

// staleAfter is long enough that no running test still uses an old build.
const staleAfter = 24 * time.Hour

// pruneStale removes earlier builds (other source hashes) left in the temp dir.
func pruneStale(keep string) {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(os.TempDir(), e.Name())
		if !e.IsDir() || p == keep || !strings.HasPrefix(e.Name(), "davy-testbed-") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleAfter {
			os.RemoveAll(p)
		}
	}
}
