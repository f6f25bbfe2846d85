// Package testenv gives integration tests the real components they use
// (root, podman with runc) and fails, rather than skips, when one is missing
// and DAVY_REQUIRE_INTEGRATION=1 or CI is set, so CI never passes by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing components must fail tests.
func Required() bool {
	return os.Getenv("DAVY_REQUIRE_INTEGRATION") == "1" || os.Getenv("CI") != ""
}

// Need fails or skips the test when ok is false, naming what is missing.
func Need(tb testing.TB, ok bool, what string) {
	tb.Helper()
	if ok {
		return
	}
	if Required() {
		tb.Fatalf("integration component missing: %s (run scripts/install-test-deps.sh)", what)
	}
	tb.Skipf("integration component missing: %s", what)
}

// NeedRoot requires root, which reading other processes' /proc entries and
// running containers take.
func NeedRoot(tb testing.TB) {
	tb.Helper()
	Need(tb, os.Geteuid() == 0, "root")
}

// NeedCommand requires a program on PATH and returns its path.
func NeedCommand(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	Need(tb, err == nil, "command "+name)
	return p
}
