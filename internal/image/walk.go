package image

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"runtime"
	"slices"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/davyproject/davy/internal/filescan"
)

// File is one member of a layer, or of a root filesystem, handed to a
// Visitor.
type File struct {
	// Path is clean, relative and slash-separated, with no leading slash.
	Path string `json:"path"`
	// Layer is the layer's digest; "" for a root filesystem.
	Layer      string `json:"layer,omitempty"`
	LayerIndex int    `json:"layerIndex"` // 0 is the base layer
	Size       int64  `json:"size"`
	// Mode holds the permission bits and the type: fs.ModeSymlink for a
	// symbolic link; a hard link has a regular mode and a Linkname.
	Mode fs.FileMode `json:"mode"`
	// Linkname is the target of a symbolic or hard link. Links are visited
	// with an empty reader: a symlink is never followed, and a hard link's
	// content is the target's, visited once under the target's path.
	Linkname string `json:"linkname,omitempty"`
	// Truncated: the file is larger than WalkOptions.MaxFileBytes and the
	// reader ends after that many bytes (also reported in Result.Errors).
	Truncated bool `json:"truncated,omitempty"`
}

// Visitor looks at one file. r yields the file's content (at most
// MaxFileBytes of it); the visitor need not read it all. Visitors are
// called concurrently for different layers and must be safe for that. An
// error is recorded for the file and the walk goes on; findings returned
// with it are kept. A finding with an empty Path gets the file's path.
type Visitor func(ctx context.Context, f File, r io.Reader) ([]filescan.Finding, error)

// LayerFinding is a finding with where it was found.
type LayerFinding struct {
	Finding    filescan.Finding `json:"finding"`
	Layer      string           `json:"layer,omitempty"`
	LayerIndex int              `json:"layerIndex"`
	// Deleted: the file is not in the final filesystem, because a later
	// layer deleted it (whiteout, opaque directory, a file replacing a
	// parent directory) or overwrote it. It still ships in the image.
	Deleted bool `json:"deleted,omitempty"`
	// Links are hard links to the file in the same layer; the finding is
	// visible while any of them, or the file itself, is.
	Links []string `json:"links,omitempty"`
	// Unverified: the layer failed (digest mismatch, corrupt or cut short
	// at a limit), so these bytes may not be the image's. Such findings
	// are kept and flagged rather than dropped, so a tampered or broken
	// layer cannot hide what it carries; Result.Errors says why.
	Unverified bool `json:"unverified,omitempty"`
}

// LayerError is a layer or a file that could not be read in full. Path is
// empty when the whole layer failed.
type LayerError struct {
	Layer      string `json:"layer,omitempty"`
	LayerIndex int    `json:"layerIndex"`
	Path       string `json:"path,omitempty"`
	Err        string `json:"err"`
}

func (e LayerError) Error() string {
	s := e.Err
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	if e.Layer != "" { // "" for a root filesystem
		s = fmt.Sprintf("layer %d %s: %s", e.LayerIndex, e.Layer, s)
	}
	return s
}

// Result of walking one Target.
type Result struct {
	Findings []LayerFinding `json:"findings,omitempty"`
	// Complete is true when every layer was read to its end and verified
	// and every file was seen whole, with nothing unusual: then Errors is
	// empty. Cleaned unsafe names, over-limit files, links to missing
	// files, unreadable layers all make the scan incomplete.
	Complete bool         `json:"complete"`
	Errors   []LayerError `json:"errors,omitempty"`
	Layers   int          `json:"layers"`
	Files    int          `json:"files"` // regular files visited
	Bytes    int64        `json:"bytes"` // uncompressed layer bytes (file bytes for a directory)
	// CachedLayers counts layers answered from the cache. It is the only
	// field that differs between a first and a cached walk.
	CachedLayers int `json:"cachedLayers"`
}

// Defaults for WalkOptions limits.
const (
	DefaultMaxLayerBytes int64 = 8 << 30   // uncompressed bytes per layer
	DefaultMaxFileBytes  int64 = 512 << 20 // bytes of one file given to the visitor
	DefaultMaxEntries          = 2_000_000 // tar entries per layer (files under a directory)
	DefaultMaxPathLen          = 4096      // bytes of a member's path
	DefaultCacheMaxBytes int64 = 1 << 30   // the layer cache, least recently used layers removed past it
)

// WalkOptions for Walk. Zero values take the defaults.
type WalkOptions struct {
	// Parallel is how many layers are read at once; default
	// GOMAXPROCS clamped to 2..4.
	Parallel int
	// CacheDir holds per-layer results (CacheDir/layers/...); "" disables
	// the cache. Needs ScannerVersion.
	CacheDir string
	// CacheMaxBytes bounds the layer cache: after a walk, the least
	// recently used results are removed until it fits. Default
	// DefaultCacheMaxBytes; negative never prunes.
	CacheMaxBytes int64
	// ScannerVersion identifies the visitor's rules: results cached under
	// another version are not used. Change it whenever the visitor could
	// answer differently.
	ScannerVersion string
	// MaxLayerBytes bounds a layer's uncompressed size (gzip bombs); the
	// layer is cut there with an error. Default DefaultMaxLayerBytes.
	MaxLayerBytes int64
	// MaxFileBytes bounds what the visitor gets of one file; larger files
	// are flagged Truncated. Default DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxEntries bounds the entries of one layer; the layer is cut there
	// with an error. Default DefaultMaxEntries.
	MaxEntries int
	// MaxPathLen bounds a member's path; longer ones are skipped with an
	// error. Default DefaultMaxPathLen.
	MaxPathLen int
	// Progress, if set, receives layer events.
	Progress func(Event)
}

func (o WalkOptions) withDefaults() (WalkOptions, error) {
	if o.Parallel <= 0 {
		o.Parallel = min(max(runtime.GOMAXPROCS(0), 2), 4)
	}
	if o.MaxLayerBytes <= 0 {
		o.MaxLayerBytes = DefaultMaxLayerBytes
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxPathLen <= 0 {
		o.MaxPathLen = DefaultMaxPathLen
	}
	if o.CacheMaxBytes == 0 {
		o.CacheMaxBytes = DefaultCacheMaxBytes
	}
	if o.CacheDir != "" && o.ScannerVersion == "" {
		return o, errors.New("walk: CacheDir needs a ScannerVersion, or stale results would be reused")
	}
	return o, nil
}

// Walk reads every layer of t once (or every file under t.Dir), calls
// visit for each regular file and link, and reports findings with their
// layer and whether the final filesystem still shows them.
//
// A broken layer or file is an entry in Result.Errors and the rest is
// still walked. The error return is for the image as a whole: an
// unreadable or corrupt manifest or config, bad options, or ctx ending
// (then the partial Result comes with ctx.Err()).
func Walk(ctx context.Context, t Target, opts WalkOptions, visit Visitor) (Result, error) {
	if visit == nil {
		return Result{}, errors.New("walk: nil visitor")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if t.Dir != "" {
		return walkDir(ctx, t, o, visit)
	}
	if t.Image == nil {
		return Result{}, fmt.Errorf("image %s: no image", t.Ref)
	}
	specs, err := layerSpecsOf(t.Image)
	if err != nil {
		return Result{}, fmt.Errorf("image %s: %w", t.Ref, err)
	}
	ev := newEmitter(o.Progress)
	cache := newLayerCache(o)
	recs := make([]*layerRecord, len(specs))
	first := map[v1.Hash]int{} // a layer repeated in one image is read once
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
launch:
	for _, i := range largestFirst(specs) {
		s := specs[i]
		if _, ok := first[s.id]; ok {
			continue
		}
		first[s.id] = i
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break launch
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			recs[i] = layerResult(ctx, t.Ref, s, len(specs), o, cache, visit, ev)
		}()
	}
	wg.Wait()
	if err := cache.prune(o.CacheMaxBytes); err != nil {
		// A cache that cannot be pruned costs disk, not this result.
		slog.Warn("pruning the layer cache", "err", err)
	}
	for i, s := range specs {
		if j, ok := first[s.id]; ok && j != i {
			recs[i] = recs[j]
		}
	}
	res := assemble(recs)
	res.Layers = len(specs)
	if err := ctx.Err(); err != nil {
		res.Complete = false
		return res, err
	}
	return res, nil
}

// verifyMode says how a layer's bytes are checked against its identity.
type verifyMode int

const (
	verifyCompressed   verifyMode = iota // id is the digest of the stored (compressed) bytes
	verifyUncompressed                   // id is the diff_id: digest of the uncompressed tar
	verifyBySource                       // the source's reader verifies (remote)
)

// layerSpec is how Walk reads one layer.
type layerSpec struct {
	index  int
	id     v1.Hash // reported as Layer; the cache key
	verify verifyMode
	size   int64 // stored size if known, else 0
	open   func() (io.ReadCloser, int64, error)
	skip   string // why the layer cannot be read, if it cannot
}

// layerSpecsOf lists an image's layers from its manifest: digests come
// from there, never from hashing the layers first.
func layerSpecsOf(img v1.Image) ([]layerSpec, error) {
	if d, ok := img.(*dockerImage); ok {
		return d.layerSpecs(), nil
	}
	_, bySource := img.(interface{ sourceVerifiesLayers() })
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m == nil {
		return nil, errors.New("manifest: empty")
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	if cfg == nil {
		return nil, fmt.Errorf("config %s: empty", m.Config.Digest)
	}
	if len(m.Layers) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("manifest lists %d layers but config %s has %d diff_ids", len(m.Layers), m.Config.Digest, len(cfg.RootFS.DiffIDs))
	}
	specs := make([]layerSpec, len(m.Layers))
	for i, d := range m.Layers {
		s := layerSpec{index: i, id: d.Digest, size: d.Size, verify: verifyCompressed}
		if bySource {
			s.verify = verifyBySource
		}
		if len(d.URLs) > 0 || !d.MediaType.IsDistributable() {
			// Foreign (Windows base) layers live outside the registry.
			s.skip = fmt.Sprintf("foreign layer (%s) not scanned", d.MediaType)
		}
		s.open = func() (io.ReadCloser, int64, error) {
			l, err := img.LayerByDigest(d.Digest)
			if err != nil {
				return nil, 0, err
			}
			rc, err := l.Compressed()
			return rc, d.Size, err
		}
		specs[i] = s
	}
	return specs, nil
}

// layerResult answers one layer from the cache, or reads it and caches it.
func layerResult(ctx context.Context, ref string, s layerSpec, n int, o WalkOptions, cache *layerCache, visit Visitor, ev *emitter) *layerRecord {
	base := Event{Ref: ref, Layer: s.id.String(), LayerIndex: s.index, Layers: n, Total: s.size}
	if s.skip != "" {
		rec := newRecord(s, o)
		rec.fail(errors.New(s.skip))
		return rec
	}
	if rec, ok := cache.load(s.id); ok {
		e := base
		e.Kind = EventLayerCached
		ev.emit(e)
		return rec
	}
	e := base
	e.Kind = EventLayerStart
	ev.emit(e)
	rec := scanLayer(ctx, s, o, visit, func(read int64) {
		e := base
		e.Kind, e.Bytes = EventLayerProgress, read
		ev.emit(e)
	})
	e = base
	e.Kind, e.Bytes, e.Err = EventLayerDone, rec.read, rec.err
	ev.emit(e)
	if rec.err == nil && ctx.Err() == nil {
		if err := cache.store(rec); err != nil {
			e := base
			e.Kind, e.Err = EventCacheError, err
			ev.emit(e)
		}
	}
	return rec
}

// largestFirst orders layer indexes by descending size, so that the large
// layers start first and the small ones fill in at the end: with a layer
// per worker, the scan ends when its longest layer does, and starting
// that layer last would leave the other workers idle meanwhile. Equal
// sizes keep their order.
func largestFirst(specs []layerSpec) []int {
	order := make([]int, len(specs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(specs[b].size, specs[a].size) })
	return order
}
