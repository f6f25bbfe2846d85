package image

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestSourcesAgree writes one image to every kind of source and checks
// that each gives the same files and findings.
func TestSourcesAgree(t *testing.T) {
	ctx := context.Background()
	img := imageOf(t, "linux/amd64", standardLayers(t)...)
	digest, _ := img.Digest()
	configDigest, _ := img.ConfigName()

	host := startRegistry(t, nil)
	ref := host + "/davy/standard:1"
	push(t, ref, img)
	tmp := t.TempDir()
	docker := filepath.Join(tmp, "docker.tar")
	writeDockerArchive(t, docker, "davy/standard:1", img)
	lay := filepath.Join(tmp, "layout")
	writeLayout(t, lay, img, "1")
	ociTar := filepath.Join(tmp, "oci.tar")
	tarDir(t, lay, ociTar)

	wantFiles := []string{
		"0:bin/sh", "0:etc/app.conf", "0:keep/visible", "0:opt/tool/run", "0:srv/data/file",
		"0:usr/bin/xm", "0:var/lib/x", "0:var/lib/x-link -> var/lib/x",
		"1:etc/app.conf", "1:opt/tool/new",
		"2:srv/data -> /tmp", "2:tmp/late",
	}
	cases := []struct {
		name       string
		ref        string
		opts       Options
		wantRef    string
		wantDigest v1.Hash
	}{
		{"registry", ref, Options{}, host + "/davy/standard:1", digest},
		{"registry insecure", ref, Options{Insecure: true}, host + "/davy/standard:1", digest},
		{"docker-archive", "", Options{Input: docker}, "docker-archive:" + docker + ":davy/standard:1", configDigest},
		{"oci-layout", "", Options{Input: lay}, "oci:" + lay + ":1", digest},
		{"oci-archive", "", Options{Input: ociTar}, "oci-archive:" + ociTar + ":1", digest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := openOne(t, c.ref, c.opts)
			if tg.Ref != c.wantRef || tg.Digest != c.wantDigest.String() || tg.Platform != "linux/amd64" {
				t.Errorf("target = %q %q %q, want %q %q linux/amd64", tg.Ref, tg.Digest, tg.Platform, c.wantRef, c.wantDigest)
			}
			rec := newRecorder()
			res, err := Walk(ctx, tg, WalkOptions{}, rec.visit)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete || len(res.Errors) > 0 {
				t.Errorf("incomplete: %s", errorsText(res))
			}
			if got := gotFindings(res); !reflect.DeepEqual(got, standardWant) {
				t.Errorf("findings:\n got %v\nwant %v", got, standardWant)
			}
			if got := rec.paths(); !reflect.DeepEqual(got, wantFiles) {
				t.Errorf("visited:\n got %q\nwant %q", got, wantFiles)
			}
			if res.Layers != 3 || res.Files != 10 || res.Bytes == 0 {
				t.Errorf("layers %d files %d bytes %d, want 3, 10, >0", res.Layers, res.Files, res.Bytes)
			}
			for _, f := range res.Findings {
				if f.Finding.Path == "var/lib/x" && !slices.Equal(f.Links, []string{"var/lib/x-link"}) {
					t.Errorf("var/lib/x links = %q", f.Links)
				}
				if f.Layer == "" || f.Finding.ID != "TEST-MARK" {
					t.Errorf("finding without layer or ID: %+v", f)
				}
			}
		})
	}

	t.Run("rootfs", func(t *testing.T) {
		root := filepath.Join(tmp, "rootfs")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		unpack(t, img, root)
		tg := openOne(t, "", Options{Input: root})
		if tg.Dir == "" || !strings.HasPrefix(tg.Ref, "rootfs:") || tg.Image == nil {
			t.Fatalf("target = %+v", tg)
		}
		rec := newRecorder()
		res, err := Walk(ctx, tg, WalkOptions{}, rec.visit)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Complete {
			t.Errorf("incomplete: %s", errorsText(res))
		}
		// The final filesystem: what the layered walks call not deleted.
		want := []wantFinding{{"keep/visible", 0, false}, {"tmp/late", 0, false}, {"var/lib/x-link", 0, false}}
		if got := gotFindings(res); !reflect.DeepEqual(got, want) {
			t.Errorf("findings:\n got %v\nwant %v", got, want)
		}
		wantFiles := []string{"bin/sh", "etc/app.conf", "keep/visible", "opt/tool/new", "srv/data -> /tmp", "tmp/late", "var/lib/x-link"}
		if got := rec.paths(); !reflect.DeepEqual(got, wantFiles) {
			t.Errorf("visited:\n got %q\nwant %q", got, wantFiles)
		}
	})
}

// multiPlatform builds an index of a linux/amd64 and a linux/arm64 image
// (plus an attestation manifest, which must be skipped).
func multiPlatform(t *testing.T) (v1.ImageIndex, map[string]v1.Hash) {
	amd := imageOf(t, "linux/amd64", layerOf(t, reg("arch", "amd64 "+mark)))
	arm := imageOf(t, "linux/arm64", layerOf(t, reg("arch", "arm64")))
	att := imageOf(t, "linux/amd64", layerOf(t, reg("sbom.json", "{}")))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}}},
	)
	da, _ := amd.Digest()
	dr, _ := arm.Digest()
	return idx, map[string]v1.Hash{"linux/amd64": da, "linux/arm64": dr}
}

func TestPlatforms(t *testing.T) {
	idx, digests := multiPlatform(t)
	host := startRegistry(t, nil)
	ref := host + "/davy/multi:1"
	r, _ := name.ParseReference(ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	nested := filepath.Join(tmp, "nested") // index.json -> index -> images
	p, err := layout.Write(nested, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{annotationRefName: "1"})); err != nil {
		t.Fatal(err)
	}
	flat := filepath.Join(tmp, "flat") // index.json is the platform index
	if _, err := layout.Write(flat, idx); err != nil {
		t.Fatal(err)
	}
	nestedTar := filepath.Join(tmp, "nested.tar")
	tarDir(t, nested, nestedTar)

	sources := []struct {
		name string
		ref  string
		opts Options
	}{
		{"registry", ref, Options{}},
		{"oci-layout-nested", "", Options{Input: nested}},
		{"oci-layout-flat", "", Options{Input: flat}},
		{"oci-archive", "", Options{Input: nestedTar}},
	}
	choices := []struct {
		name     string
		platform string
		all      bool
		want     []string
	}{
		{"default", "", false, []string{"linux/amd64"}},
		{"arm64", "linux/arm64", false, []string{"linux/arm64"}},
		{"arm64-v8", "linux/arm64/v8", false, []string{"linux/arm64"}},
		{"all", "", true, []string{"linux/amd64", "linux/arm64"}},
	}
	for _, s := range sources {
		for _, c := range choices {
			t.Run(s.name+"/"+c.name, func(t *testing.T) {
				opts := s.opts
				opts.Platform, opts.AllPlatforms = c.platform, c.all
				ts, err := Open(context.Background(), s.ref, opts)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, tg := range ts {
					got = append(got, tg.Platform)
					if tg.Digest != digests[tg.Platform].String() {
						t.Errorf("%s digest %s, want %s", tg.Platform, tg.Digest, digests[tg.Platform])
					}
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("platforms %q, want %q", got, c.want)
				}
			})
		}
		t.Run(s.name+"/missing", func(t *testing.T) {
			opts := s.opts
			opts.Platform = "linux/s390x"
			_, err := Open(context.Background(), s.ref, opts)
			if err == nil || !strings.Contains(err.Error(), "linux/s390x") || !strings.Contains(err.Error(), "linux/arm64") {
				t.Errorf("err = %v, want one naming the platform and what exists", err)
			}
		})
	}
}

func TestDockerArchiveManyImages(t *testing.T) {
	a := imageOf(t, "linux/amd64", layerOf(t, reg("a", mark)))
	b := imageOf(t, "linux/arm64", layerOf(t, reg("b", "clean")))
	tmp := t.TempDir()
	tagged := filepath.Join(tmp, "tagged.tar")
	ta, _ := name.NewTag("example/a:1")
	tb, _ := name.NewTag("example/b:2")
	if err := tarball.MultiRefWriteToFile(tagged, map[name.Reference]v1.Image{ta: a, tb: b}); err != nil {
		t.Fatal(err)
	}
	untagged := filepath.Join(tmp, "untagged.tar")
	da, _ := a.Digest()
	db, _ := b.Digest()
	ra, _ := name.NewDigest("example/a@" + da.String())
	rb, _ := name.NewDigest("example/b@" + db.String())
	if err := tarball.MultiRefWriteToFile(untagged, map[name.Reference]v1.Image{ra: a, rb: b}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, input, ref string
		want             []string // platforms
	}{
		{"all tagged", tagged, "", []string{"linux/amd64", "linux/arm64"}},
		{"by tag", tagged, "example/b:2", []string{"linux/arm64"}},
		{"by full name", tagged, "index.docker.io/example/a:1", []string{"linux/amd64"}},
		{"all untagged", untagged, "", []string{"linux/amd64", "linux/arm64"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, err := Open(context.Background(), c.ref, Options{Input: c.input})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tg := range ts {
				got = append(got, tg.Platform)
				res, err := Walk(context.Background(), tg, WalkOptions{}, newRecorder().visit)
				if err != nil || !res.Complete || res.Files != 1 {
					t.Errorf("%s: walk err %v complete %v files %d: %s", tg.Ref, err, res.Complete, res.Files, errorsText(res))
				}
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("platforms %q, want %q", got, c.want)
			}
		})
	}
	t.Run("unknown tag", func(t *testing.T) {
		_, err := Open(context.Background(), "example/c:3", Options{Input: tagged})
		if err == nil || !strings.Contains(err.Error(), "example/a:1") {
			t.Errorf("err = %v, want one listing the tags", err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	tmp := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain.txt", []byte("just some text, not an archive\n"))
	gzipped := write("image.tar.gz", gz(t, tarOf(t, reg("manifest.json", "[]"))))
	otherTar := write("other.tar", tarOf(t, reg("hello.txt", "hi")))
	emptyManifest := write("empty.tar", tarOf(t, reg("manifest.json", "[]")))
	badManifest := write("bad.tar", tarOf(t, reg("manifest.json", "{not json")))
	missingLayer := write("missing.tar", tarOf(t,
		reg("manifest.json", `[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l.tar"]}]`),
		reg("c.json", `{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":["sha256:`+strings.Repeat("a", 64)+`"]}}`)))
	badIndex := write("badindex.tar", tarOf(t, reg("oci-layout", `{"imageLayoutVersion":"1.0.0"}`), reg("index.json", "[")))

	cases := []struct {
		name, ref string
		opts      Options
		want      []string // substrings of the error
	}{
		{"no ref", "", Options{}, []string{"no reference"}},
		{"bad ref", "UPPER/Case::", Options{}, []string{"UPPER/Case::"}},
		{"bad platform", "x", Options{Platform: "linux"}, []string{"os/arch"}},
		{"missing path", "", Options{Input: filepath.Join(tmp, "nope")}, []string{"nope", "no such file"}},
		{"not an archive", "", Options{Input: plain}, []string{plain, "not a directory or a tar archive"}},
		{"compressed", "", Options{Input: gzipped}, []string{gzipped, "gzip", "decompress"}},
		{"tar of something else", "", Options{Input: otherTar}, []string{otherTar, "manifest.json", "index.json"}},
		{"empty manifest.json", "", Options{Input: emptyManifest}, []string{emptyManifest, "no images"}},
		{"corrupt manifest.json", "", Options{Input: badManifest}, []string{badManifest, "manifest.json"}},
		{"missing layer file", "", Options{Input: missingLayer}, []string{"l.tar", "not in archive"}},
		{"corrupt index.json", "", Options{Input: badIndex}, []string{badIndex, "index.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, err := Open(context.Background(), c.ref, c.opts)
			if err == nil {
				t.Fatalf("no error; targets %+v", ts)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q does not mention %q", err, w)
				}
			}
		})
	}
}
