package image

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/davyproject/davy/internal/filescan"
)

var (
	errDigestMismatch = errors.New("digest mismatch")
	errLayerTooLarge  = errors.New("layer too large")
	errTooManyEntries = errors.New("too many entries")
	errBlobTooLarge   = errors.New("blob larger than its descriptor")
)

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh." // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs)
	opaqueMarker   = ".wh..wh..opq"
)

// scanLayer streams one layer: stored bytes -> (hash) -> decompressor ->
// bound -> (hash) -> tar -> visitor. Memory is the decompressor's window,
// the tar reader's block and one hash per entry.
func scanLayer(ctx context.Context, s layerSpec, o WalkOptions, visit Visitor, progress func(int64)) *layerRecord {
	w := &tarWalker{
		rec:        newRecord(s, o),
		o:          o,
		visit:      visit,
		base:       File{Layer: s.id.String(), LayerIndex: s.index},
		findingsAt: map[string][]int{},
	}
	err := w.stream(ctx, s, progress)
	w.finish()
	if err != nil {
		w.rec.fail(err)
	}
	return w.rec
}

type tarWalker struct {
	rec        *layerRecord
	o          WalkOptions
	visit      Visitor
	base       File
	nondirs    []uint64
	dirs       []uint64
	links      []hardlink
	findingsAt map[string][]int // path -> indexes in rec.Findings
}

type hardlink struct{ path, target string }

func (w *tarWalker) stream(ctx context.Context, s layerSpec, progress func(int64)) error {
	rc, size, err := s.open()
	if err != nil {
		return fmt.Errorf("opening layer: %w", err)
	}
	if s.size <= 0 {
		s.size = size
	}
	// Closing the stream is what unblocks a read stuck on the network.
	var once sync.Once
	closeRC := func() { once.Do(func() { rc.Close() }) }
	defer closeRC()
	defer context.AfterFunc(ctx, closeRC)()

	raw := &rawReader{r: rc, max: s.size, progress: progress}
	defer func() { w.rec.read = raw.n }()
	var src io.Reader = raw
	var h hash.Hash
	if s.verify != verifyBySource {
		if h, err = v1.Hasher(s.id.Algorithm); err != nil {
			return fmt.Errorf("layer digest: %w", err)
		}
	}
	if s.verify == verifyCompressed {
		src = io.TeeReader(raw, h)
	}
	br := bufio.NewReaderSize(src, 64<<10)
	dec, release, err := decompressor(br)
	if err != nil {
		return fmt.Errorf("layer stream: %w", err)
	}
	defer release()
	lim := &boundedReader{r: dec, max: w.o.MaxLayerBytes}
	defer func() { w.rec.Bytes = lim.n }()
	var tr io.Reader = lim
	if s.verify == verifyUncompressed {
		tr = io.TeeReader(lim, h)
	}
	if err := w.walkTar(ctx, tar.NewReader(tr)); err != nil {
		return err
	}
	// The digest covers every byte, including any after the tar's end.
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return fmt.Errorf("at the end of the layer: %w", err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return fmt.Errorf("after the compressed stream: %w", err)
	}
	if s.size > 0 && raw.n != s.size {
		return fmt.Errorf("layer is %d bytes but its descriptor says %d", raw.n, s.size)
	}
	if h != nil {
		got := v1.Hash{Algorithm: s.id.Algorithm, Hex: hex.EncodeToString(h.Sum(nil))}
		if got != s.id {
			what := "content"
			if s.verify == verifyUncompressed {
				what = "uncompressed content (diff_id)"
			}
			return fmt.Errorf("%w: %s hashes to %s; layer refused", errDigestMismatch, what, got)
		}
	}
	return nil
}

func (w *tarWalker) walkTar(ctx context.Context, tr *tar.Reader) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar entry %d: %w", w.rec.Entries+1, err)
		}
		w.rec.Entries++
		if w.rec.Entries > w.o.MaxEntries {
			return fmt.Errorf("%w: more than %d entries (MaxEntries); rest of layer not scanned", errTooManyEntries, w.o.MaxEntries)
		}
		if err := w.entry(ctx, hdr, tr); err != nil {
			return err
		}
	}
}

// entry records one tar member. Its error is a broken layer stream; file
// problems go to rec.Errors.
func (w *tarWalker) entry(ctx context.Context, hdr *tar.Header, tr *tar.Reader) error {
	name, problem := cleanName(hdr.Name)
	if len(name) > w.o.MaxPathLen {
		w.rec.fileErr(name, fmt.Errorf("name is %d bytes, longer than %d (MaxPathLen); entry skipped", len(name), w.o.MaxPathLen))
		return nil
	}
	if problem != "" {
		w.rec.fileErr(name, errors.New(problem))
	}
	if name == "" {
		return nil // the root directory itself
	}
	if base := path.Base(name); strings.HasPrefix(base, whiteoutPrefix) {
		w.whiteout(parentDir(name), base)
		return nil
	}
	w.shadow(name)
	h := hashPath(name)
	switch hdr.Typeflag {
	case tar.TypeDir:
		w.dirs = append(w.dirs, h)
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		w.nondirs = append(w.nondirs, h)
		return w.visitFile(ctx, name, hdr, tr)
	case tar.TypeLink:
		w.nondirs = append(w.nondirs, h)
		target, problem := cleanName(hdr.Linkname)
		if problem != "" {
			w.rec.fileErr(name, fmt.Errorf("hard link target: %s", problem))
		}
		w.links = append(w.links, hardlink{path: name, target: target})
		w.visitLink(ctx, name, hdr, target)
	case tar.TypeSymlink:
		w.nondirs = append(w.nondirs, h)
		w.visitLink(ctx, name, hdr, hdr.Linkname) // recorded, never followed
	default:
		w.nondirs = append(w.nondirs, h) // devices, fifos: nothing to read
	}
	return nil
}

func (w *tarWalker) whiteout(dir, base string) {
	switch {
	case base == opaqueMarker:
		w.rec.Opaque = append(w.rec.Opaque, dir)
	case strings.HasPrefix(base, whiteoutMeta), base == whiteoutPrefix:
	default:
		w.rec.Whiteouts = append(w.rec.Whiteouts, path.Join(dir, base[len(whiteoutPrefix):]))
	}
}

// shadow marks findings at name as replaced by a later entry of the same
// layer (tar extraction keeps the last one).
func (w *tarWalker) shadow(name string) {
	idx, ok := w.findingsAt[name]
	if !ok {
		return
	}
	for _, i := range idx {
		w.rec.Findings[i].Shadowed = true
	}
	delete(w.findingsAt, name)
}

func (w *tarWalker) visitFile(ctx context.Context, name string, hdr *tar.Header, tr io.Reader) error {
	w.rec.Files++
	f := w.base
	f.Path, f.Size, f.Mode = name, hdr.Size, hdr.FileInfo().Mode()
	f.Truncated = hdr.Size > w.o.MaxFileBytes
	r := &trackedReader{r: io.LimitReader(tr, w.o.MaxFileBytes)}
	found, err := callVisitor(ctx, w.visit, f, r)
	w.addFindings(name, found)
	if r.err != nil {
		// The layer stream itself broke under the visitor.
		return fmt.Errorf("reading %s: %w", shortPath(name), r.err)
	}
	if err != nil {
		w.rec.fileErr(name, err)
	}
	if f.Truncated {
		w.rec.fileErr(name, fmt.Errorf("file is %d bytes; only the first %d were scanned (MaxFileBytes)", hdr.Size, w.o.MaxFileBytes))
	}
	return nil
}

func (w *tarWalker) visitLink(ctx context.Context, name string, hdr *tar.Header, target string) {
	f := w.base
	f.Path, f.Mode, f.Linkname = name, hdr.FileInfo().Mode(), target
	found, err := callVisitor(ctx, w.visit, f, strings.NewReader(""))
	w.addFindings(name, found)
	if err != nil {
		w.rec.fileErr(name, err)
	}
}

func (w *tarWalker) addFindings(path string, found []filescan.Finding) {
	for _, fd := range found {
		if fd.Path == "" {
			fd.Path = path
		}
		if len(fd.Values) == 0 {
			fd.Values = nil // so a cached result compares equal
		}
		if len(w.rec.Findings) >= maxFindingsPerLayer {
			w.rec.dropped++
			continue
		}
		w.findingsAt[path] = append(w.findingsAt[path], len(w.rec.Findings))
		w.rec.Findings = append(w.rec.Findings, recordFinding{File: path, Finding: fd})
	}
}

// finish seals the layer's path sets and ties hard links to their targets.
func (w *tarWalker) finish() {
	defer w.rec.seal()
	w.rec.NonDirs = newHashSet(w.nondirs)
	w.rec.Dirs = newHashSet(w.dirs)
	w.nondirs, w.dirs = nil, nil
	if len(w.links) == 0 {
		return
	}
	linkTarget := make(map[string]string, len(w.links))
	for _, l := range w.links {
		linkTarget[l.path] = l.target
	}
	for _, l := range w.links {
		t := l.target
		for hop := 0; hop < maxLinkHops; hop++ { // a link to a link
			next, ok := linkTarget[t]
			if !ok || next == l.path {
				break
			}
			t = next
		}
		if t == "" || !w.rec.NonDirs.has(hashPath(t)) {
			w.rec.fileErr(l.path, fmt.Errorf("hard link to %q, which is not a file in this layer", shortPath(l.target)))
			continue
		}
		for _, i := range w.findingsAt[t] {
			if w.rec.Findings[i].File == t {
				w.rec.Findings[i].Links = append(w.rec.Findings[i].Links, l.path)
			}
		}
	}
}

// callVisitor turns a visitor's panic on hostile bytes into an error for
// that file: one bad file must not end the scan.
func callVisitor(ctx context.Context, visit Visitor, f File, r io.Reader) (found []filescan.Finding, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("visitor panicked: %v", p)
		}
	}()
	return visit(ctx, f, r)
}
