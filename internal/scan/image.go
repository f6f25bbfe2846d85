package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/filescan"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/image"
	"github.com/davyproject/davy/internal/intel"
	"github.com/davyproject/davy/internal/report"
)

// ImageOptions configure `davy scan image` and `davy scan fs`.
type ImageOptions struct {
	// Input is a local archive, OCI layout or root filesystem; with it,
	// refs select images inside it (or are empty).
	Input    string
	Insecure bool
	// Keychain supplies registry credentials (nil: the docker config).
	Keychain     authn.Keychain
	Platform     string
	AllPlatforms bool
	CacheDir     string
	// CacheMaxBytes bounds the layer cache (0: the default, negative:
	// never pruned).
	CacheMaxBytes int64
	IntelDir      string
	Parallel      int
	Thresholds    detect.Thresholds
	Progress      func(image.Event)
	Log           *slog.Logger
}

// ErrIncomplete marks a report in which some layer or file could not be
// scanned; the report still holds everything else.
var ErrIncomplete = errors.New("scan incomplete")

// Images scans each reference (or the input) and reports every image, one
// per platform. An image that cannot be opened at all is an error; layers
// and files that fail are reported in the image's Errors.
func Images(ctx context.Context, refs []string, opts ImageOptions) (*report.ImageReport, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	in, err := intel.Load(opts.IntelDir)
	if err != nil {
		return nil, fmt.Errorf("loading intel: %w", err)
	}
	eng, err := filescan.New(in, filescan.Options{})
	if err != nil {
		return nil, fmt.Errorf("building the file scanner: %w", err)
	}
	if len(refs) == 0 {
		refs = []string{""}
	}
	rep := &report.ImageReport{Schema: report.ImageSchema, Images: []report.Image{}}
	for _, ref := range refs {
		targets, err := image.Open(ctx, ref, image.Options{
			Input: opts.Input, Platform: opts.Platform, AllPlatforms: opts.AllPlatforms,
			Insecure: opts.Insecure, Keychain: opts.Keychain, Progress: opts.Progress,
		})
		if err != nil && len(targets) == 0 {
			return nil, err
		}
		if err != nil {
			opts.Log.Warn("some images in the input could not be opened", "err", err)
		}
		for _, t := range targets {
			img, err := scanTarget(ctx, eng, t, opts)
			if err != nil {
				return nil, err
			}
			rep.Images = append(rep.Images, img)
		}
	}
	return rep, nil
}

func scanTarget(ctx context.Context, eng *filescan.Engine, t image.Target, opts ImageOptions) (report.Image, error) {
	visit := func(ctx context.Context, f image.File, r io.Reader) ([]filescan.Finding, error) {
		if !f.Mode.IsRegular() || f.Linkname != "" {
			return nil, nil // links carry no content of their own
		}
		return eng.ScanFile(ctx, f.Path, f.Size, r)
	}
	res, err := image.Walk(ctx, t, image.WalkOptions{
		CacheDir: opts.CacheDir, CacheMaxBytes: opts.CacheMaxBytes, ScannerVersion: eng.Version(), Parallel: opts.Parallel, Progress: opts.Progress,
	}, visit)
	if err != nil {
		return report.Image{}, fmt.Errorf("scanning %s: %w", t.Ref, err)
	}
	out := report.Image{
		Ref: t.Ref, Digest: t.Digest, Platform: t.Platform, Complete: res.Complete,
		Layers: res.Layers, Files: res.Files, Bytes: res.Bytes, Findings: []report.ImageFinding{},
	}
	for _, e := range res.Errors {
		out.Errors = append(out.Errors, report.ScanError{Layer: e.Layer, Path: e.Path, Error: e.Err})
	}
	var ev []finding.Evidence
	add := func(f filescan.Finding, layer string, deleted bool) {
		out.Findings = append(out.Findings, report.ImageFinding{
			ID: f.ID, Severity: finding.SeverityOf(f.ID), Path: f.Path, Layer: layer,
			Message: f.Message, Deleted: deleted, Values: f.Values,
		})
		// A deleted file still ships in the image, so it counts.
		ev = append(ev, finding.New(f.ID, "image", 0, f.Message, nil))
	}
	if cfg, err := t.Image.ConfigFile(); err == nil && cfg != nil {
		for _, f := range eng.ScanImageConfig(cfg) {
			add(f, "", false)
		}
	}
	for _, lf := range res.Findings {
		add(lf.Finding, lf.Layer, lf.Deleted)
	}
	sort.SliceStable(out.Findings, func(i, j int) bool {
		a, b := out.Findings[i], out.Findings[j]
		if ra, rb := severityRank(a.Severity), severityRank(b.Severity); ra != rb {
			return ra < rb
		}
		return a.Path < b.Path
	})
	out.Score, out.Verdict = detect.Score(ev, opts.Thresholds)
	return out, nil
}

// Incomplete reports whether any image of a report could not be fully scanned.
func Incomplete(r *report.ImageReport) bool {
	for _, img := range r.Images {
		if !img.Complete {
			return true
		}
	}
	return false
}

func severityRank(s finding.Severity) int {
	return slices.Index(finding.Severities, s)
}

// Image scans one registry reference (the default platform), as the
// webhook and the controller do for a pod's image. The reference's
// registry is reached over plain HTTP when it is one of insecure.
func Image(ctx context.Context, ref string, insecure []string, opts ImageOptions) (report.Image, error) {
	if r, err := name.ParseReference(ref); err == nil && slices.Contains(insecure, r.Context().RegistryStr()) {
		opts.Insecure = true
	}
	if opts.Parallel == 0 {
		opts.Parallel = 1
	}
	if opts.Thresholds == (detect.Thresholds{}) {
		opts.Thresholds = detect.DefaultThresholds
	}
	rep, err := Images(ctx, []string{ref}, opts)
	if err != nil {
		return report.Image{}, fmt.Errorf("scanning %s: %w", ref, err)
	}
	if len(rep.Images) == 0 {
		return report.Image{}, fmt.Errorf("scanning %s: no image found", ref)
	}
	return rep.Images[0], nil
}
