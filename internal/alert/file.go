package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
)

// Defaults for FileOptions.
const (
	DefaultFileMaxSize    = 100 << 20
	DefaultFileMaxBackups = 5
)

// FileOptions configures a File sink.
type FileOptions struct {
	Path string
	// MaxSize is the size in bytes past which the file is rotated before
	// the next line; a single longer line still goes to a fresh file.
	MaxSize int64
	// MaxBackups is how many rotated files are kept (Path.1 newest).
	// Negative keeps none: the file is simply started again.
	MaxBackups int
}

// File appends alerts as JSON lines to a file and rotates it by size:
// alerts.json, then alerts.json.1 (newest) to alerts.json.N (oldest).
// Files are 0600 because alerts hold command lines and container names.
type File struct {
	path       string
	maxSize    int64
	maxBackups int

	mu     sync.Mutex
	f      *os.File // nil after a failed rotation, until reopened
	size   int64
	closed bool
}

// OpenFile opens (or creates) the file for appending.
func OpenFile(opt FileOptions) (*File, error) {
	if opt.Path == "" {
		return nil, errors.New("alert file: no path")
	}
	fl := &File{path: opt.Path, maxSize: opt.MaxSize, maxBackups: opt.MaxBackups}
	if fl.maxSize <= 0 {
		fl.maxSize = DefaultFileMaxSize
	}
	if fl.maxBackups == 0 {
		fl.maxBackups = DefaultFileMaxBackups
	}
	if err := fl.open(); err != nil {
		return nil, err
	}
	return fl, nil
}

// Name is "file".
func (fl *File) Name() string { return "file" }

func (fl *File) open() error {
	f, err := os.OpenFile(fl.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening alert file: %w", err)
	}
	// The mode only applies when creating; an existing file made by
	// something else is tightened too.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("alert file %s: %w", fl.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("alert file %s: %w", fl.path, err)
	}
	fl.f, fl.size = f, st.Size()
	return nil
}

// Send appends the alerts, one write per line, rotating first whenever
// the next line would take the file past MaxSize. Alerts are rare after
// deduplication, so a write per line costs little and keeps the count of
// lines written exact when the disk fails.
func (fl *File) Send(ctx context.Context, alerts []Alert) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return Permanent(fmt.Errorf("alert file %s: closed", fl.path))
	}
	if fl.f == nil {
		// A rotation failed half way; try again from a fresh open.
		if err := fl.open(); err != nil {
			return err
		}
	}
	var line bytes.Buffer
	for i, a := range alerts {
		line.Reset()
		if err := appendLine(&line, a); err != nil {
			return partial(i, Permanent(err))
		}
		if fl.size > 0 && fl.size+int64(line.Len()) > fl.maxSize {
			if err := fl.rotate(); err != nil {
				return partial(i, err)
			}
		}
		if err := fl.write(line.Bytes()); err != nil {
			return partial(i, err)
		}
	}
	return nil
}

// write appends one line. A short write is cut off again, so that a retry
// does not leave half a line before the whole one.
func (fl *File) write(b []byte) error {
	n, err := fl.f.Write(b)
	if err == nil {
		fl.size += int64(n)
		return nil
	}
	if n > 0 {
		if terr := fl.f.Truncate(fl.size); terr != nil {
			fl.size += int64(n)
		}
	}
	return fmt.Errorf("writing alert file %s: %w", fl.path, err)
}

// rotate shifts Path.i to Path.i+1, dropping the oldest, moves Path to
// Path.1 and starts an empty Path.
func (fl *File) rotate() error {
	if err := fl.f.Close(); err != nil {
		fl.f = nil
		return fmt.Errorf("closing alert file %s: %w", fl.path, err)
	}
	fl.f = nil
	if fl.maxBackups < 0 {
		if err := os.Remove(fl.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotating alert file: %w", err)
		}
		return fl.open()
	}
	backup := func(i int) string { return fl.path + "." + strconv.Itoa(i) }
	if err := os.Remove(backup(fl.maxBackups)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotating alert file: %w", err)
	}
	for i := fl.maxBackups - 1; i >= 1; i-- {
		if err := os.Rename(backup(i), backup(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotating alert file: %w", err)
		}
	}
	if err := os.Rename(fl.path, backup(1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotating alert file: %w", err)
	}
	return fl.open()
}

// Close closes the file; Send fails afterwards.
func (fl *File) Close() error {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.closed = true
	if fl.f == nil {
		return nil
	}
	err := fl.f.Close()
	fl.f = nil
	if err != nil {
		return fmt.Errorf("closing alert file %s: %w", fl.path, err)
	}
	return nil
}
