package image

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// maxZstdWindow bounds a zstd decoder's memory; `zstd --long` uses at most
// 128 MiB, ordinary levels a few MiB.
const maxZstdWindow = 128 << 20

// compressionOf names the compression a stream starts with, "" for none.
func compressionOf(magic []byte) string {
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		return "gzip"
	case bytes.HasPrefix(magic, zstdMagic):
		return "zstd"
	}
	return ""
}

// decompressor sniffs r and returns the decompressed stream (r itself for
// an uncompressed tar) and a release function. Media types are not
// trusted: registries and tools mislabel layers, the bytes do not lie.
func decompressor(r *bufio.Reader) (io.Reader, func(), error) {
	magic, err := r.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	switch compressionOf(magic) {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	}
	return r, func() {}, nil
}

// decompressReadCloser wraps a possibly compressed stream for
// v1.Layer.Uncompressed callers.
func decompressReadCloser(rc io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReader(rc)
	r, release, err := decompressor(br)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return readCloser{r, func() error { release(); return rc.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
