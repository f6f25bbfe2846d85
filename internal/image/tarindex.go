package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Limits on outer archives (docker save, OCI archives), which hold a few
// files per image: far below these.
const (
	maxArchiveEntries = 1_000_000
	maxLinkHops       = 8
	maxManifestBytes  = 8 << 20  // manifest.json, index.json, image manifests
	maxConfigBytes    = 32 << 20 // image configs (long histories can be large)
)

// tarIndex maps the members of an archive file to their byte ranges, so a
// member can be read later as a section of the file: one pass over the
// headers (tar skips member data by seeking), no extraction.
type tarIndex struct {
	path    string
	entries map[string]tarEntry
}

type tarEntry struct {
	offset, size int64
	typ          byte
	link         string
}

func indexTar(file string) (*tarIndex, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ti := &tarIndex{path: file, entries: map[string]tarEntry{}}
	tr := tar.NewReader(f)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return nil, errors.New("empty tar archive")
			}
			return ti, nil
		}
		if err != nil {
			if n == 0 {
				return nil, fmt.Errorf("%w (%v)", errInputKind, err)
			}
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		if n >= maxArchiveEntries {
			return nil, fmt.Errorf("archive has more than %d members", maxArchiveEntries)
		}
		// tar.Reader reads exactly the header blocks, so the file offset
		// now is where this member's data starts.
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		name, _ := cleanName(hdr.Name)
		typ := hdr.Typeflag
		if isSparse(hdr) {
			typ = tar.TypeGNUSparse // its data is not one contiguous range
		}
		ti.entries[name] = tarEntry{offset: off, size: hdr.Size, typ: typ, link: hdr.Linkname}
	}
}

func (ti *tarIndex) has(name string) bool {
	_, err := ti.resolve(name)
	return err == nil
}

// resolve follows symbolic and hard links inside the archive (docker save
// links duplicate layer.tar files to one copy).
func (ti *tarIndex) resolve(name string) (tarEntry, error) {
	name, _ = cleanName(name)
	for hop := 0; hop <= maxLinkHops; hop++ {
		e, ok := ti.entries[name]
		if !ok {
			return tarEntry{}, fmt.Errorf("%s: not in archive %s", name, ti.path)
		}
		switch e.typ {
		case tar.TypeReg:
			return e, nil
		case tar.TypeSymlink:
			name, _ = cleanName(path.Join(path.Dir(name), e.link))
		case tar.TypeLink:
			name, _ = cleanName(e.link)
		default:
			return tarEntry{}, fmt.Errorf("%s in archive %s: not a regular file (type %q)", name, ti.path, e.typ)
		}
	}
	return tarEntry{}, fmt.Errorf("%s in archive %s: more than %d links", name, ti.path, maxLinkHops)
}

// open returns a member's content, read from its own file handle so that
// several layers can stream at once.
func (ti *tarIndex) open(name string) (io.ReadCloser, int64, error) {
	e, err := ti.resolve(name)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(ti.path)
	if err != nil {
		return nil, 0, err
	}
	return sectionCloser{io.NewSectionReader(f, e.offset, e.size), f}, e.size, nil
}

type sectionCloser struct {
	*io.SectionReader
	f *os.File
}

func (s sectionCloser) Close() error { return s.f.Close() }

// readAll reads a small member whole, refusing one larger than max.
func (ti *tarIndex) readAll(name string, max int64) ([]byte, error) {
	rc, size, err := ti.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > max {
		return nil, fmt.Errorf("%s in archive %s: %d bytes, more than the %d allowed", name, ti.path, size, max)
	}
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("%s in archive %s: %w", name, ti.path, err)
	}
	return b, nil
}

func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
