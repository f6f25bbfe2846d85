package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dockerEntry is one image in a docker/podman save archive's manifest.json.
type dockerEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// openDockerArchive opens the images of a `docker save` / `podman save`
// archive. It does not use tarball.ImageFromPath: that rescans the archive
// for every member it reads, cannot pick an untagged image out of a
// multi-image archive, and computes manifests and digests by recompressing
// every layer. Here members are read in place by offset, and layers are
// verified against the config's diff_ids as Walk streams them.
func openDockerArchive(path string, ti *tarIndex, ref string) ([]Target, error) {
	raw, err := ti.readAll("manifest.json", maxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("input %s: docker archive: %w", path, err)
	}
	var entries []dockerEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("input %s: docker archive manifest.json: %w", path, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("input %s: docker archive manifest.json lists no images", path)
	}
	var out []Target
	var errs []error
	var names []string
	for n, e := range entries {
		tag := "@" + strconv.Itoa(n)
		if len(e.RepoTags) > 0 {
			tag = e.RepoTags[0]
		}
		names = append(names, tag)
		if ref != "" && ref != tag && !hasTag(e.RepoTags, ref) {
			continue
		}
		tref := "docker-archive:" + path + ":" + tag
		t, err := dockerTarget(ti, e, tref)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", tref, err))
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("input %s: no image tagged %q (tags: %s)", path, ref, strings.Join(names, ", "))
	}
	return out, errors.Join(errs...)
}

func hasTag(tags []string, ref string) bool {
	for _, t := range tags {
		if t == ref || refNamesEqual(t, ref) {
			return true
		}
	}
	return false
}

func dockerTarget(ti *tarIndex, e dockerEntry, tref string) (Target, error) {
	cfgRaw, err := ti.readAll(e.Config, maxConfigBytes)
	if err != nil {
		return Target{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cfgRaw))
	if err != nil {
		return Target{}, fmt.Errorf("config %s: %w", e.Config, err)
	}
	if len(e.Layers) != len(cfg.RootFS.DiffIDs) {
		return Target{}, fmt.Errorf("manifest.json lists %d layers but config %s has %d diff_ids", len(e.Layers), e.Config, len(cfg.RootFS.DiffIDs))
	}
	for _, l := range e.Layers {
		if !ti.has(l) {
			return Target{}, fmt.Errorf("layer %s: not in archive", l)
		}
	}
	id, _, err := v1.SHA256(bytes.NewReader(cfgRaw))
	if err != nil {
		return Target{}, err
	}
	core := &dockerCore{ti: ti, cfgRaw: cfgRaw, cfg: cfg, files: e.Layers}
	img, err := partial.UncompressedToImage(core)
	if err != nil {
		return Target{}, err
	}
	return Target{Ref: tref, Digest: id.String(), Platform: configPlatform(cfg), Image: &dockerImage{Image: img, core: core}}, nil
}

// dockerImage is a v1.Image for callers, plus direct access to its layer
// files for Walk (see layerSpecs).
type dockerImage struct {
	v1.Image
	core *dockerCore
}

// layerSpecs names each layer by its diff_id and verifies the uncompressed
// stream against it: the archive states no compressed digests.
func (d *dockerImage) layerSpecs() []layerSpec {
	specs := make([]layerSpec, len(d.core.files))
	for i, f := range d.core.files {
		specs[i] = layerSpec{
			index:  i,
			id:     d.core.cfg.RootFS.DiffIDs[i],
			verify: verifyUncompressed,
			open: func() (io.ReadCloser, int64, error) {
				return d.core.ti.open(f)
			},
		}
	}
	return specs
}

// dockerCore is the partial.UncompressedImageCore of one archived image.
type dockerCore struct {
	ti     *tarIndex
	cfgRaw []byte
	cfg    *v1.ConfigFile
	files  []string
}

func (c *dockerCore) RawConfigFile() ([]byte, error)      { return c.cfgRaw, nil }
func (c *dockerCore) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }

func (c *dockerCore) LayerByDiffID(h v1.Hash) (partial.UncompressedLayer, error) {
	for i, d := range c.cfg.RootFS.DiffIDs {
		if d == h {
			return &dockerLayer{ti: c.ti, file: c.files[i], diffID: h}, nil
		}
	}
	return nil, fmt.Errorf("diff_id %s: not in image", h)
}

type dockerLayer struct {
	ti     *tarIndex
	file   string
	diffID v1.Hash
}

func (l *dockerLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *dockerLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }

// Uncompressed decompresses layer files that tools stored compressed
// (tarball.Write writes .tar.gz members).
func (l *dockerLayer) Uncompressed() (io.ReadCloser, error) {
	rc, _, err := l.ti.open(l.file)
	if err != nil {
		return nil, err
	}
	return decompressReadCloser(rc)
}
