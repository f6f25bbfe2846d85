package testbed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// ModulePath is the module the testbed belongs to.
const ModulePath = "github.com/davyproject/davy"

// Binary names as built by Build.
const (
	MinerName  = "minersim"
	PoolName   = "poolsim"
	BurnerName = "burner"
)

// Binaries are the paths of the built workloads.
type Binaries struct {
	Miner  string
	Pool   string
	Burner string
}

// Paths returns the binaries Build writes into dir.
func Paths(dir string) Binaries {
	return Binaries{
		Miner:  filepath.Join(dir, MinerName),
		Pool:   filepath.Join(dir, PoolName),
		Burner: filepath.Join(dir, BurnerName),
	}
}

// Build compiles the three workloads into dir with the go command on PATH.
// CGO_ENABLED=0 makes them static so they run in minimal containers.
func Build(dir string) (Binaries, error) {
	root, err := ModuleRoot()
	if err != nil {
		return Binaries{}, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Binaries{}, fmt.Errorf("build dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return Binaries{}, fmt.Errorf("build dir: %w", err)
	}
	pkgs := []string{"./internal/testbed/cmd/" + MinerName, "./internal/testbed/cmd/" + PoolName, "./internal/testbed/cmd/" + BurnerName}
	// A trailing separator makes go build write one binary per package.
	cmd := exec.Command("go", append([]string{"build", "-o", abs + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("go build testbed: %w\n%s", err, out)
	}
	return Paths(abs), nil
}

// ModuleRoot finds the module's directory: from this source file's path
// when it is still there, else from "go env GOMOD" in the working directory.
func ModuleRoot() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		dir := filepath.Join(filepath.Dir(file), "..", "..")
		if isModuleRoot(dir) {
			return filepath.Clean(dir), nil
		}
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull || !isModuleRoot(filepath.Dir(gomod)) {
		return "", fmt.Errorf("module %s not found from %q", ModulePath, gomod)
	}
	return filepath.Dir(gomod), nil
}

func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return f[1] == ModulePath
		}
	}
	return false
}

// SourceHash identifies what Build would produce: the Go version, go.mod,
// go.sum and every non-test Go file under internal/testbed.
func SourceHash(root string) (string, error) {
	h := sha256.New()
	h.Write([]byte(runtime.Version() + "\x00"))
	var files []string
	for _, f := range []string{"go.mod", "go.sum"} {
		files = append(files, filepath.Join(root, f))
	}
	err := filepath.WalkDir(filepath.Join(root, "internal", "testbed"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("source hash: %w", err)
	}
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("source hash: %w", err)
		}
		rel, _ := filepath.Rel(root, f)
		h.Write([]byte(rel + "\x00"))
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Complete reports whether dir holds all three binaries.
func Complete(dir string) bool {
	b := Paths(dir)
	for _, p := range []string{b.Miner, b.Pool, b.Burner} {
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
