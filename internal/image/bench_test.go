package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/davyproject/davy/internal/filescan"
)

// benchLayout writes a 4-layer OCI layout of ~96 MiB uncompressed: files
// of half-compressible bytes, like binaries and libraries.
func benchLayout(b *testing.B) (string, []v1.Hash) {
	b.Helper()
	rng := rand.New(rand.NewSource(1))
	var layers []v1.Layer
	for l := range 4 {
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		for f := range 300 {
			size := 1 + rng.Intn(160<<10)
			body := make([]byte, size)
			rng.Read(body[:size/2]) // half random, half zeros and text
			copy(body[size/2:], bytes.Repeat([]byte("text section .so GLIBC_2.34 "), size/56))
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/lib/l%d/f%04d.so", l, f), Typeflag: tar.TypeReg, Size: int64(size), Mode: 0o755})
			tw.Write(body)
		}
		tw.Close()
		layers = append(layers, rawLayer{b: gz(b, tb.Bytes()), diffID: sha(tb.Bytes())})
	}
	img := imageOf(b, "linux/amd64", layers...)
	dir := filepath.Join(b.TempDir(), "layout")
	writeLayout(b, dir, img, "")
	return dir, layerDigests(b, img)
}

// BenchmarkDecompressOnly is the floor: read and gunzip every layer.
func BenchmarkDecompressOnly(b *testing.B) {
	dir, digests := benchLayout(b)
	var total int64
	for b.Loop() {
		total = 0
		for _, h := range digests {
			f, _ := os.Open(filepath.Join(dir, "blobs", h.Algorithm, h.Hex))
			zr, _ := kgzip.NewReader(f)
			n, _ := io.Copy(io.Discard, zr)
			total += n
			f.Close()
		}
	}
	b.SetBytes(total)
}

// BenchmarkDecompressStdlib is the same floor with compress/gzip.
func BenchmarkDecompressStdlib(b *testing.B) {
	dir, digests := benchLayout(b)
	var total int64
	for b.Loop() {
		total = 0
		for _, h := range digests {
			f, _ := os.Open(filepath.Join(dir, "blobs", h.Algorithm, h.Hex))
			zr, _ := gzip.NewReader(f)
			n, _ := io.Copy(io.Discard, zr)
			total += n
			f.Close()
		}
	}
	b.SetBytes(total)
}

// BenchmarkWalk is the walker with a visitor that reads every byte:
// verification, tar, limits, bookkeeping on top of the floor.
func BenchmarkWalk(b *testing.B) {
	for _, par := range []int{1, 2} {
		b.Run(fmt.Sprintf("parallel=%d", par), func(b *testing.B) {
			dir, _ := benchLayout(b)
			tg := openOne(b, "", Options{Input: dir})
			visit := func(ctx context.Context, f File, r io.Reader) ([]filescan.Finding, error) {
				_, err := io.Copy(io.Discard, r)
				return nil, err
			}
			var bytes int64
			for b.Loop() {
				res, err := Walk(context.Background(), tg, WalkOptions{Parallel: par}, visit)
				if err != nil || !res.Complete {
					b.Fatal(err, errorsText(res))
				}
				bytes = res.Bytes
			}
			b.SetBytes(bytes)
		})
	}
}

// BenchmarkWalkCached is a second scan of the same image.
func BenchmarkWalkCached(b *testing.B) {
	dir, _ := benchLayout(b)
	tg := openOne(b, "", Options{Input: dir})
	o := WalkOptions{CacheDir: b.TempDir(), ScannerVersion: "bench"}
	visit := func(ctx context.Context, f File, r io.Reader) ([]filescan.Finding, error) { return nil, nil }
	res, err := Walk(context.Background(), tg, o, visit)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if res, err = Walk(context.Background(), tg, o, visit); err != nil || res.CachedLayers != 4 {
			b.Fatal(err, res.CachedLayers)
		}
	}
	b.SetBytes(res.Bytes)
}
