package filescan

import "github.com/davyproject/davy/internal/content"

// Defaults for Options. Each bounds work or memory on hostile input; the
// values are generous for real images (a static miner is 3-10 MiB, a dropper
// script a few KiB, or ~14 MiB with a base64-embedded miner).
const (
	DefaultMaxFileBytes      = content.DefaultMaxBytes // 256 MiB read per file
	DefaultMaxDepth          = 3                       // archives and base64 blobs inside each other
	DefaultMaxArchiveMembers = 200_000                 // regular files per archive (the JDK's ct.sym has tens of thousands)
	DefaultMaxArchiveBytes   = 1 << 30                 // decompressed bytes per top-level file, all levels
	DefaultMaxZipBytes       = 64 << 20                // zips are buffered in memory (archive/zip needs io.ReaderAt)
	DefaultMaxBase64Bytes    = 16 << 20                // decoded bytes per base64 blob
	DefaultMaxBase64Blobs    = 1024                    // blobs decoded per file (a CA bundle has ~150)
	DefaultMinBase64Len      = 64                      // base64 characters before a run counts as a blob
	DefaultMaxScriptBytes    = 16 << 20                // text read per script, config or crontab
	DefaultEntropyThreshold  = 7.2                     // bits per byte; compressed or encrypted code
	DefaultMinEntropyBytes   = 16 << 10                // smaller regions give too few samples
)

// Options bound an Engine's work. The zero value gives the defaults above;
// a negative value is treated like zero.
type Options struct {
	// MaxFileBytes is how much of one file (or archive member) is read for
	// executable and binary content. Longer files are reported truncated.
	MaxFileBytes int64
	// MaxDepth is how deeply archives and decoded base64 blobs nest: a
	// member of an archive is at depth 1, a member of an archive inside it
	// at depth 2. Containers found past it are not opened (ErrLimit).
	MaxDepth int
	// MaxArchiveMembers is how many regular members of one archive are scanned.
	MaxArchiveMembers int
	// MaxArchiveBytes bounds the decompressed bytes read from the archives
	// of one top-level file, across all nesting levels (gzip bombs).
	MaxArchiveBytes int64
	// MaxZipBytes is the largest zip that is buffered in memory to be
	// opened when the reader is not an io.ReaderAt.
	MaxZipBytes int64
	// MaxBase64Bytes bounds one decoded base64 blob; MaxBase64Blobs the
	// number decoded per file; MinBase64Len is the shortest run (in base64
	// characters, line breaks not counted) that is decoded.
	MaxBase64Bytes int64
	MaxBase64Blobs int
	MinBase64Len   int
	// MaxScriptBytes is how much of a text file (script, config, crontab)
	// is read and checked.
	MaxScriptBytes int64
	// EntropyThreshold is the Shannon entropy (bits per byte) of the file
	// or of its largest executable segment at and above which an executable
	// counts as packed or encrypted. MinEntropyBytes is the smallest
	// file or segment it is computed for.
	EntropyThreshold float64
	MinEntropyBytes  int64
	// CacheEntries bounds ScanExecutableCached's in-memory cache.
	CacheEntries int
}

func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxArchiveMembers <= 0 {
		o.MaxArchiveMembers = DefaultMaxArchiveMembers
	}
	if o.MaxArchiveBytes <= 0 {
		o.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if o.MaxZipBytes <= 0 {
		o.MaxZipBytes = DefaultMaxZipBytes
	}
	if o.MaxBase64Bytes <= 0 {
		o.MaxBase64Bytes = DefaultMaxBase64Bytes
	}
	if o.MaxBase64Blobs <= 0 {
		o.MaxBase64Blobs = DefaultMaxBase64Blobs
	}
	if o.MinBase64Len <= 0 {
		o.MinBase64Len = DefaultMinBase64Len
	}
	if o.MinBase64Len < 8 {
		o.MinBase64Len = 8 // shorter runs are ordinary words
	}
	if o.MaxScriptBytes <= 0 {
		o.MaxScriptBytes = DefaultMaxScriptBytes
	}
	if o.EntropyThreshold <= 0 {
		o.EntropyThreshold = DefaultEntropyThreshold
	}
	if o.MinEntropyBytes <= 0 {
		o.MinEntropyBytes = DefaultMinEntropyBytes
	}
	if o.CacheEntries <= 0 {
		o.CacheEntries = DefaultCacheEntries
	}
	return o
}
