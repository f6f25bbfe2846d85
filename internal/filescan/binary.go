package filescan

import (
	"fmt"
	"io"

	"github.com/davyproject/davy/internal/content"
)

// binary scans a file that is neither ELF, archive nor text (a PE, a
// memory dump, data) with the content indicators. Only a full miner match
// (DAVY-I001) or a release hash is reported: partial matches in arbitrary
// data are noise. Data files longer than MaxFileBytes are read up to it
// without an error, since they are not executables.
func (s *scan) binary(path string, head []byte, r io.Reader) {
	res, err := s.e.sc.Scan(ctxReader{s.ctx, withHead(head, r)})
	if err != nil {
		s.fail(path, fmt.Errorf("read: %w", err))
	}
	vals := map[string]string{"sha256": res.SHA256, "indicators": res.Summary()}
	if !res.Truncated {
		if en, ok := s.e.in.ReleaseHash(res.SHA256); ok {
			s.add(Finding{ID: "DAVY-I002", Path: path, Values: vals,
				Message: "file " + quote(path) + " is a known miner release (" + en.Note + ", " + en.Source + ")"})
		}
	}
	if res.Classify() == content.Miner {
		s.add(Finding{ID: "DAVY-I001", Path: path, Values: vals,
			Message: "file " + quote(path) + " matches miner content: " + brief(res)})
	}
}
