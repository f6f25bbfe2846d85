package image

import (
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxIndexDepth bounds nested indexes (an index of indexes of ...).
const maxIndexDepth = 4

// maxIndexManifests bounds the manifests considered in one index.
const maxIndexManifests = 4096

// platformImages resolves a platform index to its images: every platform,
// or the one matching want.
func platformImages(idx v1.ImageIndex, want v1.Platform, all bool) ([]candidate, error) {
	cands, err := collectImages(idx, 0)
	if err != nil {
		return nil, err
	}
	return choosePlatform(cands, want, all)
}

// choosePlatform picks the wanted platform's image, or all of them.
func choosePlatform(cands []candidate, want v1.Platform, all bool) ([]candidate, error) {
	if len(cands) == 0 {
		return nil, errors.New("index holds no image manifests")
	}
	if all {
		return cands, nil
	}
	if c, ok := pickPlatform(cands, want); ok {
		return []candidate{c}, nil
	}
	var have []string
	for _, c := range cands {
		have = append(have, platformString(c.desc.Platform))
	}
	return nil, fmt.Errorf("no image for platform %s (index has: %s)", want.String(), strings.Join(have, ", "))
}

// candidate is an image manifest found in an index.
type candidate struct {
	desc   v1.Descriptor
	parent v1.ImageIndex // the index that can open desc
}

// open reads the candidate's image and checks its manifest and config.
func (c candidate) open() (v1.Image, string, error) {
	img, err := c.parent.Image(c.desc.Digest)
	if err != nil {
		return nil, "", fmt.Errorf("image %s: %w", c.desc.Digest, err)
	}
	plat, err := checkImage(img)
	if err != nil {
		return nil, "", fmt.Errorf("image %s: %w", c.desc.Digest, err)
	}
	if c.desc.Platform != nil && c.desc.Platform.OS != "" {
		plat = c.desc.Platform.String()
	}
	return img, plat, nil
}

// collectImages lists the image manifests of an index and its nested
// indexes, without attestations and other artifacts.
func collectImages(idx v1.ImageIndex, depth int) ([]candidate, error) {
	if depth > maxIndexDepth {
		return nil, fmt.Errorf("indexes nested more than %d deep", maxIndexDepth)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index: %w", err)
	}
	if len(im.Manifests) > maxIndexManifests {
		return nil, fmt.Errorf("index lists %d manifests, more than %d", len(im.Manifests), maxIndexManifests)
	}
	var out []candidate
	for _, d := range im.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("nested index %s: %w", d.Digest, err)
			}
			sub, err := collectImages(child, depth+1)
			if err != nil {
				return nil, fmt.Errorf("nested index %s: %w", d.Digest, err)
			}
			out = append(out, sub...)
		case d.MediaType.IsImage() && !isAttestation(d):
			out = append(out, candidate{desc: d, parent: idx})
		}
	}
	return out, nil
}

// isAttestation: BuildKit stores provenance/SBOM as image manifests with
// platform unknown/unknown; they hold no filesystem.
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

func pickPlatform(cands []candidate, want v1.Platform) (candidate, bool) {
	for _, c := range cands {
		if c.desc.Platform != nil && c.desc.Platform.Satisfies(want) {
			return c, true
		}
	}
	// arm64 images usually omit the variant: linux/arm64/v8 == linux/arm64.
	if want.Architecture == "arm64" && want.Variant == "v8" {
		w := want
		w.Variant = ""
		return pickPlatform(cands, w)
	}
	// A lone manifest with no platform is the image (single-platform index).
	if len(cands) == 1 && cands[0].desc.Platform == nil {
		return cands[0], true
	}
	return candidate{}, false
}

func platformString(p *v1.Platform) string {
	if p == nil || p.OS == "" {
		return "unknown"
	}
	return p.String()
}

// configPlatform is the platform an image config states.
func configPlatform(cfg *v1.ConfigFile) string {
	if cfg == nil {
		return ""
	}
	p := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
	return p.String()
}

// checkImage reads an image's manifest and config so that a corrupt one is
// reported when the image is opened, and returns its config platform.
func checkImage(img v1.Image) (string, error) {
	mt, err := img.MediaType()
	if err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	if mt == types.DockerManifestSchema1 || mt == types.DockerManifestSchema1Signed {
		return "", fmt.Errorf("manifest: docker schema 1 (%s) is not supported", mt)
	}
	m, err := img.Manifest()
	if err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	if m == nil {
		return "", errors.New("manifest: empty")
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	if cfg == nil {
		return "", fmt.Errorf("config %s: empty", m.Config.Digest)
	}
	if len(m.Layers) != len(cfg.RootFS.DiffIDs) {
		return "", fmt.Errorf("manifest lists %d layers but config %s has %d diff_ids", len(m.Layers), m.Config.Digest, len(cfg.RootFS.DiffIDs))
	}
	return configPlatform(cfg), nil
}
