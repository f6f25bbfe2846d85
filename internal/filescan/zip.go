package filescan

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/klauspost/compress/zip"
)

// zip scans a zip archive, with klauspost's zip (archive/zip's API, with
// its faster inflate: jars and source zips are large). It needs an io.ReaderAt: when r is one
// (an *os.File, a bytes.Reader) and size is known it is used in place;
// otherwise the zip is buffered in memory up to MaxZipBytes, and a larger
// zip is not opened (ErrLimit). Spooling to disk was left out on purpose:
// the scanners never write what they scan.
func (s *scan) zip(path string, size int64, head []byte, r io.Reader, depth int) {
	if s.tooDeep(path, depth) {
		return
	}
	var (
		ra   io.ReaderAt
		data []byte
	)
	if at, ok := r.(io.ReaderAt); ok && size > 0 {
		ra = at
		if size <= s.e.opts.MaxFileBytes {
			h := sha256.New()
			if _, err := io.Copy(h, io.NewSectionReader(at, 0, size)); err == nil {
				s.releaseHash(path, fmt.Sprintf("%x", h.Sum(nil)))
			}
		}
	} else {
		max := s.e.opts.MaxZipBytes
		body, err := io.ReadAll(io.LimitReader(ctxReader{s.ctx, r}, max-int64(len(head))+1))
		if err != nil {
			s.readErr(path, fmt.Errorf("read: %w", err))
			return
		}
		data = append(append(make([]byte, 0, len(head)+len(body)), head...), body...)
		if int64(len(data)) > max {
			s.fail(path, fmt.Errorf("%w: zip larger than %d bytes (MaxZipBytes); members not scanned", ErrLimit, max))
			return
		}
		ra, size = bytes.NewReader(data), int64(len(data))
		s.releaseHash(path, fmt.Sprintf("%x", sha256.Sum256(data)))
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		s.fail(path, fmt.Errorf("%w: %w", ErrCorrupt, err))
		return
	}
	members := 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !f.Mode().IsRegular() {
			continue
		}
		if members++; members > s.e.opts.MaxArchiveMembers {
			s.fail(path, fmt.Errorf("%w: more than %d members (MaxArchiveMembers)", ErrLimit, s.e.opts.MaxArchiveMembers))
			return
		}
		if err := s.ctx.Err(); err != nil {
			s.fail(path, err)
			return
		}
		rc, err := f.Open()
		if err != nil {
			s.fail(path+"!"+cleanMember(f.Name), fmt.Errorf("%w: %w", ErrCorrupt, err))
			continue
		}
		s.member(path, f.Name, int64(min(f.UncompressedSize64, 1<<62)), budgetReader{s, corruptReader{"zip", rc}}, depth)
		rc.Close()
	}
}
