package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// cacheSchema changes whenever layerRecord or the walker's semantics do.
const cacheSchema = 1

// maxCacheFile bounds a cache file read back (a 2M-entry layer is ~25 MB).
const maxCacheFile = 256 << 20

// layerCache keeps one JSON file per layer and settings:
//
//	CacheDir/layers/<algorithm>-<hex>-<settings>.json
//
// where <settings> is 16 hex digits of a hash of the scanner version, the
// limits and the schema: any of them changing gives another file, so a
// stale result is never read. Files are written whole under a temporary
// name and renamed, so concurrent scans (and crashes) never see half a
// file. A file's modification time is its last use; prune removes the
// least recently used past a size.
type layerCache struct {
	dir      string
	settings string
}

func newLayerCache(o WalkOptions) *layerCache {
	if o.CacheDir == "" {
		return nil
	}
	return &layerCache{dir: filepath.Join(o.CacheDir, "layers"), settings: settingsKey(o)}
}

// settingsKey hashes everything besides the layer that a result depends on.
func settingsKey(o WalkOptions) string {
	h := sha256.New()
	fmt.Fprintf(h, "davy-image-layer/%d\x00%s\x00%d\x00%d\x00%d\x00%d", cacheSchema, o.ScannerVersion,
		o.MaxLayerBytes, o.MaxFileBytes, o.MaxEntries, o.MaxPathLen)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (c *layerCache) path(layer v1.Hash) string {
	// Hash components are validated hex and a known algorithm name.
	return filepath.Join(c.dir, layer.Algorithm+"-"+layer.Hex+"-"+c.settings+".json")
}

// load returns the cached record of a layer; any problem is a miss.
func (c *layerCache) load(layer v1.Hash) (*layerRecord, bool) {
	if c == nil {
		return nil, false
	}
	f, err := os.Open(c.path(layer))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil || len(b) > maxCacheFile {
		return nil, false
	}
	var rec layerRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, false
	}
	if rec.Schema != cacheSchema || rec.Layer != layer.String() || rec.Settings != c.settings {
		return nil, false
	}
	rec.cached = true
	now := time.Now()
	_ = os.Chtimes(c.path(layer), now, now) // used now: the last to prune
	return &rec, true
}

// prune removes the least recently used results until the cache holds at
// most max bytes (max < 0: never). Temporary files of scans in progress
// are left alone.
func (c *layerCache) prune(max int64) error {
	if c == nil || max < 0 {
		return nil
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("cache: %w", err)
	}
	type file struct {
		name string
		size int64
		used time.Time
	}
	var files []file
	var total int64
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".tmp-") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{e.Name(), fi.Size(), fi.ModTime()})
		total += fi.Size()
	}
	slices.SortFunc(files, func(a, b file) int { return a.used.Compare(b.used) })
	for _, f := range files {
		if total <= max {
			break
		}
		if err := os.Remove(filepath.Join(c.dir, f.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cache: %w", err)
		}
		total -= f.size
	}
	return nil
}

func (c *layerCache) store(rec *layerRecord) error {
	if c == nil {
		return nil
	}
	layer, err := v1.NewHash(rec.Layer)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := json.NewEncoder(tmp).Encode(rec); err != nil {
		tmp.Close()
		return fmt.Errorf("cache %s: %w", rec.Layer, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cache %s: %w", rec.Layer, err)
	}
	if err := os.Rename(tmp.Name(), c.path(layer)); err != nil {
		return fmt.Errorf("cache %s: %w", rec.Layer, err)
	}
	return nil
}
