package controller

import (
	"context"

	"github.com/davyproject/davy/internal/finding"
)

// ImageChecker gives what scans of images found.
type ImageChecker interface {
	// Evidence returns the evidence of the images with these digests, from
	// scans already done.
	Evidence(digests []string) []finding.Evidence
	// Queue asks for the images of running pods to be scanned.
	Queue(ctx context.Context) error
}

func (c *Controller) scanImages(ctx context.Context) error {
	return c.o.Images.Queue(ctx)
}
