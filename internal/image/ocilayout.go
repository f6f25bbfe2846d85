package image

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// openLayoutDir opens an OCI image layout directory (index.json, blobs/).
func openLayoutDir(ctx context.Context, dir, ref string, opts Options, want v1.Platform) ([]Target, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("input %s: OCI layout: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("input %s: OCI layout index.json: %w", dir, err)
	}
	return openOCI(ctx, "oci:"+dir, idx, ref, opts, want)
}
