package filescan

import (
	"bytes"
	"encoding/json"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/davyproject/davy/internal/intel"
)

// Davy scans executables for miner strings, so the engine must not carry
// them in the clear (its vocabulary is hex-encoded). These tests guard that.

// TestSourcesHoldNoDecodedIndicator checks the string literals of the
// non-test sources (comments never reach the binary, and may name values).
func TestSourcesHoldNoDecodedIndicator(t *testing.T) {
	in, err := intel.Load("")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src := readFile(t, f)
		fset := token.NewFileSet()
		var sc scanner.Scanner
		sc.Init(fset.AddFile(f, fset.Base(), len(src)), src, nil, 0)
		for {
			pos, tok, lit := sc.Scan()
			if tok == token.EOF {
				break
			}
			if tok != token.STRING && tok != token.CHAR {
				continue
			}
			v, err := strconv.Unquote(lit)
			if err != nil {
				t.Fatalf("%s: %v", fset.Position(pos), err)
			}
			for _, ind := range in.ContentIndicators() {
				if strings.Contains(v, string(ind.Pattern)) {
					t.Errorf("%s: string literal holds indicator %s", fset.Position(pos), ind.Name)
				}
			}
		}
	}
}

const selfProgram = `package main

import (
	"context"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/davyproject/davy/internal/filescan"
	"github.com/davyproject/davy/internal/intel"
)

func main() {
	in, err := intel.Load("")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	e, err := filescan.New(in, filescan.Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	f, err := os.Open(os.Args[0])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	st, _ := f.Stat()
	fs, err := e.ScanFile(context.Background(), "self", st.Size(), f)
	fmt.Println(len(fs), err, len(e.ScanImageConfig(&v1.ConfigFile{})))
	for _, x := range fs {
		fmt.Println(x.ID, x.Message)
	}
}
`

// TestBinaryDoesNotMatchItself builds a program that links the whole
// engine and scans it, from the test and from itself.
func TestBinaryDoesNotMatchItself(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// The program must live inside the module to import internal packages;
	// an overlay places it there without writing into the source tree.
	tmp := t.TempDir()
	src := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(src, []byte(selfProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		filepath.Join(root, "internal", "filescan", "zz_selfmatch_prog", "main.go"): src,
	}})
	overlayPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayPath, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "selfmatch")
	cmd := exec.Command("go", "build", "-overlay", overlayPath, "-o", bin, "./internal/filescan/zz_selfmatch_prog")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	exe := readFile(t, bin)
	res, err := newEngine(t).ScanExecutable(bytes.NewReader(exe))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 0 {
		t.Errorf("a binary linking the engine matches indicators: %s (%v)", res.Summary(), res.Classify())
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "0 <nil> 0") {
		t.Errorf("self-scan printed %q", out)
	}
}
