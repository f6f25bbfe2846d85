// Package intel holds Davy's indicator data: pool domains, miner names, pool
// ports, known release hashes, miner log patterns and content indicators.
// The data lives in tab-separated files under data/, embedded in the binary,
// each entry with the source it comes from; a user directory of files with
// the same names adds to it (see Load and data/*.tsv for the formats).
//
// Byte-content indicators are stored hex-encoded and decoded at load, so the
// davy binary never contains the bytes it looks for in executables and
// cannot match itself.
package intel

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/davyproject/davy/internal/content"
)

//go:embed data/*.tsv
var dataFS embed.FS

// Data file names, the same in data/ and in a user intel directory.
const (
	FilePoolDomains       = "pool-domains.tsv"
	FileMinerNames        = "miner-names.tsv"
	FilePoolPorts         = "pool-ports.tsv"
	FileReleaseHashes     = "release-hashes.tsv"
	FileLogPatterns       = "log-patterns.tsv"
	FileContentIndicators = "content-indicators.tsv"
)

// Entry is one fact and where it comes from.
type Entry struct {
	Value  string // the normalised value (domain, name, port, hash)
	Source string
	Note   string
}

// Intel is the loaded indicator data. It is read-only after Load and safe for
// concurrent use.
type Intel struct {
	domains map[string]Entry
	names   map[string]Entry
	comm15  map[string]Entry // 15-byte prefixes of longer names (kernel comm truncation)
	ports   map[uint16]Entry
	hashes  map[string]Entry
	logs    []LogPattern
	content []content.Indicator
}

// Counts says how many entries of each kind are loaded.
type Counts struct {
	PoolDomains, MinerNames, PoolPorts, ReleaseHashes, LogPatterns, ContentIndicators int
}

type fileSpec struct {
	name     string
	min, max int // field counts
	add      func(in *Intel, f []string) error
}

var specs = []fileSpec{
	{FilePoolDomains, 2, 3, (*Intel).addDomain},
	{FileMinerNames, 2, 3, (*Intel).addName},
	{FilePoolPorts, 2, 3, (*Intel).addPort},
	{FileReleaseHashes, 2, 3, (*Intel).addHash},
	{FileLogPatterns, 3, 4, (*Intel).addLogPattern},
	{FileContentIndicators, 5, 6, (*Intel).addContent},
}

// Load reads the embedded data and, when userDir is not empty, the files of
// the same names found there (each optional), whose entries are added on top:
// a user entry with the same key (domain, name, port, hash, or pattern and
// indicator name) replaces the embedded one. A malformed file fails the load
// with an error naming the file and line.
func Load(userDir string) (*Intel, error) {
	in := newIntel()
	if userDir != "" {
		fi, err := os.Stat(userDir)
		if err != nil {
			return nil, fmt.Errorf("intel: user dir: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("intel: user dir %s is not a directory", userDir)
		}
	}
	for _, sp := range specs {
		f, err := dataFS.Open(path.Join("data", sp.name))
		if err != nil {
			return nil, fmt.Errorf("intel: embedded %s: %w", sp.name, err)
		}
		err = in.parse(sp, "embedded "+sp.name, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		if userDir != "" {
			if err := in.loadUserFile(sp, filepath.Join(userDir, sp.name)); err != nil {
				return nil, err
			}
		}
	}
	if err := in.checkContentLimits(); err != nil {
		return nil, err
	}
	return in, nil
}

func newIntel() *Intel {
	return &Intel{
		domains: map[string]Entry{},
		names:   map[string]Entry{},
		comm15:  map[string]Entry{},
		ports:   map[uint16]Entry{},
		hashes:  map[string]Entry{},
	}
}

func (in *Intel) parse(sp fileSpec, name string, r io.Reader) error {
	err := parseFile(name, r, sp.min, sp.max, func(f []string) error { return sp.add(in, f) })
	if err != nil {
		return fmt.Errorf("intel: %w", err)
	}
	return nil
}

func (in *Intel) loadUserFile(sp fileSpec, p string) error {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("intel: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("intel: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("intel: %s is not a regular file", p)
	}
	if fi.Size() > MaxFileSize {
		return fmt.Errorf("intel: %s: %d bytes, larger than the limit of %d", p, fi.Size(), MaxFileSize)
	}
	return in.parse(sp, p, f)
}

// checkContentLimits fails the load early, rather than at scanner build, when
// user files push the indicator set past the matcher's limits.
func (in *Intel) checkContentLimits() error {
	if len(in.content) > content.MaxPatterns {
		return fmt.Errorf("intel: %d content indicators, more than the limit of %d", len(in.content), content.MaxPatterns)
	}
	total := 0
	for _, c := range in.content {
		total += len(c.Pattern)
	}
	if total > content.MaxPatternBytes {
		return fmt.Errorf("intel: content indicators total %d bytes, more than the limit of %d", total, content.MaxPatternBytes)
	}
	return nil
}

// Counts returns how many entries of each kind are loaded.
func (in *Intel) Counts() Counts {
	return Counts{
		PoolDomains: len(in.domains), MinerNames: len(in.names), PoolPorts: len(in.ports),
		ReleaseHashes: len(in.hashes), LogPatterns: len(in.logs), ContentIndicators: len(in.content),
	}
}

// ContentIndicators returns a copy of the content indicators, in file order,
// ready for content.NewScanner.
func (in *Intel) ContentIndicators() []content.Indicator {
	out := slices.Clone(in.content)
	for i := range out {
		out[i].Pattern = slices.Clone(out[i].Pattern)
	}
	return out
}

// LogPatterns returns the miner log patterns in file order. The compiled
// expressions are shared and safe for concurrent use.
func (in *Intel) LogPatterns() []LogPattern { return slices.Clone(in.logs) }
