package intel

import (
	"bytes"
	"encoding/json"
	"github.com/davyproject/davy/internal/testenv"
	"go/build"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davyproject/davy/internal/content"
)

// Davy scans executables for miner content and embeds its own indicators, so
// it must never carry them in the clear. These tests guard that.

// TestDataFilesHoldNoDecodedIndicator: no embedded data file (domains, names,
// notes, regexps...) and no non-test Go file of intel or content contains
// the decoded bytes of a content indicator.
func TestDataFilesHoldNoDecodedIndicator(t *testing.T) {
	inds := mustLoad(t, "").ContentIndicators()
	check := func(name string, data []byte) {
		for _, ind := range inds {
			if bytes.Contains(data, ind.Pattern) {
				t.Errorf("%s contains the bytes of indicator %s", name, ind.Name)
			}
		}
	}
	err := fs.WalkDir(dataFS, "data", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dataFS.ReadFile(p)
		check(p, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{".", "../content"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			check(f, b)
		}
	}
}

const selfProgram = `package main

import (
	"fmt"
	"os"

	"github.com/davyproject/davy/internal/content"
	"github.com/davyproject/davy/internal/intel"
)

func main() {
	in, err := intel.Load("")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	sc, err := content.NewScanner(in.ContentIndicators(), content.Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	f, err := os.Open(os.Args[0])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	res, err := sc.Scan(f)
	fmt.Println(res.Classify(), len(res.Hits), err, in.Counts())
}
`

// TestBinaryDoesNotMatchItself builds a small program that embeds intel and
// content, checks its bytes, and scans it with the real indicators.
func TestBinaryDoesNotMatchItself(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(build.Default.GOROOT, "bin", "go")
		_, err := os.Stat(goBin)
		testenv.Need(t, err == nil, "go command")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// The program must live inside the module to import internal packages; an
	// overlay places it there without writing into the source tree.
	tmp := t.TempDir()
	src := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(src, []byte(selfProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		filepath.Join(root, "internal", "intel", "zz_selfmatch_prog", "main.go"): src,
	}})
	overlayPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayPath, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "selfmatch")
	cmd := exec.Command(goBin, "build", "-overlay", overlayPath, "-o", bin, "./internal/intel/zz_selfmatch_prog")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"mining.subscribe", "RandomX\x03", "stratum+tcp://", "password for mining server"} {
		if bytes.Contains(exe, []byte(plain)) {
			t.Errorf("binary contains %q in the clear", plain)
		}
	}
	in := mustLoad(t, "")
	sc, err := content.NewScanner(in.ContentIndicators(), content.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.Scan(bytes.NewReader(exe))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 0 {
		t.Errorf("a binary embedding the intel matches indicators: %s (%v)", res.Summary(), res.Classify())
	}
	// And the program, scanning itself at run time, agrees.
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "none 0 <nil>") {
		t.Errorf("self-scan printed %q", out)
	}
}
