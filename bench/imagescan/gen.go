package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// genVersion changes whenever the generator would make a different image
// from the same seed and size, so a stale cache is rebuilt.
const genVersion = 1

// imageRef is the tag inside the docker-save tarball.
const imageRef = "davy.test/bench/imagescan:1"

// meta describes a generated image; written last, it marks the cache
// complete.
type meta struct {
	Version   int              `json:"version"`
	Seed      uint64           `json:"seed"`
	SizeMiB   int64            `json:"size_mib"`
	Layers    []layerFile      `json:"layers"`
	Files     map[string]int   `json:"files_by_kind"`
	Bytes     map[string]int64 `json:"bytes_by_kind"`
	Distinct  int              `json:"distinct_sources"`
	Planted   []string         `json:"planted"`
	ImageName string           `json:"image_name"`
}

// paths of the generated artefacts under the benchmark directory.
type paths struct{ dir, layout, tarball, rootfs, work, meta string }

func pathsIn(dir string) paths {
	return paths{
		dir:     dir,
		layout:  filepath.Join(dir, "oci"),
		tarball: filepath.Join(dir, "image.tar"),
		rootfs:  filepath.Join(dir, "rootfs"),
		work:    filepath.Join(dir, "work"),
		meta:    filepath.Join(dir, "meta.json"),
	}
}

// ensureImage returns the cached image's description, generating the image
// first when the cache is missing or was made with other parameters.
func ensureImage(p paths, sizeMiB int64, seed uint64) (meta, error) {
	if m, err := readMeta(p.meta); err == nil && m.Version == genVersion && m.Seed == seed && m.SizeMiB == sizeMiB {
		log.Printf("using the cached image in %s", p.dir)
		return m, nil
	}
	// Only the generator's own outputs are removed, never the whole dir.
	for _, d := range []string{p.meta, p.layout, p.tarball, p.rootfs, p.work} {
		if err := os.RemoveAll(d); err != nil {
			return meta{}, fmt.Errorf("clearing old image: %w", err)
		}
	}
	m, err := generate(p, sizeMiB, seed)
	if err != nil {
		return meta{}, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return meta{}, err
	}
	if err := os.WriteFile(p.meta, b, 0o644); err != nil {
		return meta{}, fmt.Errorf("writing %s: %w", p.meta, err)
	}
	return m, nil
}

func readMeta(file string) (meta, error) {
	var m meta
	b, err := os.ReadFile(file)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}

func generate(p paths, sizeMiB int64, seed uint64) (meta, error) {
	log.Printf("generating a %d MiB image in %s (once; later runs reuse it)", sizeMiB, p.dir)
	for _, d := range []string{p.rootfs, p.work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return meta{}, fmt.Errorf("generate: %w", err)
		}
	}
	pool, large, err := collect(sourceRoots, p.dir)
	if err != nil {
		return meta{}, fmt.Errorf("generate: %w", err)
	}
	planted, err := plantedEntries(filepath.Join(p.work, "testbed"), len(layerShares)+1)
	if err != nil {
		return meta{}, fmt.Errorf("generate: %w", err)
	}
	pl, err := makePlan(pool, large, sizeMiB<<20, seed, planted)
	if err != nil {
		return meta{}, fmt.Errorf("generate: %w", err)
	}
	m := meta{Version: genVersion, Seed: seed, SizeMiB: sizeMiB, Files: map[string]int{}, Bytes: map[string]int64{},
		Planted: plantedNames, ImageName: imageRef}
	distinct := map[string]bool{}
	for _, l := range pl.layers {
		for _, e := range l {
			m.Files[e.kind.String()]++
			m.Bytes[e.kind.String()] += e.size()
			if e.src != "" {
				distinct[e.src] = true
			}
		}
	}
	m.Distinct = len(distinct)

	m.Layers, err = writeLayers(pl, p)
	if err != nil {
		return meta{}, err
	}
	if err := writeImage(m.Layers, p); err != nil {
		return meta{}, err
	}
	// The layout and the tarball hold their own copies of the blobs.
	if err := os.RemoveAll(p.work); err != nil {
		return meta{}, fmt.Errorf("generate: %w", err)
	}
	return m, nil
}

// writeLayers compresses two layers at a time: gzip is the slow part and
// the machine has two cores.
func writeLayers(pl plan, p paths) ([]layerFile, error) {
	out := make([]layerFile, len(pl.layers))
	errs := make([]error, len(pl.layers))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, l := range pl.layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			gz := filepath.Join(p.work, fmt.Sprintf("layer%d.tar.gz", i))
			out[i], errs[i] = writeLayer(l, gz, p.rootfs)
			if errs[i] == nil {
				log.Printf("layer %d: %d files, %d MiB -> %d MiB gzip", i, out[i].Files, out[i].Uncompressed>>20, out[i].Size>>20)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	return out, nil
}

// writeImage assembles the OCI image and writes it as a layout directory
// and as a docker-save tarball.
func writeImage(layers []layerFile, p paths) error {
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	cfg := &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", Created: v1.Time{Time: epoch},
		RootFS: v1.RootFS{Type: "layers"},
		Config: v1.Config{
			Entrypoint: []string{"/usr/bin/env"},
			Cmd:        []string{"sh"},
			Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			WorkingDir: "/",
		},
	}
	base, err := mutate.ConfigFile(base, cfg)
	if err != nil {
		return fmt.Errorf("image config: %w", err)
	}
	var adds []mutate.Addendum
	for i, lf := range layers {
		adds = append(adds, mutate.Addendum{Layer: fileLayer{lf}, History: v1.History{
			Created: v1.Time{Time: epoch}, CreatedBy: fmt.Sprintf("COPY layer%d / # davy image-scan benchmark", i),
		}})
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	lp, err := layout.Write(p.layout, empty.Index)
	if err != nil {
		return fmt.Errorf("oci layout: %w", err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": imageRef})); err != nil {
		return fmt.Errorf("oci layout: %w", err)
	}
	tag, err := name.NewTag(imageRef)
	if err != nil {
		return fmt.Errorf("tag: %w", err)
	}
	if err := tarball.WriteToFile(p.tarball, tag, img); err != nil {
		return fmt.Errorf("docker tarball: %w", err)
	}
	return nil
}

// dirSize adds up the regular files under dir (the rootfs, as checked).
func dirSize(dir string) (files int, bytes int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files++
		bytes += fi.Size()
		return nil
	})
	return files, bytes, err
}
