package kube

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/davyproject/davy/internal/testbed"
)

// BinaryImage is a one-layer image holding the static binary at
// /<its base name>, run with args. Use a fully qualified reference such as
// davy.test/NAME:TAG when importing it, so containerd and the pod spec
// agree on the name.
func BinaryImage(binary string, args ...string) (v1.Image, error) {
	b, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", binary, err)
	}
	base := filepath.Base(binary)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: base, Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	if _, err := tw.Write(b); err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	// containerd imports only the images of its own platform.
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = []string{"/" + base}
	cf.Config.Cmd = args
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	return img, nil
}

// ImportImage writes img as an image archive tagged ref and imports it
// into the cluster's containerd, where pods use it with imagePullPolicy
// Never.
func (c *ClusterEnv) ImportImage(t testing.TB, img v1.Image, ref string) {
	t.Helper()
	if err := c.importImage(img, ref); err != nil {
		t.Fatal(err)
	}
}

// ImportImageTar imports an image archive (docker save or OCI layout tar).
func (c *ClusterEnv) ImportImageTar(t testing.TB, path string) {
	t.Helper()
	if _, err := c.cd.ctr(context.Background(), "images", "import", path); err != nil {
		t.Fatalf("importing %s: %v", path, err)
	}
}

func (c *ClusterEnv) importImage(img v1.Image, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", ref, err)
	}
	f, err := os.CreateTemp(c.StateDir, "image-*.tar")
	if err != nil {
		return fmt.Errorf("image archive: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := tarball.Write(tag, img, f); err != nil {
		return fmt.Errorf("writing image %s: %w", ref, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing image %s: %w", ref, err)
	}
	if _, err := c.cd.ctr(context.Background(), "images", "import", f.Name()); err != nil {
		return fmt.Errorf("importing image %s: %w", ref, err)
	}
	return nil
}

var (
	pauseOnce sync.Once
	pausePath string
	pauseErr  error
)

// pauseBinary builds ./pause once per test binary, cached across packages
// in the temporary directory by a hash of its source and the Go version.
func pauseBinary() (string, error) {
	pauseOnce.Do(func() { pausePath, pauseErr = buildPause() })
	return pausePath, pauseErr
}

func buildPause() (string, error) {
	root, err := testbed.ModuleRoot()
	if err != nil {
		return "", err
	}
	src, err := os.ReadFile(filepath.Join(root, "internal", "testenv", "kube", "pause", "main.go"))
	if err != nil {
		return "", fmt.Errorf("pause source: %w", err)
	}
	sum := sha256.Sum256(append([]byte(runtime.Version()+"\x00"), src...))
	dir := filepath.Join(os.TempDir(), "davy-kube-pause-"+hex.EncodeToString(sum[:8]))
	out := filepath.Join(dir, "pause")
	if st, err := os.Stat(out); err == nil && st.Mode()&0o111 != 0 {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("pause build directory: %w", err)
	}
	// Built aside and renamed, so a parallel build never runs a half
	// written file.
	tmp := fmt.Sprintf("%s.%d", out, os.Getpid())
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "./internal/testenv/kube/pause")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the pause binary: %w\n%s", err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("installing the pause binary: %w", err)
	}
	return out, nil
}
