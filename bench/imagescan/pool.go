package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// kind is what a source file holds; the generator mixes kinds by budget.
type kind int

const (
	kindELF kind = iota
	kindText
	kindOther
)

func (k kind) String() string { return [...]string{"ELF", "text", "other"}[k] }

// srcFile is one real file of this machine that the image copies.
type srcFile struct {
	path string
	size int64
	mode fs.FileMode
	kind kind
}

// sourceRoots are the trees the image copies from: binaries and libraries
// (ELF), and docs, scripts, configs (text), as a distro image would hold.
var sourceRoots = []string{
	"/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec",
	"/usr/local/go/pkg/tool", "/usr/share", "/etc",
}

// Pool bounds: the per-copy pool takes ordinary files; the few large files
// are picked from the band above it.
const (
	poolMaxSize  = 16 << 20
	largeMinSize = 16 << 20
	largeMaxSize = 64 << 20
)

// collect walks the roots and classifies every regular, world-readable file
// (not world-readable files such as /etc/shadow or private keys are never
// copied into the image). The result is sorted by path so a seeded shuffle
// of it is the same on every run on the same machine.
func collect(roots []string, skip string) (pool, large []srcFile, err error) {
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				// Unreadable directories are simply not copied.
				if d != nil && d.IsDir() && p != root {
					return fs.SkipDir
				}
				return nil
			}
			if skip != "" && (p == skip || strings.HasPrefix(p, skip+"/")) {
				return fs.SkipDir
			}
			if !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil || fi.Size() == 0 || fi.Mode().Perm()&0o004 == 0 {
				return nil
			}
			k, err := classify(p)
			if err != nil {
				return nil
			}
			f := srcFile{path: p, size: fi.Size(), mode: fi.Mode().Perm(), kind: k}
			switch {
			case fi.Size() <= poolMaxSize:
				pool = append(pool, f)
			case fi.Size() >= largeMinSize && fi.Size() <= largeMaxSize:
				large = append(large, f)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("walking %s: %w", root, err)
		}
	}
	byPath := func(a, b srcFile) int { return strings.Compare(a.path, b.path) }
	slices.SortFunc(pool, byPath)
	// Several roots can reach the same file through a symlinked directory.
	pool = slices.CompactFunc(pool, func(a, b srcFile) bool { return a.path == b.path })
	slices.SortFunc(large, byPath)
	if len(pool) == 0 {
		return nil, nil, fmt.Errorf("no source files under %v", roots)
	}
	return pool, large, nil
}

// classify reads the head of a file: ELF by magic, text when the head is
// valid UTF-8 without NUL bytes, anything else is other (compressed man
// pages, fonts, bytecode).
func classify(p string) (kind, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF {
		return 0, err
	}
	return classifyBytes(head[:n]), nil
}

func classifyBytes(head []byte) kind {
	if bytes.HasPrefix(head, []byte("\x7fELF")) {
		return kindELF
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return kindOther
	}
	// A multi-byte rune cut at the end of the head is still text.
	for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	if utf8.Valid(head) {
		return kindText
	}
	return kindOther
}
