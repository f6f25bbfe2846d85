package image

import (
	"fmt"

	"github.com/davyproject/davy/internal/filescan"
)

// layerRecord is everything Walk keeps of one layer: enough to rebuild the
// Result and to work out visibility without reading the layer again. It is
// also the cache file's content.
type layerRecord struct {
	Schema   int    `json:"schema"`
	Layer    string `json:"layer"`
	Version  string `json:"version"`  // the caller's ScannerVersion, for humans
	Settings string `json:"settings"` // hash of version and limits; part of the file name
	Entries  int    `json:"entries"`
	Files    int    `json:"files"`
	Bytes    int64  `json:"bytes"`
	// Whiteouts are the paths this layer deletes from lower layers;
	// Opaque the directories whose lower content it hides ("" = root).
	Whiteouts []string `json:"whiteouts,omitempty"`
	Opaque    []string `json:"opaque,omitempty"`
	// NonDirs and Dirs hash every path the layer puts in place: a
	// non-directory replaces a lower file or a whole lower directory tree,
	// a directory replaces a lower file at the same path.
	NonDirs  hashSet         `json:"nondirs"`
	Dirs     hashSet         `json:"dirs"`
	Findings []recordFinding `json:"findings,omitempty"`
	// Errors are per-file problems, which depend only on the content and
	// the limits, so they are cached with it.
	Errors []recordError `json:"errors,omitempty"`

	// Not cached: a layer with err set is never written.
	err     error // why the layer failed, nil if read and verified in full
	read    int64 // stored bytes read
	cached  bool  // answered from the cache
	omitted int   // file problems beyond maxErrorsPerLayer
	dropped int   // findings beyond maxFindingsPerLayer
}

type recordFinding struct {
	File  string   `json:"file"`
	Links []string `json:"links,omitempty"`
	// Shadowed: a later entry of the same layer replaced File.
	Shadowed bool             `json:"shadowed,omitempty"`
	Finding  filescan.Finding `json:"finding"`
}

type recordError struct {
	Path string `json:"path,omitempty"`
	Err  string `json:"err"`
}

func newRecord(s layerSpec, o WalkOptions) *layerRecord {
	return &layerRecord{Schema: cacheSchema, Layer: s.id.String(), Version: o.ScannerVersion, Settings: settingsKey(o)}
}

// fail marks the layer as not read in full; the reason is its error.
func (r *layerRecord) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.Errors = append(r.Errors, recordError{Err: err.Error()})
}

// Hostile layers can produce a problem or a finding per entry; past these
// bounds they are counted, not kept, so memory and reports stay bounded.
const (
	maxErrorsPerLayer   = 1000
	maxFindingsPerLayer = 10000
)

func (r *layerRecord) fileErr(path string, err error) {
	if len(r.Errors) >= maxErrorsPerLayer {
		r.omitted++
		return
	}
	r.Errors = append(r.Errors, recordError{Path: shortPath(path), Err: err.Error()})
}

// seal adds the counts of what the bounds left out.
func (r *layerRecord) seal() {
	if r.dropped > 0 {
		r.Errors = append(r.Errors, recordError{Err: fmt.Sprintf("%d more findings in this layer not listed (limit %d)", r.dropped, maxFindingsPerLayer)})
	}
	if r.omitted > 0 {
		r.Errors = append(r.Errors, recordError{Err: fmt.Sprintf("%d more problems in this layer not listed (limit %d)", r.omitted, maxErrorsPerLayer)})
	}
}

// shortPath keeps error messages readable when a hostile name is huge.
func shortPath(p string) string {
	const max = 512
	if len(p) <= max {
		return p
	}
	return p[:max] + "..."
}
