package filescan

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// gzip scans a gzip file: a tar inside is walked, anything else is scanned
// as the one member (named by the gzip header, or the file name without
// .gz).
func (s *scan) gzip(p string, head []byte, r io.Reader, depth int) {
	hr := newHashingReader(ctxReader{s.ctx, withHead(head, r)})
	defer s.finishHash(p, hr)
	if s.tooDeep(p, depth) {
		return
	}
	// bufio gives the decompressor a ByteReader, so it reads no further
	// than it needs and the hash reader sees the rest afterwards.
	zr, err := gzip.NewReader(bufio.NewReaderSize(hr, 32<<10))
	if err != nil {
		s.readErr(p, fmt.Errorf("%w: %w", ErrCorrupt, err))
		return
	}
	defer zr.Close()
	inner := budgetReader{s, corruptReader{"gzip", zr}}

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
	name := zr.Name
	if name == "" {
		name = strings.TrimSuffix(strings.TrimSuffix(path.Base(memberName(p)), ".gz"), ".tgz")
	}
	s.member(p, name, -1, rest, depth)
}
