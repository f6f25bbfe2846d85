package filescan

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Memory bounds of the decompressors of nested files: a zstd window (what
// `zstd --long` uses at most) and an xz dictionary (xz -9 uses 64 MiB).
const (
	maxZstdWindow = 128 << 20
	maxXZDict     = 64 << 20
)

// compressedExts are the suffixes a member's name loses when its
// compressed file has no name of its own inside.
var compressedExts = []string{".gz", ".tgz", ".zst", ".tzst", ".bz2", ".tbz2", ".xz", ".txz"}

// compressed scans a gzip, zstd, bzip2 or xz file (as sniff named it): a
// tar inside is walked, anything else is scanned as the one member (named
// by the gzip header, or the file name without its compression suffix).
func (s *scan) compressed(p string, kind fileType, head []byte, r io.Reader, depth int) {
	hr := newHashingReader(ctxReader{s.ctx, withHead(head, r)})
	defer s.finishHash(p, hr)
	if s.tooDeep(p, depth) {
		return
	}
	// bufio gives the decompressor a ByteReader, so it reads no further
	// than it needs and the hash reader sees the rest afterwards.
	br := bufio.NewReaderSize(hr, 32<<10)
	var (
		dec  io.Reader
		what string
		name string
		err  error
	)
	switch kind {
	case typeGzip:
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(br); err == nil {
			defer zr.Close()
			dec, name = zr, zr.Name
		}
		what = "gzip"
	case typeZstd:
		var zr *zstd.Decoder
		if zr, err = zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderLowmem(true)); err == nil {
			defer zr.Close()
			dec = zr
		}
		what = "zstd"
	case typeBzip2:
		dec, what = bzip2.NewReader(br), "bzip2"
	case typeXZ:
		cfg := xz.ReaderConfig{DictCap: maxXZDict}
		dec, err = cfg.NewReader(br)
		what = "xz"
	}
	if err != nil {
		s.readErr(p, fmt.Errorf("%w: %s: %w", ErrCorrupt, what, err))
		return
	}
	inner := budgetReader{s, corruptReader{what, dec}}

	hp := s.e.heads.Get().(*[]byte)
	defer s.e.heads.Put(hp)
	ihead, err := readHead(inner, (*hp)[:1024])
	if err != nil {
		s.readErr(p, err)
		if len(ihead) == 0 {
			return
		}
	}
	rest := io.MultiReader(bytes.NewReader(ihead), inner)
	if len(ihead) >= 262 && bytes.Equal(ihead[257:262], magicTar) {
		s.tar(p, rest, depth)
		return
	}
	if name == "" {
		name = path.Base(memberName(p))
		for _, ext := range compressedExts {
			name = strings.TrimSuffix(name, ext)
		}
	}
	s.member(p, name, -1, rest, depth)
}
