package filescan

import (
	"go/scanner"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/davyproject/davy/internal/intel"
)

// Davy scans executables for miner strings, so the engine must not carry
// them in the clear (its vocabulary is hex-encoded). This test guards the
// sources; cmd/davy TestBinaryDoesNotMatchItself checks the whole binary.

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
