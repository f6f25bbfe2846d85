package filescan

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
)

// Archives are streamed, never extracted: each member is handed to the
// same dispatch as a top-level file, one level deeper, under the path
// "archive!member". Every decompressed byte counts against the scan's
// MaxArchiveBytes budget, shared by all nesting levels, so a bomb costs at
// most that much work.

// errBudget is wrapped by reads past the decompressed-bytes budget.
var errBudget = fmt.Errorf("%w: decompressed bytes exceed MaxArchiveBytes", ErrLimit)

// budgetReader charges every byte read to the scan's budget.
type budgetReader struct {
	s *scan
	r io.Reader
}

func (b budgetReader) Read(p []byte) (int, error) {
	if b.s.budget <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > b.s.budget {
		p = p[:b.s.budget]
	}
	n, err := b.r.Read(p)
	b.s.budget -= int64(n)
	return n, err
}

// corruptReader marks a decompressor's errors as corrupt input.
type corruptReader struct {
	what string
	r    io.Reader
}

func (c corruptReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, ErrLimit) && !isCtxErr(err) {
		if strings.HasPrefix(err.Error(), c.what+":") {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		} else {
			err = fmt.Errorf("%w: %s: %w", ErrCorrupt, c.what, err)
		}
	}
	return n, err
}

// hashingReader hashes what passes, for release-archive hashes.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func newHashingReader(r io.Reader) *hashingReader { return &hashingReader{r: r, h: sha256.New()} }

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// finish reads the rest of the archive (to MaxFileBytes) so the hash covers
// the whole file, and reports a known miner release (DAVY-I002).
func (s *scan) finishHash(path string, hr *hashingReader) {
	rest := s.e.opts.MaxFileBytes - hr.n
	if rest < 0 {
		return
	}
	if _, err := io.Copy(io.Discard, io.LimitReader(hr, rest)); err != nil {
		return // the read error was or will be reported by the member walk
	}
	if more, _ := probe(hr.r); more {
		return // longer than MaxFileBytes: no whole-file hash
	}
	s.releaseHash(path, fmt.Sprintf("%x", hr.h.Sum(nil)))
}

// releaseHash reports an archive whose SHA-256 is a known miner release.
func (s *scan) releaseHash(path, sum string) {
	if en, ok := s.e.in.ReleaseHash(sum); ok {
		s.add(Finding{ID: "DAVY-I002", Path: path, Values: map[string]string{"sha256": sum},
			Message: "archive " + quote(path) + " is a known miner release (" + en.Note + ", " + en.Source + ")"})
	}
}

// member scans one archive member, checking the context and the depth.
func (s *scan) member(archive, name string, size int64, r io.Reader, depth int) {
	s.file(archive+"!"+cleanMember(name), size, r, depth+1, originFile)
}

// cleanMember keeps a member name readable and relative; nothing is
// extracted, so ".." is only text here.
func cleanMember(name string) string {
	name = strings.TrimLeft(path.Clean("/"+name), "/")
	if name == "" {
		return "."
	}
	return name
}

// tooDeep reports (once per archive) that an archive at depth cannot be
// opened.
func (s *scan) tooDeep(p string, depth int) bool {
	if depth+1 <= s.e.opts.MaxDepth {
		return false
	}
	s.fail(p, fmt.Errorf("%w: archive nested deeper than MaxDepth %d; not opened", ErrLimit, s.e.opts.MaxDepth))
	return true
}

// readErr records a member walk's read error once per cause: a budget
// overrun is reported once per scan.
func (s *scan) readErr(p string, err error) {
	if errors.Is(err, errBudget) {
		if s.overrun {
			return
		}
		s.overrun = true
	}
	s.fail(p, err)
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
