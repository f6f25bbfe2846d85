package image

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Annotations that name the images of an OCI layout's index.json.
const (
	annotationRefName        = "org.opencontainers.image.ref.name"
	annotationContainerdName = "io.containerd.image.name"
)

// openOCI turns the top-level index of an OCI layout or archive into
// Targets. Each top-level entry is an image of its own (possibly named);
// an entry that is an index is a multi-platform image, resolved to the
// wanted platform(s). Some tools write the platform index itself as
// index.json: several same-named entries that all state a platform are
// taken as one multi-platform image too.
func openOCI(ctx context.Context, prefix string, idx v1.ImageIndex, ref string, opts Options, want v1.Platform) ([]Target, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", prefix, err)
	}
	if len(im.Manifests) > maxIndexManifests {
		return nil, fmt.Errorf("%s: index.json lists %d manifests, more than %d", prefix, len(im.Manifests), maxIndexManifests)
	}
	var units []*ociUnit
	byName := map[string]*ociUnit{}
	var names []string
	for _, d := range im.Manifests {
		n := ociRefName(d)
		names = append(names, n)
		if ref != "" && !sameRef(ref, d) {
			continue
		}
		switch {
		case d.MediaType.IsIndex():
			units = append(units, &ociUnit{name: n, index: &d})
		case d.MediaType.IsImage() && !isAttestation(d):
			if u := byName[n]; u != nil {
				u.images = append(u.images, candidate{desc: d, parent: idx})
				continue
			}
			u := &ociUnit{name: n, images: []candidate{{desc: d, parent: idx}}}
			byName[n] = u
			units = append(units, u)
		}
	}
	if len(units) == 0 {
		if ref != "" {
			return nil, fmt.Errorf("%s: no image named %q (names: %s)", prefix, ref, strings.Join(nonEmpty(names), ", "))
		}
		return nil, fmt.Errorf("%s: index.json lists no images", prefix)
	}
	var out []Target
	var errs []error
	for _, u := range units {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		tref := prefix
		if u.name != "" {
			tref += ":" + u.name
		}
		cands, err := u.resolve(idx, want, opts.AllPlatforms)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", tref, err))
			continue
		}
		for _, c := range cands {
			img, plat, err := c.open()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", tref, err))
				continue
			}
			out = append(out, Target{Ref: tref, Digest: c.desc.Digest.String(), Platform: plat, Image: img})
		}
	}
	return out, errors.Join(errs...)
}

// ociUnit is one image of a layout: a platform index, or image manifests
// sharing a name.
type ociUnit struct {
	name   string
	index  *v1.Descriptor
	images []candidate
}

func (u *ociUnit) resolve(idx v1.ImageIndex, want v1.Platform, all bool) ([]candidate, error) {
	if u.index != nil {
		child, err := idx.ImageIndex(u.index.Digest)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", u.index.Digest, err)
		}
		cands, err := platformImages(child, want, all)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", u.index.Digest, err)
		}
		return cands, nil
	}
	if len(u.images) > 1 {
		for _, c := range u.images {
			if c.desc.Platform == nil {
				return u.images, nil // separate images that happen to share a name
			}
		}
		return choosePlatform(u.images, want, all)
	}
	return u.images, nil
}

// ociRefName is the name an index entry carries: the short ref name
// ("latest") or containerd's full image name.
func ociRefName(d v1.Descriptor) string {
	if n := d.Annotations[annotationRefName]; n != "" {
		return n
	}
	return d.Annotations[annotationContainerdName]
}

// sameRef matches a user's ref against an entry's names, literally or as
// normalised image references (busybox == docker.io/library/busybox:latest).
func sameRef(ref string, d v1.Descriptor) bool {
	for _, n := range []string{d.Annotations[annotationRefName], d.Annotations[annotationContainerdName]} {
		if n == "" {
			continue
		}
		if n == ref || refNamesEqual(n, ref) {
			return true
		}
	}
	return false
}

func refNamesEqual(a, b string) bool {
	ra, err := name.ParseReference(a)
	if err != nil {
		return false
	}
	rb, err := name.ParseReference(b)
	if err != nil {
		return false
	}
	return ra.Name() == rb.Name()
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}
