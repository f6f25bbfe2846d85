package intel

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Davy scans executables for miner content and embeds its own indicators, so
// it must never carry them in the clear. This test guards the data and
// sources; cmd/davy TestBinaryDoesNotMatchItself checks the whole binary.

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
