package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/empty"
)

// openRootfs makes a Target of an unpacked root filesystem. Walk reads the
// tree itself rather than a synthetic layer: no tar to build, no digest
// to compute, and the files are already the final filesystem.
func openRootfs(dir string) ([]Target, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", dir, err)
	}
	return []Target{{Ref: "rootfs:" + abs, Dir: real, Image: empty.Image}}, nil
}

// walkDir visits every regular file and link under t.Dir, never following
// symlinks and never leaving the tree. Everything is visible: a directory
// has no deleted layers. Files with several hard links are read once.
func walkDir(ctx context.Context, t Target, o WalkOptions, visit Visitor) (Result, error) {
	fi, err := os.Stat(t.Dir)
	if err != nil {
		return Result{}, fmt.Errorf("rootfs %s: %w", t.Dir, err)
	}
	if !fi.IsDir() {
		return Result{}, fmt.Errorf("rootfs %s: not a directory", t.Dir)
	}
	w := &dirWalker{
		tw:    tarWalker{rec: &layerRecord{}, o: o, visit: visit, findingsAt: map[string][]int{}},
		root:  t.Dir,
		inode: map[fileKey]string{},
	}
	err = filepath.WalkDir(t.Dir, func(p string, d fs.DirEntry, err error) error {
		return w.walk(ctx, p, d, err)
	})
	w.tw.links = w.links
	w.tw.finish()
	res := assemble([]*layerRecord{w.tw.rec})
	res.Layers = 0
	if err != nil {
		res.Complete = false
		return res, fmt.Errorf("rootfs %s: %w", t.Dir, err)
	}
	return res, nil
}

type dirWalker struct {
	tw      tarWalker
	root    string
	inode   map[fileKey]string // files with several links -> first path seen
	links   []hardlink
	entries int
}

func (w *dirWalker) walk(ctx context.Context, p string, d fs.DirEntry, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	rel, rerr := filepath.Rel(w.root, p)
	if rerr != nil {
		return rerr
	}
	rel = filepath.ToSlash(rel)
	if rel == "." {
		return err // the root itself: its error ends the walk
	}
	rec := w.tw.rec
	if err != nil {
		rec.fileErr(rel, err)
		if d != nil && d.IsDir() {
			return fs.SkipDir
		}
		return nil
	}
	w.entries++
	if w.entries > w.tw.o.MaxEntries {
		rec.fileErr("", fmt.Errorf("%w: more than %d entries (MaxEntries); rest of the tree not scanned", errTooManyEntries, w.tw.o.MaxEntries))
		return fs.SkipAll
	}
	if len(rel) > w.tw.o.MaxPathLen {
		rec.fileErr(rel, fmt.Errorf("path is %d bytes, longer than %d (MaxPathLen); skipped", len(rel), w.tw.o.MaxPathLen))
		if d.IsDir() {
			return fs.SkipDir
		}
		return nil
	}
	switch {
	case d.IsDir():
		if pseudoFS(p) {
			// /proc, /sys and friends of a live host hold no files to scan
			// and some never end: `davy scan fs /` must not descend.
			return fs.SkipDir
		}
		return nil
	case d.Type()&fs.ModeSymlink != 0:
		info, err := d.Info()
		if err != nil {
			rec.fileErr(rel, err)
			return nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			rec.fileErr(rel, err)
			return nil
		}
		w.visitLink(ctx, rel, info, target)
		return nil
	case !d.Type().IsRegular():
		return nil // devices, fifos, sockets: nothing to read
	}
	info, err := d.Info()
	if err != nil {
		rec.fileErr(rel, err)
		return nil
	}
	if key, nlink, ok := fileKeyOf(info); ok && nlink > 1 {
		if first, seen := w.inode[key]; seen {
			w.links = append(w.links, hardlink{path: rel, target: first})
			w.tw.nondirs = append(w.tw.nondirs, hashPath(first)) // the target exists
			w.visitLink(ctx, rel, info, first)
			return nil
		}
		w.inode[key] = rel
	}
	w.visitFile(ctx, p, rel, info)
	return nil
}

func (w *dirWalker) visitLink(ctx context.Context, rel string, info fs.FileInfo, target string) {
	f := File{Path: rel, Size: info.Size(), Mode: info.Mode(), Linkname: target}
	found, err := callVisitor(ctx, w.tw.visit, f, strings.NewReader(""))
	w.tw.addFindings(rel, found)
	if err != nil {
		w.tw.rec.fileErr(rel, err)
	}
}

func (w *dirWalker) visitFile(ctx context.Context, p, rel string, info fs.FileInfo) {
	rec := w.tw.rec
	fh, err := openRegular(p)
	if err != nil {
		if !errors.Is(err, errNotRegular) {
			rec.fileErr(rel, err)
		}
		return
	}
	defer fh.Close()
	rec.Files++
	rec.Bytes += info.Size()
	f := File{Path: rel, Size: info.Size(), Mode: info.Mode(), Truncated: info.Size() > w.tw.o.MaxFileBytes}
	var r interface {
		io.Reader
		failed() error
	}
	if f.Truncated {
		r = &trackedReader{r: io.LimitReader(fh, w.tw.o.MaxFileBytes)}
	} else {
		sr := io.NewSectionReader(fh, 0, info.Size())
		r = &trackedReaderAt{trackedReader: trackedReader{r: sr}, at: sr}
	}
	found, err := callVisitor(ctx, w.tw.visit, f, r)
	w.tw.addFindings(rel, found)
	if rerr := r.failed(); rerr != nil {
		rec.fileErr(rel, fmt.Errorf("reading: %w", rerr))
	} else if err != nil {
		rec.fileErr(rel, err)
	}
	if f.Truncated {
		rec.fileErr(rel, fmt.Errorf("file is %d bytes; only the first %d were scanned (MaxFileBytes)", info.Size(), w.tw.o.MaxFileBytes))
	}
}

var errNotRegular = errors.New("not a regular file")
