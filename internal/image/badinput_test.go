package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/davyproject/davy/internal/filescan"
)

// walkImage walks an image given directly as a Target.
func walkImage(t *testing.T, img v1.Image, o WalkOptions) (Result, *recorder) {
	t.Helper()
	rec := newRecorder()
	res, err := Walk(context.Background(), Target{Ref: "test", Image: img}, o, rec.visit)
	if err != nil {
		t.Fatal(err)
	}
	return res, rec
}

func wantErrors(t *testing.T, res Result, want ...string) {
	t.Helper()
	text := errorsText(res)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("errors do not mention %q:\n%s", w, text)
		}
	}
	if res.Complete {
		t.Errorf("Complete with errors:\n%s", text)
	}
}

// goodLayer is scanned before and after a bad layer, to show the rest of
// the image is still read.
func goodLayer(t *testing.T, name string) v1.Layer {
	return layerOf(t, reg(name, "intact "+mark))
}

// bomb is a gzip layer holding one file of n zero bytes, then a marked
// file the walk must not reach when cut.
func bomb(t *testing.T, n int64) v1.Layer {
	var tb bytes.Buffer // not kept whole: only the compressed form
	var zb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zb, gzip.BestCompression)
	tw := tar.NewWriter(io.MultiWriter(zw, &hashOnly{&tb}))
	tw.WriteHeader(&tar.Header{Name: "bomb/zeros", Typeflag: tar.TypeReg, Size: n, Mode: 0o644})
	io.CopyN(tw, zeroReader{}, n)
	tw.WriteHeader(&tar.Header{Name: "bomb/after", Typeflag: tar.TypeReg, Size: int64(len(mark)), Mode: 0o644})
	io.WriteString(tw, mark)
	tw.Close()
	zw.Close()
	return rawLayer{b: zb.Bytes(), diffID: sha([]byte("not checked: the layer is cut before its end"))}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// hashOnly discards; it stands where a tee would keep the tar.
type hashOnly struct{ _ *bytes.Buffer }

func (hashOnly) Write(p []byte) (int, error) { return len(p), nil }

func TestBadLayers(t *testing.T) {
	good := layerOf(t, reg("tar/ok", "fine"))
	goodTar := tarOf(t, reg("tar/ok", "fine"))
	truncated := gz(t, goodTar)
	truncated = truncated[:len(truncated)/2]

	longName := strings.Repeat("d/", 3000) + "f"
	cases := []struct {
		name     string
		layer    v1.Layer
		o        WalkOptions
		errs     []string      // substrings of the errors
		findings []wantFinding // besides the good layers' ones
		check    func(*testing.T, Result, *recorder)
	}{
		{
			name:  "gzip bomb cut at MaxLayerBytes",
			layer: bomb(t, 64<<20),
			o:     WalkOptions{MaxLayerBytes: 16 << 20, MaxFileBytes: 1 << 20},
			errs:  []string{"MaxLayerBytes", "bomb/zeros: file is 67108864 bytes; only the first 1048576"},
			check: func(t *testing.T, res Result, rec *recorder) {
				if rec.max > 1<<20 {
					t.Errorf("visitor got %d bytes of one file, limit 1 MiB", rec.max)
				}
				if _, ok := rec.files["1:bomb/after"]; ok {
					t.Error("visited a file past the layer limit")
				}
				if res.Bytes > 16<<20+2<<20 {
					t.Errorf("read %d uncompressed bytes", res.Bytes)
				}
			},
		},
		{
			name:     "file over MaxFileBytes is truncated and flagged",
			layer:    layerOf(t, reg("big/late-mark", strings.Repeat("x", 3000)+mark), reg("big/early-mark", mark+strings.Repeat("x", 3000))),
			o:        WalkOptions{MaxFileBytes: 1024},
			errs:     []string{"big/late-mark: file is 3010 bytes; only the first 1024", "big/early-mark: file is"},
			findings: []wantFinding{{"big/early-mark", 1, false}},
			check: func(t *testing.T, res Result, rec *recorder) {
				if f := rec.files["1:big/late-mark"]; !f.Truncated || f.Size != 3010 {
					t.Errorf("file = %+v, want Truncated and Size 3010", f)
				}
			},
		},
		{
			name: "path traversal and absolute names",
			layer: layerOf(t, reg("../../etc/evil", mark), reg("/abs/evil", mark), reg("a/../../../b", mark),
				reg("fine/../ok", mark), hard("link", "../../etc/evil")),
			errs: []string{`path traversal: name "../../etc/evil" climbs above the root; read as "etc/evil"`,
				`absolute name "/abs/evil"; read as "abs/evil"`, `"a/../../../b"`, "link: hard link target: path traversal"},
			findings: []wantFinding{{"etc/evil", 1, false}, {"abs/evil", 1, false}, {"b", 1, false}, {"ok", 1, false}},
		},
		{
			name: "symlink loops are recorded, not followed",
			layer: layerOf(t, sym("loop/a", "b"), sym("loop/b", "a"), sym("self", "self"), sym("up", "."),
				sym("root", "/"), sym("dotdot", "../../.."), reg("real/file", mark)),
			findings: []wantFinding{{"real/file", 1, false}},
			check: func(t *testing.T, res Result, rec *recorder) {
				if !res.Complete {
					t.Errorf("symlinks made the scan incomplete: %s", errorsText(res))
				}
				if f := rec.files["1:loop/a"]; f.Linkname != "b" || f.Mode&os.ModeSymlink == 0 {
					t.Errorf("loop/a recorded as %+v", f)
				}
			},
		},
		{
			name:     "hard link to a missing file",
			layer:    layerOf(t, hard("hl", "nowhere"), reg("other", mark)),
			errs:     []string{`hl: hard link to "nowhere", which is not a file in this layer`},
			findings: []wantFinding{{"other", 1, false}},
		},
		{
			name:  "truncated gzip",
			layer: rawLayer{b: truncated, diffID: sha(goodTar)},
			errs:  []string{"unexpected EOF"},
		},
		{
			name:  "corrupt tar",
			layer: rawLayer{b: gz(t, bytes.Repeat([]byte("this is not a tar header "), 100)), diffID: sha(nil)},
			errs:  []string{"reading tar entry 1", "invalid tar header"},
		},
		{
			name:  "not gzip, not tar",
			layer: rawLayer{b: []byte("garbage"), diffID: sha(nil)},
			errs:  []string{"reading tar entry 1"},
		},
		{
			name:  "too many entries",
			layer: layerOf(t, reg("e1", ""), reg("e2", ""), reg("e3", ""), reg("e4", mark)),
			o:     WalkOptions{MaxEntries: 3},
			errs:  []string{"more than 3 entries (MaxEntries)"},
		},
		{
			name:     "path longer than MaxPathLen",
			layer:    layerOf(t, reg(longName, mark), reg("short", mark)),
			errs:     []string{"name is 6001 bytes, longer than 4096 (MaxPathLen); entry skipped"},
			findings: []wantFinding{{"short", 1, false}},
		},
		{
			name:  "a good layer",
			layer: good,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := imageOf(t, "linux/amd64", goodLayer(t, "before"), c.layer, goodLayer(t, "after"))
			res, rec := walkImage(t, img, c.o)
			want := []wantFinding{{"before", 0, false}}
			want = append(want, c.findings...)
			want = append(want, wantFinding{"after", 2, false})
			if got := gotFindings(res); !reflect.DeepEqual(got, want) {
				t.Errorf("findings:\n got %v\nwant %v", got, want)
			}
			if len(c.errs) > 0 {
				wantErrors(t, res, c.errs...)
			} else if !res.Complete {
				t.Errorf("incomplete: %s", errorsText(res))
			}
			for _, e := range res.Errors {
				if e.LayerIndex != 1 {
					t.Errorf("error blamed on layer %d: %v", e.LayerIndex, e)
				}
			}
			if c.check != nil {
				c.check(t, res, rec)
			}
		})
	}
}

// layoutWithBlob writes img as an OCI layout and replaces one layer blob.
func layoutWithBlob(t *testing.T, img v1.Image, layer int, blob []byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, img, "")
	h := layerDigests(t, img)[layer]
	if err := os.WriteFile(filepath.Join(dir, "blobs", h.Algorithm, h.Hex), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLayerDigestVerified(t *testing.T) {
	// Uncompressed layers of equal size, so that only the digest differs.
	orig := tarOf(t, reg("layer1", "clean"))
	evil := tarOf(t, reg("evil", mark))
	if len(orig) != len(evil) {
		t.Fatalf("sizes %d and %d", len(orig), len(evil))
	}
	img := imageOf(t, "linux/amd64", goodLayer(t, "before"), rawLayer{b: orig, diffID: sha(orig)}, goodLayer(t, "after"))
	wantFindings := []wantFinding{{"before", 0, false}, {"evil", 1, false}, {"after", 2, false}}

	check := func(t *testing.T, tg Target) {
		cache := t.TempDir()
		o := WalkOptions{CacheDir: cache, ScannerVersion: "v1"}
		for round := range 2 { // the refused layer is never cached
			rec := newRecorder()
			res, err := Walk(context.Background(), tg, o, rec.visit)
			if err != nil {
				t.Fatal(err)
			}
			if got := gotFindings(res); !reflect.DeepEqual(got, wantFindings) {
				t.Errorf("round %d findings:\n got %v\nwant %v", round, got, wantFindings)
			}
			for _, f := range res.Findings {
				if f.Unverified != (f.LayerIndex == 1) {
					t.Errorf("round %d: %s Unverified = %v", round, f.Finding.Path, f.Unverified)
				}
			}
			if len(res.Errors) != 1 || res.Errors[0].LayerIndex != 1 || res.Errors[0].Path != "" || res.Complete || !strings.Contains(res.Errors[0].Err, "sha256") {
				t.Errorf("round %d errors: %s", round, errorsText(res))
			}
			if _, ok := rec.files["1:evil"]; !ok {
				t.Errorf("round %d: refused layer not read again", round)
			}
			if round == 1 && res.CachedLayers != 2 {
				t.Errorf("round 1: %d cached layers, want 2", res.CachedLayers)
			}
		}
	}

	t.Run("oci-layout", func(t *testing.T) {
		dir := layoutWithBlob(t, img, 1, evil)
		tg := openOne(t, "", Options{Input: dir})
		check(t, tg)
		res, _ := Walk(context.Background(), tg, WalkOptions{}, newRecorder().visit)
		wantErrors(t, res, "digest mismatch", "layer refused")
	})
	t.Run("registry", func(t *testing.T) {
		bad := layerDigests(t, img)[1]
		host := startRegistry(t, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+bad.String()) {
					w.Header().Set("Content-Length", fmt.Sprint(len(evil)))
					w.Write(evil)
					return
				}
				h.ServeHTTP(w, r)
			})
		})
		push(t, host+"/davy/tampered:1", img)
		check(t, openOne(t, host+"/davy/tampered:1", Options{}))
	})
	t.Run("docker-archive diff_id", func(t *testing.T) {
		// docker archives carry no compressed digests: the uncompressed
		// stream is checked against the config's diff_id.
		path := filepath.Join(t.TempDir(), "img.tar")
		writeDockerArchive(t, path, "davy/tampered:1", img)
		tg := openOne(t, "", Options{Input: path})
		specs := tg.Image.(*dockerImage).layerSpecs()
		specs[1].open = func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(evil)), int64(len(evil)), nil
		}
		rec := scanLayer(context.Background(), specs[1], WalkOptions{}.mustDefaults(t), newRecorder().visit, nil)
		if rec.err == nil || !strings.Contains(rec.err.Error(), "diff_id") {
			t.Errorf("err = %v, want a diff_id mismatch", rec.err)
		}
	})
	t.Run("descriptor size", func(t *testing.T) {
		longer := append(append([]byte{}, orig...), make([]byte, 10)...)
		dir := layoutWithBlob(t, img, 1, longer)
		res, _ := Walk(context.Background(), openOne(t, "", Options{Input: dir}), WalkOptions{}, newRecorder().visit)
		wantErrors(t, res, "blob larger than its descriptor")
	})
}

func (o WalkOptions) mustDefaults(t *testing.T) WalkOptions {
	o, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestCorruptImage(t *testing.T) {
	img := imageOf(t, "linux/amd64", goodLayer(t, "a"))
	t.Run("registry manifest", func(t *testing.T) {
		host := startRegistry(t, nil)
		req, _ := http.NewRequest(http.MethodPut, "http://"+host+"/v2/davy/bad/manifests/1", strings.NewReader(`{"schemaVersion": 2, "config": [`))
		req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("registry refused the manifest: %s", resp.Status)
		}
		_, err = Open(context.Background(), host+"/davy/bad:1", Options{})
		if err == nil || !strings.Contains(err.Error(), "davy/bad:1") || !strings.Contains(err.Error(), "manifest") {
			t.Errorf("err = %v, want a manifest error naming the image", err)
		}
	})
	corruptBlob := func(t *testing.T, which func(*v1.Manifest) v1.Hash, content string) error {
		dir := filepath.Join(t.TempDir(), "layout")
		writeLayout(t, dir, img, "")
		m, _ := img.Manifest()
		h := which(m)
		if err := os.WriteFile(filepath.Join(dir, "blobs", h.Algorithm, h.Hex), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), "", Options{Input: dir})
		return err
	}
	t.Run("layout manifest", func(t *testing.T) {
		d, _ := img.Digest()
		err := corruptBlob(t, func(*v1.Manifest) v1.Hash { return d }, "{not json")
		if err == nil || !strings.Contains(err.Error(), d.String()) {
			t.Errorf("err = %v, want one naming the manifest", err)
		}
	})
	t.Run("layout config", func(t *testing.T) {
		err := corruptBlob(t, func(m *v1.Manifest) v1.Hash { return m.Config.Digest }, "[1, 2")
		if err == nil || !strings.Contains(err.Error(), "config") {
			t.Errorf("err = %v, want a config error", err)
		}
	})
	t.Run("walk of a broken image", func(t *testing.T) {
		_, err := Walk(context.Background(), Target{Ref: "broken", Image: brokenImage{img}}, WalkOptions{}, newRecorder().visit)
		if err == nil || !strings.Contains(err.Error(), "image broken: manifest") {
			t.Errorf("err = %v", err)
		}
	})
}

type brokenImage struct{ v1.Image }

func (brokenImage) Manifest() (*v1.Manifest, error) {
	return nil, fmt.Errorf("unexpected end of JSON input")
}

// TestMillionEntries walks a layer of a million tiny files, streamed from
// a generator so the test holds no layer in memory either.
func TestMillionEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const n = 1_000_000
	gen := func() (io.ReadCloser, int64, error) {
		pr, pw := io.Pipe()
		go func() {
			bw := bufio.NewWriterSize(pw, 1<<20)
			tw := tar.NewWriter(bw)
			hdr := &tar.Header{Typeflag: tar.TypeReg, Mode: 0o644}
			for i := range n {
				hdr.Name = fmt.Sprintf("d%03d/%07d", i%1000, i)
				if err := tw.WriteHeader(hdr); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			err := tw.Close()
			if err == nil {
				err = bw.Flush()
			}
			pw.CloseWithError(err)
		}()
		return pr, 0, nil
	}
	var calls int
	visit := func(ctx context.Context, f File, r io.Reader) ([]filescan.Finding, error) {
		calls++
		return nil, nil
	}
	start := time.Now()
	spec := layerSpec{id: sha(nil), verify: verifyBySource, open: gen}
	rec := scanLayer(context.Background(), spec, WalkOptions{}.mustDefaults(t), visit, nil)
	if rec.err != nil || rec.Files != n || calls != n || len(rec.NonDirs) != n {
		t.Fatalf("err %v files %d calls %d hashes %d", rec.err, rec.Files, calls, len(rec.NonDirs))
	}
	t.Logf("%d entries in %v", n, time.Since(start))

	capped := scanLayer(context.Background(), spec, WalkOptions{MaxEntries: 1000}.mustDefaults(t), visit, nil)
	if capped.err == nil || !strings.Contains(capped.err.Error(), "more than 1000 entries") {
		t.Errorf("err = %v", capped.err)
	}
}

func TestVisitorProblems(t *testing.T) {
	img := imageOf(t, "linux/amd64", layerOf(t, reg("panics", "x"), reg("fails", "x"), reg("fine", mark)))
	visit := func(ctx context.Context, f File, r io.Reader) ([]filescan.Finding, error) {
		switch f.Path {
		case "panics":
			panic("hostile bytes")
		case "fails":
			return []filescan.Finding{{ID: "PARTIAL"}}, fmt.Errorf("corrupt ELF header")
		}
		return []filescan.Finding{{ID: "OK", Path: f.Path + "!inner", Values: map[string]string{}}}, nil
	}
	res, err := Walk(context.Background(), Target{Image: img}, WalkOptions{}, visit)
	if err != nil {
		t.Fatal(err)
	}
	wantErrors(t, res, "panics: visitor panicked: hostile bytes", "fails: corrupt ELF header")
	want := []wantFinding{{"fails", 0, false}, {"fine!inner", 0, false}}
	if got := gotFindings(res); !reflect.DeepEqual(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}

func TestCancel(t *testing.T) {
	img := imageOf(t, "linux/amd64", goodLayer(t, "a"), goodLayer(t, "b"))
	ctx, cancel := context.WithCancel(context.Background())
	visit := func(ctx context.Context, f File, r io.Reader) ([]filescan.Finding, error) {
		cancel()
		return nil, nil
	}
	res, err := Walk(ctx, Target{Image: img}, WalkOptions{Parallel: 1}, visit)
	if err != context.Canceled || res.Complete {
		t.Errorf("err %v complete %v", err, res.Complete)
	}
}
