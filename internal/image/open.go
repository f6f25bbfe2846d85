package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultPlatform is the platform picked from a multi-platform index when
// Options.Platform is empty.
const DefaultPlatform = "linux/amd64"

// Target is one image to walk: one platform of one reference or input.
type Target struct {
	// Ref names the image for reports: a registry reference
	// ("registry.example/app:1"), or a local input in the transport syntax
	// skopeo and podman use: "docker-archive:PATH:TAG" ("...:@N" for the
	// Nth untagged image), "oci:PATH[:NAME]", "oci-archive:PATH[:NAME]",
	// "rootfs:PATH".
	Ref string
	// Digest is the image manifest's digest. For a docker-archive image it
	// is the config digest (the image ID docker prints): the archive holds
	// no manifest, and computing one would mean recompressing every layer.
	// Empty for a root filesystem.
	Digest string
	// Platform is os/arch[/variant], from the index or the image config.
	Platform string
	// Image is the image itself. For a root filesystem it is an image with
	// no layers and an empty config; the files are under Dir.
	Image v1.Image
	// Dir, when set, is an unpacked root filesystem: Walk reads the
	// directory tree instead of layers. `davy scan fs` can use it directly.
	Dir string
}

// Options for Open.
type Options struct {
	// Input is a local path: a docker/podman save archive, an OCI layout
	// directory, an OCI archive, or a root filesystem directory. The kind
	// is detected from the contents. When Input is set, a non-empty ref
	// selects images inside it by tag or ref name.
	Input string
	// Platform such as linux/arm64 or linux/arm/v7; DefaultPlatform if
	// empty. Used only where an index offers several platforms.
	Platform string
	// AllPlatforms returns one Target per platform of an index.
	AllPlatforms bool
	// Insecure allows plain HTTP (and unverified TLS fallback) to the
	// registry. Loopback and RFC 1918 registries use HTTP anyway.
	Insecure bool
	// Keychain supplies registry credentials; nil means the docker config
	// (authn.DefaultKeychain: ~/.docker/config.json, credential helpers).
	Keychain authn.Keychain
	// Transport for registry requests; nil means go-containerregistry's
	// default (proxy from the environment, retries).
	Transport http.RoundTripper
	// Progress, if set, receives EventResolve.
	Progress func(Event)
}

// Open resolves ref (or opts.Input) into Targets.
//
// The manifest and config of each image are read now, so a corrupt one is
// reported here; layers are only read by Walk. For a registry image, ctx is
// also the context of the layer downloads Walk does later: keep it alive
// until the walks are done.
//
// When an input holds several images and only some can be opened, Open
// returns those Targets together with an error naming the others.
func Open(ctx context.Context, ref string, opts Options) ([]Target, error) {
	want, err := parsePlatform(opts.Platform)
	if err != nil {
		return nil, err
	}
	ev := newEmitter(opts.Progress)
	if opts.Input != "" {
		ev.emit(Event{Kind: EventResolve, Ref: opts.Input})
		return openInput(ctx, ref, opts, want)
	}
	if ref == "" {
		return nil, errors.New("open image: no reference and no input path")
	}
	ev.emit(Event{Kind: EventResolve, Ref: ref})
	return openRemote(ctx, ref, opts, want)
}

func parsePlatform(s string) (v1.Platform, error) {
	if s == "" {
		s = DefaultPlatform
	}
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant], e.g. linux/amd64", s)
	}
	return *p, nil
}

// openInput detects what kind of local input path is.
func openInput(ctx context.Context, ref string, opts Options, want v1.Platform) ([]Target, error) {
	path := opts.Input
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	if fi.IsDir() {
		if isOCILayoutDir(path) {
			return openLayoutDir(ctx, path, ref, opts, want)
		}
		return openRootfs(path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("input %s: %w", path, errInputKind)
	}
	if c, err := sniffCompression(path); err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	} else if c != "" {
		// Archives are read by offset (each blob is a section of the file),
		// which a compressed stream cannot give.
		return nil, fmt.Errorf("input %s: a %s-compressed file; decompress it first (e.g. %s -dk), then pass the .tar", path, c, c)
	}
	ti, err := indexTar(path)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	switch {
	case ti.has("manifest.json"):
		// Docker 25+ archives also hold index.json; manifest.json lists
		// exactly the saved images, so it wins.
		return openDockerArchive(path, ti, ref)
	case ti.has("index.json"):
		return openOCIArchive(ctx, path, ti, ref, opts, want)
	}
	return nil, fmt.Errorf("input %s: a tar archive with neither manifest.json (docker/podman save) nor index.json (OCI archive)", path)
}

var errInputKind = errors.New("not a directory or a tar archive; expected a docker/podman save archive, an OCI archive, an OCI layout directory or a root filesystem directory")

func isOCILayoutDir(dir string) bool {
	for _, n := range []string{"oci-layout", "index.json"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// sniffCompression names the compression of a file, "" for none.
func sniffCompression(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b [4]byte
	n, _ := f.Read(b[:])
	return compressionOf(b[:n]), nil
}
