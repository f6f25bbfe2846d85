package filescan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/davyproject/davy/internal/content"
	"github.com/davyproject/davy/internal/intel"
	"github.com/davyproject/davy/internal/minertext"
)

// headSize is how much of a file is read before dispatch: enough for the
// ELF and program headers, the tar magic at offset 257 and a text sniff.
const headSize = 64 << 10

// Engine scans files for miners: executables, scripts, miner configs,
// crontabs, archives and base64 blobs. It is immutable after New and safe
// for concurrent use; every scan keeps its own state.
type Engine struct {
	in     *intel.Intel
	opts   Options
	sc     *content.Scanner // content indicators, for executables and binary files
	kw     *content.Matcher // script keywords, for text
	kwBits []uint32         // class of each keyword pattern
	heads  sync.Pool        // *[]byte of headSize
	bufs   sync.Pool        // *[]byte of textBufSize
	// configs holds *[]byte of minertext.MaxConfigBytes capacity: a
	// possible config is kept whole for the config parser.
	configs sync.Pool
	cache   *exeCache
}

// New compiles the engine for the intel's indicators.
func New(in *intel.Intel, opts Options) (*Engine, error) {
	if in == nil {
		return nil, errors.New("filescan: no intel")
	}
	opts = opts.withDefaults()
	sc, err := content.NewScanner(in.ContentIndicators(), content.Options{MaxBytes: opts.MaxFileBytes})
	if err != nil {
		return nil, fmt.Errorf("filescan: content indicators: %w", err)
	}
	kw, bits, err := keywordMatcher()
	if err != nil {
		return nil, fmt.Errorf("filescan: keywords: %w", err)
	}
	e := &Engine{in: in, opts: opts, sc: sc, kw: kw, kwBits: bits, cache: newExeCache(opts.CacheEntries)}
	e.heads.New = func() any { b := make([]byte, headSize); return &b }
	e.bufs.New = func() any { b := make([]byte, textBufSize); return &b }
	e.configs.New = func() any { b := make([]byte, 0, minertext.MaxConfigBytes); return &b }
	return e, nil
}

// Options returns the engine's options with defaults filled in.
func (e *Engine) Options() Options { return e.opts }

// Content returns the content scanner the engine matches executables with,
// for callers that want its indicators.
func (e *Engine) Content() *content.Scanner { return e.sc }

// ScanFile scans one file whose content r yields; size is its length, or -1
// when unknown. path names the file in findings and errors. r is read once,
// from its current position, and not necessarily to the end.
//
// The findings are returned even when err is not nil: err joins one
// *FileError per file that could not be fully scanned (the file itself, or
// members of it), wrapping ErrCorrupt, ErrLimit, a read error or the
// context's error.
func (e *Engine) ScanFile(ctx context.Context, path string, size int64, r io.Reader) ([]Finding, error) {
	s := &scan{e: e, ctx: ctx, budget: e.opts.MaxArchiveBytes}
	s.file(path, size, r, 0, originFile)
	return s.findings, errors.Join(s.errs...)
}

// origin says how a file was reached; decoded blobs are read as scripts.
type origin int

const (
	originFile    origin = iota // a file of the scanned set or an archive member
	originDecoded               // bytes decoded from a base64 blob
)

// scan is the state of one ScanFile call and everything nested in it.
type scan struct {
	e        *Engine
	ctx      context.Context
	budget   int64 // decompressed bytes archives may still yield
	overrun  bool  // the budget error was reported
	findings []Finding
	errs     []error
}

func (s *scan) fail(path string, err error) {
	s.errs = append(s.errs, &FileError{Path: path, Err: err})
}

func (s *scan) add(f ...Finding) { s.findings = append(s.findings, f...) }

// file dispatches on the first bytes: ELF, gzip, zip, tar, text, or other.
func (s *scan) file(path string, size int64, r io.Reader, depth int, from origin) {
	if err := s.ctx.Err(); err != nil {
		s.fail(path, err)
		return
	}
	hp := s.e.heads.Get().(*[]byte)
	defer s.e.heads.Put(hp)
	head, err := readHead(r, *hp)
	if err != nil {
		// Reported once; what was read is still scanned.
		s.fail(path, fmt.Errorf("read: %w", err))
		r = eof{}
	}
	if len(head) == 0 {
		return
	}
	switch t := sniff(head); t {
	case typeELF:
		s.elf(path, head, r)
	case typeGzip, typeZstd, typeBzip2, typeXZ:
		s.compressed(path, t, head, r, depth)
	case typeZip:
		s.zip(path, size, head, r, depth)
	case typeTar:
		s.tarFile(path, head, r, depth)
	case typeText:
		s.text(path, head, r, textKindOf(path, head, from), depth)
	default:
		s.binary(path, head, r)
	}
}

// readHead fills buf from r as far as r goes. A short head with a nil error
// means the file is shorter than buf.
func readHead(r io.Reader, buf []byte) ([]byte, error) {
	n, idle := 0, 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if errors.Is(err, io.EOF) {
			return buf[:n], nil
		}
		if err != nil {
			return buf[:n], err
		}
		if k == 0 {
			if idle++; idle > maxIdleReads {
				return buf[:n], io.ErrNoProgress
			}
		} else {
			idle = 0
		}
	}
	return buf[:n], nil
}

// maxIdleReads bounds (0, nil) answers in a row from a reader.
const maxIdleReads = 100

// withHead yields head then the rest of r.
func withHead(head []byte, r io.Reader) io.Reader {
	return io.MultiReader(bytes.NewReader(head), r)
}

// eof is an exhausted reader.
type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

// ctxReader fails reads once the scan's context is done, so a long stream
// stops promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
