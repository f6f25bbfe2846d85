package image

import (
	"bytes"
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// openOCIArchive opens a tar of an OCI layout. Blobs are read in place as
// sections of the archive file: nothing is extracted.
func openOCIArchive(ctx context.Context, path string, ti *tarIndex, ref string, opts Options, want v1.Platform) ([]Target, error) {
	raw, err := ti.readAll("index.json", maxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("input %s: OCI archive: %w", path, err)
	}
	idx, err := newArchiveIndex(ti, raw, types.OCIImageIndex)
	if err != nil {
		return nil, fmt.Errorf("input %s: OCI archive index.json: %w", path, err)
	}
	return openOCI(ctx, "oci-archive:"+path, idx, ref, opts, want)
}

func blobName(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// readBlob reads a small blob (manifest, config) and checks its digest:
// these are not streamed through Walk's verification.
func readBlob(ti *tarIndex, h v1.Hash, max int64) ([]byte, error) {
	b, err := ti.readAll(blobName(h), max)
	if err != nil {
		return nil, err
	}
	got, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if got != h {
		return nil, fmt.Errorf("blob %s: %w: content hashes to %s", h, errDigestMismatch, got)
	}
	return b, nil
}

// archiveIndex is a v1.ImageIndex whose blobs live in an OCI archive.
type archiveIndex struct {
	ti  *tarIndex
	raw []byte
	im  *v1.IndexManifest
	mt  types.MediaType
}

var _ v1.ImageIndex = (*archiveIndex)(nil)

func newArchiveIndex(ti *tarIndex, raw []byte, mt types.MediaType) (*archiveIndex, error) {
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if im.MediaType != "" {
		mt = im.MediaType
	}
	return &archiveIndex{ti: ti, raw: raw, im: im, mt: mt}, nil
}

func (x *archiveIndex) MediaType() (types.MediaType, error) { return x.mt, nil }
func (x *archiveIndex) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(x.raw))
	return h, err
}
func (x *archiveIndex) Size() (int64, error)                      { return int64(len(x.raw)), nil }
func (x *archiveIndex) IndexManifest() (*v1.IndexManifest, error) { return x.im, nil }
func (x *archiveIndex) RawManifest() ([]byte, error)              { return x.raw, nil }

func (x *archiveIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	raw, err := readBlob(x.ti, h, maxManifestBytes)
	if err != nil {
		return nil, err
	}
	return newArchiveIndex(x.ti, raw, types.OCIImageIndex)
}

func (x *archiveIndex) Image(h v1.Hash) (v1.Image, error) {
	raw, err := readBlob(x.ti, h, maxManifestBytes)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&archiveImage{ti: x.ti, raw: raw, m: m})
}

// archiveImage is the partial.CompressedImageCore of one image manifest.
type archiveImage struct {
	ti  *tarIndex
	raw []byte
	m   *v1.Manifest
}

func (a *archiveImage) RawConfigFile() ([]byte, error) {
	return readBlob(a.ti, a.m.Config.Digest, maxConfigBytes)
}

func (a *archiveImage) MediaType() (types.MediaType, error) {
	if a.m.MediaType != "" {
		return a.m.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}

func (a *archiveImage) RawManifest() ([]byte, error) { return a.raw, nil }

func (a *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == a.m.Config.Digest {
		return &archiveLayer{ti: a.ti, desc: a.m.Config}, nil
	}
	for _, d := range a.m.Layers {
		if d.Digest == h {
			return &archiveLayer{ti: a.ti, desc: d}, nil
		}
	}
	return nil, fmt.Errorf("blob %s: not in manifest", h)
}

// archiveLayer streams a layer blob from the archive. It does not verify:
// Walk hashes the bytes as they stream.
type archiveLayer struct {
	ti   *tarIndex
	desc v1.Descriptor
}

func (l *archiveLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *archiveLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *archiveLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *archiveLayer) Compressed() (io.ReadCloser, error) {
	rc, _, err := l.ti.open(blobName(l.desc.Digest))
	return rc, err
}
