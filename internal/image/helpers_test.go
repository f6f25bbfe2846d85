package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/davyproject/davy/internal/filescan"
)

// mark is what the test visitor looks for.
const mark = "MINER-MARK"

// ent is one tar member for test layers.
type ent struct {
	name string
	typ  byte
	body string
	link string
}

func reg(name, body string) ent { return ent{name: name, typ: tar.TypeReg, body: body} }
func dir(name string) ent       { return ent{name: name, typ: tar.TypeDir} }
func sym(name, to string) ent   { return ent{name: name, typ: tar.TypeSymlink, link: to} }
func hard(name, to string) ent  { return ent{name: name, typ: tar.TypeLink, link: to} }

func tarOf(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o755, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
			hdr.Mode = 0o644
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// rawLayer is a layer whose stored bytes are given as is (possibly broken
// on purpose); its digest is their real sha256, its diff_id is given.
type rawLayer struct {
	b      []byte
	diffID v1.Hash
}

func (l rawLayer) Digest() (v1.Hash, error)            { return sha(l.b), nil }
func (l rawLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l rawLayer) Size() (int64, error)                { return int64(len(l.b)), nil }
func (l rawLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
func (l rawLayer) Compressed() (io.ReadCloser, error)  { return io.NopCloser(bytes.NewReader(l.b)), nil }
func (l rawLayer) Uncompressed() (io.ReadCloser, error) {
	return decompressReadCloser(io.NopCloser(bytes.NewReader(l.b)))
}

// layerOf is a gzip layer with correct digest and diff_id.
func layerOf(t testing.TB, ents ...ent) v1.Layer {
	t.Helper()
	tb := tarOf(t, ents...)
	return rawLayer{b: gz(t, tb), diffID: sha(tb)}
}

// imageOf stacks layers on an empty linux/amd64 image.
func imageOf(t testing.TB, plat string, layers ...v1.Layer) v1.Image {
	t.Helper()
	p, err := v1.ParsePlatform(plat)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// standardLayers exercise deletion and overwriting:
//
//	layer 0: files, five of them marked
//	layer 1: deletes usr/bin/xm (whiteout), overwrites etc/app.conf,
//	         makes opt/tool opaque, deletes var/lib/x (hard-linked)
//	layer 2: replaces the directory srv/data by a symlink, adds tmp/late
func standardLayers(t testing.TB) []v1.Layer {
	return []v1.Layer{
		layerOf(t,
			dir("bin/"), reg("bin/sh", "#!/bin/sh\necho hello\n"),
			dir("usr/"), dir("usr/bin/"), reg("usr/bin/xm", "ELF... "+mark+" ..."),
			dir("etc/"), reg("etc/app.conf", "pool = "+mark),
			dir("opt/"), dir("opt/tool/"), reg("opt/tool/run", mark),
			dir("keep/"), reg("keep/visible", "x "+mark),
			dir("var/"), dir("var/lib/"), reg("var/lib/x", mark+" linked"), hard("var/lib/x-link", "var/lib/x"),
			dir("srv/"), dir("srv/data/"), reg("srv/data/file", mark),
		),
		layerOf(t,
			reg("usr/bin/.wh.xm", ""),
			reg("etc/app.conf", "clean config\n"),
			dir("opt/tool/"), reg("opt/tool/.wh..wh..opq", ""), reg("opt/tool/new", "clean\n"),
			reg("var/lib/.wh.x", ""),
		),
		layerOf(t,
			sym("srv/data", "/tmp"),
			dir("tmp/"), reg("tmp/late", mark+" late"),
		),
	}
}

// standardWant is what walking the standard image must find.
var standardWant = []wantFinding{
	{"usr/bin/xm", 0, true},
	{"etc/app.conf", 0, true},
	{"opt/tool/run", 0, true},
	{"keep/visible", 0, false},
	{"var/lib/x", 0, false}, // deleted, but its hard link var/lib/x-link stays
	{"srv/data/file", 0, true},
	{"tmp/late", 2, false},
}

type wantFinding struct {
	path    string
	layer   int
	deleted bool
}

func gotFindings(res Result) []wantFinding {
	var out []wantFinding
	for _, f := range res.Findings {
		out = append(out, wantFinding{f.Finding.Path, f.LayerIndex, f.Deleted})
	}
	return out
}

// recorder is the test visitor: a finding when the content holds mark,
// and a log of what it saw.
type recorder struct {
	calls atomic.Int64
	mu    sync.Mutex
	files map[string]File
	max   int64 // most bytes read from one file
}

func newRecorder() *recorder { return &recorder{files: map[string]File{}} }

func (r *recorder) visit(ctx context.Context, f File, rd io.Reader) ([]filescan.Finding, error) {
	r.calls.Add(1)
	b, err := io.ReadAll(rd)
	r.mu.Lock()
	key := f.Path
	if f.Layer != "" || f.LayerIndex > 0 {
		key = string(rune('0'+f.LayerIndex)) + ":" + f.Path
	}
	r.files[key] = f
	r.max = max(r.max, int64(len(b)))
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if bytes.Contains(b, []byte(mark)) {
		return []filescan.Finding{{ID: "TEST-MARK", Message: "marked file"}}, nil
	}
	return nil, nil
}

// paths lists what the visitor saw, sorted; links end in " -> target".
func (r *recorder) paths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k, f := range r.files {
		if f.Linkname != "" {
			k += " -> " + f.Linkname
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// startRegistry serves an in-process registry on 127.0.0.1; wrap may
// tamper with responses.
func startRegistry(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func push(t testing.TB, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

func writeDockerArchive(t testing.TB, path, tag string, img v1.Image) {
	t.Helper()
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, ref, img); err != nil {
		t.Fatal(err)
	}
}

func writeLayout(t testing.TB, dir string, img v1.Image, refName string) {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	var opts []layout.Option
	if refName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{annotationRefName: refName}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		t.Fatal(err)
	}
}

// tarDir writes the tree under dir as a tar file (an OCI archive when dir
// is an OCI layout).
func tarDir(t testing.TB, dir, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// unpack applies an image's layers to dir the way a runtime would, to
// make the rootfs source of the same image.
func unpack(t testing.TB, img v1.Image, dir string) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			name, _ := cleanName(hdr.Name)
			p := filepath.Join(dir, name)
			base := filepath.Base(name)
			switch {
			case base == opaqueMarker:
				ents, _ := os.ReadDir(filepath.Dir(p))
				for _, e := range ents {
					os.RemoveAll(filepath.Join(filepath.Dir(p), e.Name()))
				}
				continue
			case strings.HasPrefix(base, whiteoutPrefix):
				os.RemoveAll(filepath.Join(filepath.Dir(p), strings.TrimPrefix(base, whiteoutPrefix)))
				continue
			}
			if fi, err := os.Lstat(p); err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
				os.RemoveAll(p)
			}
			os.MkdirAll(filepath.Dir(p), 0o755)
			switch hdr.Typeflag {
			case tar.TypeDir:
				err = os.MkdirAll(p, 0o755)
			case tar.TypeReg:
				var b []byte
				if b, err = io.ReadAll(tr); err == nil {
					err = os.WriteFile(p, b, 0o644)
				}
			case tar.TypeSymlink:
				err = os.Symlink(hdr.Linkname, p)
			case tar.TypeLink:
				target, _ := cleanName(hdr.Linkname)
				err = os.Link(filepath.Join(dir, target), p)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		rc.Close()
	}
}

// layerDigests lists an image's layer digests.
func layerDigests(t testing.TB, img v1.Image) []v1.Hash {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []v1.Hash
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

func openOne(t testing.TB, ref string, opts Options) Target {
	t.Helper()
	ts, err := Open(context.Background(), ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("Open(%q, %+v): %d targets, want 1", ref, opts, len(ts))
	}
	return ts[0]
}

func errorsText(res Result) string {
	var b strings.Builder
	for _, e := range res.Errors {
		b.WriteString(e.Error())
		b.WriteString("\n")
	}
	return b.String()
}
