// Package crds embeds Davy's CustomResourceDefinitions, so the tests and the
// chart install the same bytes as this directory holds.
package crds

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed *.yaml
var files embed.FS

// MinerReports is the MinerReport CRD (group davy.dev).
//
//go:embed davy.dev_minerreports.yaml
var MinerReports []byte

// All returns every CRD file's contents, keyed by file name.
func All() (map[string][]byte, error) {
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing embedded CRDs: %w", err)
	}
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("reading embedded CRD %s: %w", n, err)
		}
		out[n] = b
	}
	return out, nil
}
