package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// DefaultMaxBytes bounds how much of one file a scan reads. Real miners are
// a few MiB; the bound keeps a huge executable from costing minutes.
const DefaultMaxBytes = 256 << 20

// HeadSize is how much of the file start is checked for packer magic.
const HeadSize = 1024

const bufSize = 256 << 10

// elfMagic is the ELF header's first four bytes.
var elfMagic = []byte{0x7f, 'E', 'L', 'F'}

// upxMagic is UPX's marker. It is decoded at start-up rather than written as
// a literal so that Davy's own binary does not carry it.
var upxMagic = mustHex("55505821")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Options tune a Scanner. The zero value is usable.
type Options struct {
	// MaxBytes is how much of a file to read (default DefaultMaxBytes).
	MaxBytes int64
}

// Scanner looks for a fixed set of indicators. It is safe for concurrent use.
type Scanner struct {
	ind  []Indicator
	m    *Matcher
	opts Options
	bufs sync.Pool
}

// NewScanner validates the indicators and compiles them.
func NewScanner(ind []Indicator, opts Options) (*Scanner, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	seen := make(map[string]bool, len(ind))
	pats := make([][]byte, len(ind))
	own := make([]Indicator, len(ind))
	for i, in := range ind {
		if err := in.Validate(); err != nil {
			return nil, fmt.Errorf("content: %w", err)
		}
		if seen[in.Name] {
			return nil, fmt.Errorf("content: indicator name %q used twice", in.Name)
		}
		seen[in.Name] = true
		in.Pattern = bytes.Clone(in.Pattern) // callers may reuse their slices
		own[i] = in
		pats[i] = in.Pattern
	}
	m, err := NewMatcher(pats)
	if err != nil {
		return nil, fmt.Errorf("content: compile indicators: %w", err)
	}
	s := &Scanner{ind: own, m: m, opts: opts}
	s.bufs.New = func() any { b := make([]byte, bufSize); return &b }
	return s, nil
}

// Indicators returns the scanner's indicators (do not modify them).
func (s *Scanner) Indicators() []Indicator { return s.ind }

// Hit is one indicator found in a file.
type Hit struct {
	Name     string
	Category string
	Weak     bool
	Source   string
	Offset   int64 // where its first occurrence starts
}

// Result is what one scan found. Treat it as read-only: cached results are
// shared between callers.
type Result struct {
	// Hits lists each matched indicator once, ordered by category (in the
	// order of Categories) and then by name.
	Hits      []Hit
	BytesRead int64
	// Truncated is set when the file is longer than Options.MaxBytes; then
	// Hits and SHA256 cover only the prefix that was read.
	Truncated bool
	SHA256    string // lowercase hex of the bytes read
	ELF       bool   // the file starts with the ELF magic
	UPX       bool   // the UPX marker occurs in the first HeadSize bytes
}

// Scan reads r up to the size limit in one pass. On a read error it returns
// the partial result together with the error.
func (s *Scanner) Scan(r io.Reader) (Result, error) {
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp

	first := make([]int64, len(s.ind))
	for i := range first {
		first[i] = -1
	}
	lens := s.m.lens
	onMatch := func(p int, end int64) {
		if first[p] < 0 {
			first[p] = end - int64(lens[p])
		}
	}

	var (
		res   Result
		st    = s.m.NewStream()
		h     = sha256.New()
		head  [HeadSize]byte
		headN int
		n     int64
		rerr  error
		idle  int
	)
	limit := s.opts.MaxBytes
	for {
		want := int64(len(buf))
		if rem := limit - n; rem < want {
			want = rem
		}
		if want == 0 {
			// At the limit: one more byte tells whether the file goes on.
			more, err := probe(r)
			res.Truncated = more
			if err != nil {
				rerr = fmt.Errorf("content: read after %d bytes: %w", n, err)
			}
			break
		}
		k, err := r.Read(buf[:want])
		if k > 0 {
			chunk := buf[:k]
			h.Write(chunk)
			if headN < HeadSize {
				headN += copy(head[headN:], chunk)
			}
			st.Write(chunk, onMatch)
			n += int64(k)
			idle = 0
		} else if err == nil {
			if idle++; idle > maxIdleReads {
				rerr = fmt.Errorf("content: read after %d bytes: %w", n, io.ErrNoProgress)
				break
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rerr = fmt.Errorf("content: read after %d bytes: %w", n, err)
			break
		}
	}

	res.BytesRead = n
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	res.ELF = bytes.HasPrefix(head[:headN], elfMagic)
	res.UPX = bytes.Contains(head[:headN], upxMagic)
	for i, off := range first {
		if off < 0 {
			continue
		}
		in := s.ind[i]
		res.Hits = append(res.Hits, Hit{Name: in.Name, Category: in.Category, Weak: in.Weak, Source: in.Source, Offset: off})
	}
	slices.SortFunc(res.Hits, func(a, b Hit) int {
		if d := categoryRank(a.Category) - categoryRank(b.Category); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	return res, rerr
}

// maxIdleReads bounds how often a reader may answer (0, nil) in a row: the
// io.Reader contract allows it, but a reader that only says that would spin
// forever.
const maxIdleReads = 100

// probe reads one byte to learn whether r has more data.
func probe(r io.Reader) (bool, error) {
	var b [1]byte
	for range maxIdleReads {
		k, err := r.Read(b[:])
		if k > 0 {
			return true, nil
		}
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, io.ErrNoProgress
}
