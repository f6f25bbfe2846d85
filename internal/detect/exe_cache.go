package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/davyproject/davy/internal/content"
	"github.com/davyproject/davy/internal/host"
)

// exeCache keeps executable scan results across runs, keyed by the file's
// identity (device, inode, size, mtime) and the indicator set that produced
// them, so a second scan reads no executable it has seen unchanged.
type exeCache struct {
	path    string
	version string
	log     *slog.Logger
	mu      sync.Mutex
	entries map[string]content.Result
	dirty   bool
}

// maxExeCacheEntries bounds the cache file; older entries are dropped whole.
const maxExeCacheEntries = 50000

type exeCacheFile struct {
	Version string                    `json:"version"`
	Entries map[string]content.Result `json:"entries"`
}

func openExeCache(dir string, sc *content.Scanner, log *slog.Logger) *exeCache {
	c := &exeCache{version: indicatorDigest(sc), log: log, entries: map[string]content.Result{}}
	if dir == "" {
		return c
	}
	c.path = filepath.Join(dir, "exe-content.json")
	b, err := os.ReadFile(c.path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("ignoring unreadable cache", "path", c.path, "err", err)
		}
		return c
	}
	var f exeCacheFile
	if err := json.Unmarshal(b, &f); err != nil {
		log.Warn("ignoring corrupt cache", "path", c.path, "err", err)
		return c
	}
	if f.Version == c.version && len(f.Entries) <= maxExeCacheEntries {
		c.entries = f.Entries
	}
	return c
}

// indicatorDigest changes whenever the indicators (built-in or the user's) do.
func indicatorDigest(sc *content.Scanner) string {
	h := sha256.New()
	for _, in := range sc.Indicators() {
		fmt.Fprintf(h, "%s\x00%s\x00%t\x00%x\n", in.Name, in.Category, in.Weak, in.Pattern)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func exeKey(id host.FileID) string {
	return fmt.Sprintf("%d:%d:%d:%d", id.Dev, id.Inode, id.Size, id.Mtime)
}

// scan returns the content result for an executable, from cache when the
// file is unchanged.
func (c *exeCache) scan(sc *content.Scanner, id host.FileID, open func() (io.ReadCloser, error)) (content.Result, error) {
	if id.Inode == 0 {
		// Without an identity there is nothing safe to cache by.
		rc, err := open()
		if err != nil {
			return content.Result{}, err
		}
		defer rc.Close()
		return sc.Scan(rc)
	}
	key := exeKey(id)
	c.mu.Lock()
	r, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	r, _, err := sc.ScanCached(content.CacheKey{Dev: id.Dev, Inode: id.Inode, Size: id.Size, Mtime: id.Mtime}, open)
	if err != nil {
		return r, err
	}
	c.mu.Lock()
	if len(c.entries) >= maxExeCacheEntries {
		c.entries = map[string]content.Result{}
	}
	c.entries[key] = r
	c.dirty = true
	c.mu.Unlock()
	return r, nil
}

func (c *exeCache) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.path == "" || !c.dirty {
		return nil
	}
	b, err := json.Marshal(exeCacheFile{Version: c.version, Entries: c.entries})
	if err != nil {
		return fmt.Errorf("encoding cache: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("creating cache dir: %w", err)
	}
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	c.dirty = false
	return nil
}
