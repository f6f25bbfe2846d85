package filescan

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
)

// tarFile scans an uncompressed tar: its hash and its members.
func (s *scan) tarFile(path string, head []byte, r io.Reader, depth int) {
	if s.tooDeep(path, depth) {
		return
	}
	hr := newHashingReader(ctxReader{s.ctx, withHead(head, r)})
	s.tar(path, budgetReader{s, hr}, depth)
	s.finishHash(path, hr)
}

// tar walks the members of a tar stream.
func (s *scan) tar(path string, r io.Reader, depth int) {
	tr := tar.NewReader(r)
	members := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if errors.Is(err, ErrLimit) || isCtxErr(err) || errors.Is(err, ErrCorrupt) {
				s.readErr(path, err)
			} else {
				s.fail(path, fmt.Errorf("%w: %w", ErrCorrupt, err))
			}
			return
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			continue // directories, links and devices have no content
		}
		if members++; members > s.e.opts.MaxArchiveMembers {
			s.fail(path, fmt.Errorf("%w: more than %d members (MaxArchiveMembers)", ErrLimit, s.e.opts.MaxArchiveMembers))
			return
		}
		s.member(path, hdr.Name, hdr.Size, tr, depth)
		if err := s.ctx.Err(); err != nil {
			return // reported by the member
		}
	}
}
