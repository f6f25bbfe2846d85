package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/davyproject/davy/internal/report"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

func minerImage(t *testing.T) v1.Image {
	t.Helper()
	miner, err := os.ReadFile(testbedtest.BuildOnce(t).Miner)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "usr/local/bin/php-fpm", Mode: 0o755, Size: int64(len(miner)), Typeflag: tar.TypeReg})
	tw.Write(miner)
	tw.Close()
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestScanImageEndToEnd pushes a miner image to Debian's docker-registry
// (started on loopback by the test) and runs the real binary against it.
func TestScanImageEndToEnd(t *testing.T) {
	addr := testenv.StartRegistry(t)
	ref := addr + "/shop/php:8.2"
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, minerImage(t)); err != nil {
		t.Fatalf("push to docker-registry: %v", err)
	}
	cache := t.TempDir()

	out, stderr, code := runDavy(t, "scan", "image", "--insecure", ref, "-o", "json", "--cache-dir", cache, "--exit-code", "5", "--severity", "CRITICAL")
	if code != 5 {
		t.Fatalf("exit code %d, want 5; stderr: %s", code, stderr)
	}
	var rep report.ImageReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if len(rep.Images) != 1 || rep.Images[0].Verdict != "miner" || rep.Images[0].Digest == "" {
		t.Fatalf("report: %+v", rep)
	}
	for _, f := range rep.Images[0].Findings {
		if f.Severity != "CRITICAL" {
			t.Errorf("--severity CRITICAL let %s %s through", f.Severity, f.ID)
		}
	}

	// SARIF for GitHub code scanning, from the warm cache.
	out, stderr, code = runDavy(t, "scan", "image", "--insecure", ref, "-o", "sarif", "--cache-dir", cache)
	if code != 0 {
		t.Fatalf("sarif run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"ruleId": "DAVY-I001"`) || !strings.Contains(out, `"uri": "usr/local/bin/php-fpm"`) {
		t.Fatalf("SARIF lacks the finding:\n%s", out)
	}
}

func TestScanFS(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"pools":[{"url":"pool.supportxmr.com:3333","user":"x"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runDavy(t, "scan", "fs", dir, "--exit-code", "7", "--cache-dir", "")
	if code != 7 || !strings.Contains(out, "DAVY-F001") || !strings.Contains(out, "config.json") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr: %s", code, out, stderr)
	}
	// A tree with nothing in it exits 0.
	clean := t.TempDir()
	os.WriteFile(filepath.Join(clean, "main.go"), []byte("package main\n"), 0o644)
	if _, stderr, code := runDavy(t, "scan", "fs", clean, "--exit-code", "7", "--cache-dir", ""); code != 0 {
		t.Fatalf("clean tree: exit %d: %s", code, stderr)
	}
}
