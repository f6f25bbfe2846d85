package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every timestamp in the image, so the same inputs give the same
// digests on every run.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// layerFile is one gzip layer written to disk with its digests, known from
// writing it so nothing has to read it again.
type layerFile struct {
	Path         string `json:"path"`
	Digest       string `json:"digest"`
	DiffID       string `json:"diff_id"`
	Size         int64  `json:"size"`
	Uncompressed int64  `json:"uncompressed"`
	Files        int    `json:"files"`
}

type countHash struct {
	h hash.Hash
	n int64
}

func (c *countHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

func (c *countHash) sum() string { return "sha256:" + hex.EncodeToString(c.h.Sum(nil)) }

// writeLayer writes one layer as tar+gzip (default level, as image builders
// use) to gzPath and the same files into rootfs. No path repeats across
// layers and there are no whiteouts, so writing each layer's files into
// rootfs is the same as applying the layers in order.
func writeLayer(entries []entry, gzPath, rootfs string) (layerFile, error) {
	f, err := os.Create(gzPath)
	if err != nil {
		return layerFile{}, fmt.Errorf("layer: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	digest := &countHash{h: sha256.New()}
	gz, err := gzip.NewWriterLevel(io.MultiWriter(bw, digest), gzip.DefaultCompression)
	if err != nil {
		return layerFile{}, err
	}
	diffID := &countHash{h: sha256.New()}
	tw := tar.NewWriter(io.MultiWriter(gz, diffID))
	dirs := map[string]bool{}
	for _, e := range entries {
		if err := writeDirs(tw, dirs, path.Dir(e.name)); err != nil {
			return layerFile{}, err
		}
		if err := writeEntry(tw, e, rootfs); err != nil {
			return layerFile{}, fmt.Errorf("layer %s: %s: %w", filepath.Base(gzPath), e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return layerFile{}, fmt.Errorf("layer: %w", err)
	}
	if err := gz.Close(); err != nil {
		return layerFile{}, fmt.Errorf("layer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return layerFile{}, fmt.Errorf("layer: %w", err)
	}
	if err := f.Close(); err != nil {
		return layerFile{}, fmt.Errorf("layer: %w", err)
	}
	return layerFile{Path: gzPath, Digest: digest.sum(), DiffID: diffID.sum(), Size: digest.n, Uncompressed: diffID.n, Files: len(entries)}, nil
}

// writeDirs writes the headers of dir and its missing parents, parents
// first, as image builders do.
func writeDirs(tw *tar.Writer, done map[string]bool, dir string) error {
	if dir == "." || dir == "/" || done[dir] {
		return nil
	}
	if err := writeDirs(tw, done, path.Dir(dir)); err != nil {
		return err
	}
	done[dir] = true
	return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
}

func writeEntry(tw *tar.Writer, e entry, rootfs string) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: int64(e.mode), Size: e.size(), ModTime: epoch, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	dst := filepath.Join(rootfs, filepath.FromSlash(e.name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, e.mode)
	if err != nil {
		return err
	}
	defer out.Close()
	w := io.MultiWriter(tw, out)
	if e.src == "" {
		_, err = w.Write(e.data)
	} else {
		err = copyFile(w, e.src, e.srcSize)
	}
	if err != nil {
		return err
	}
	if e.pad > 0 {
		if _, err := w.Write(padding(e.kind, e.pad, e.padSeed)); err != nil {
			return err
		}
	}
	return out.Close()
}

// copyFile copies exactly size bytes: a host file that changed since the
// plan was made fails the generation instead of writing a bad tar.
func copyFile(w io.Writer, src string, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	n, err := io.Copy(w, io.LimitReader(in, size))
	if err == nil && n != size {
		err = fmt.Errorf("%s changed size while copying (%d of %d bytes)", src, n, size)
	}
	return err
}

// padding is seeded pseudo-random bytes; for text, hex digits on a comment
// line, so a padded script or doc is still text.
func padding(k kind, n int, seed uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	if k == kindText {
		for i := range b {
			b[i] = "0123456789abcdef"[b[i]&15]
		}
		b[0], b[n-1] = '\n', '\n'
	}
	return b
}

// fileLayer is a v1.Layer over a gzip file whose digests are already known.
type fileLayer struct{ lf layerFile }

func (l fileLayer) Digest() (v1.Hash, error)            { return v1.NewHash(l.lf.Digest) }
func (l fileLayer) DiffID() (v1.Hash, error)            { return v1.NewHash(l.lf.DiffID) }
func (l fileLayer) Size() (int64, error)                { return l.lf.Size, nil }
func (l fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.lf.Path) }

func (l fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.lf.Path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", l.lf.Path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}
