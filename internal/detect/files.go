package detect

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// errNotRegular refuses FIFOs, devices and sockets: reading one could block
// or never end.
var errNotRegular = errors.New("not a regular file")

// openRegular opens a file without blocking on FIFOs and checks, on the
// opened descriptor, that it is a regular file.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
	return f, st, nil
}

// readHead reads at most limit bytes from the start of a regular file.
func readHead(path string, limit int64) ([]byte, error) {
	f, _, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// readTail reads at most limit bytes from the end of a regular file,
// starting at a line boundary.
func readTail(path string, limit int64) ([]byte, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	off := st.Size() - limit
	if off < 0 {
		off = 0
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, limit))
	if err != nil {
		return nil, err
	}
	if off > 0 {
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return b, nil
}

// procPath resolves a path as the process sees it, through its root and cwd
// links, so files inside containers are read without entering them.
func procPath(procfs string, pid int, p string) string {
	base := filepath.Join(procfs, strconv.Itoa(pid))
	if filepath.IsAbs(p) {
		return filepath.Join(base, "root", p)
	}
	return filepath.Join(base, "cwd", p)
}
