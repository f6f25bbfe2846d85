//go:build !unix

package image

import (
	"io/fs"
	"os"
)

type fileKey struct{}

func fileKeyOf(fs.FileInfo) (fileKey, uint64, bool) { return fileKey{}, 0, false }

func openRegular(p string) (*os.File, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, errNotRegular
	}
	return f, nil
}

func pseudoFS(string) bool { return false }
