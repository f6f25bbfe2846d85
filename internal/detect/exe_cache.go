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

	"github.com/davyproject/davy/internal/filescan"
	"github.com/davyproject/davy/internal/host"
)

// exeCache keeps executable scan results across runs, keyed by the file's
// identity (device, inode, size, mtime) and the indicator set and engine
// version that produced them, so a second scan reads no executable it has
// seen unchanged.
type exeCache struct {
	path    string
	version string
	log     *slog.Logger
	mu      sync.Mutex
	entries map[string]filescan.ExeResult
	dirty   bool
}

// maxExeCacheEntries bounds the cache file; older entries are dropped whole.
const maxExeCacheEntries = 50000

type exeCacheFile struct {
	Version string                        `json:"version"`
	Entries map[string]filescan.ExeResult `json:"entries"`
}

func openExeCache(dir string, fe *filescan.Engine, log *slog.Logger) *exeCache {
	c := &exeCache{version: indicatorDigest(fe), log: log, entries: map[string]filescan.ExeResult{}}
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

// indicatorDigest changes whenever the indicators (built-in or the user's),
// the engine's result format or its entropy options do.
func indicatorDigest(fe *filescan.Engine) string {
	h := sha256.New()
	o := fe.Options()
	fmt.Fprintf(h, "%s\x00%g\x00%d\x00%d\n", filescan.ResultVersion, o.EntropyThreshold, o.MinEntropyBytes, o.MaxFileBytes)
	for _, in := range fe.Content().Indicators() {
		fmt.Fprintf(h, "%s\x00%s\x00%t\x00%x\n", in.Name, in.Category, in.Weak, in.Pattern)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func exeKey(id host.FileID) string {
	return fmt.Sprintf("%d:%d:%d:%d", id.Dev, id.Inode, id.Size, id.Mtime)
}

// scan returns the content result for an executable, from cache when the
// file is unchanged.
func (c *exeCache) scan(fe *filescan.Engine, id host.FileID, open func() (io.ReadCloser, error)) (filescan.ExeResult, error) {
	if id.Inode == 0 {
		// Without an identity there is nothing safe to cache by.
		rc, err := open()
		if err != nil {
			return filescan.ExeResult{}, err
		}
		defer rc.Close()
		return fe.ScanExecutable(rc)
	}
	key := exeKey(id)
	c.mu.Lock()
	r, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	r, _, err := fe.ScanExecutableCached(filescan.CacheKey{Dev: id.Dev, Inode: id.Inode, Size: id.Size, Mtime: id.Mtime}, open)
	if err != nil {
		return r, err
	}
	c.mu.Lock()
	if len(c.entries) >= maxExeCacheEntries {
		c.entries = map[string]filescan.ExeResult{}
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
