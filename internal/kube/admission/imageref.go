package admission

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// imageRef is a container image reference in canonical form: Docker Hub
// names spelled out ("nginx" is "docker.io/library/nginx:latest"), as the
// kubelet resolves them.
type imageRef struct {
	Registry string // "docker.io", "127.0.0.1:5000"
	Repo     string // registry and path: "docker.io/library/nginx"
	Tag      string // "latest" when the reference names neither tag nor digest
	Digest   string // "sha256:...", or empty
}

// hubRegistry is how Docker Hub is written in canonical references;
// go-containerregistry spells it index.docker.io.
const hubRegistry = "docker.io"

func parseImageRef(s string) (imageRef, error) {
	if s == "" {
		return imageRef{}, fmt.Errorf("empty image reference")
	}
	base, _, hasDigest := strings.Cut(s, "@")
	var r imageRef
	if hasDigest {
		d, err := name.NewDigest(s)
		if err != nil {
			return imageRef{}, fmt.Errorf("image %q: %w", s, err)
		}
		r.Digest = d.DigestStr()
	}
	// The tag of "repo:tag@digest" says nothing the digest does not, but it
	// is kept so that tag-keyed blocklist entries still match.
	t, err := name.NewTag(base)
	if err != nil {
		return imageRef{}, fmt.Errorf("image %q: %w", s, err)
	}
	r.Registry = t.RegistryStr()
	if r.Registry == name.DefaultRegistry {
		r.Registry = hubRegistry
	}
	r.Repo = r.Registry + "/" + t.RepositoryStr()
	if !hasDigest || hasTag(base) {
		r.Tag = t.TagStr()
	}
	return r, nil
}

// String is the canonical reference: repo:tag, repo@digest or
// repo:tag@digest.
func (r imageRef) String() string {
	s := r.Repo
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// pullRef is what the scanner pulls: by digest when there is one, since
// that is what the kubelet runs.
func (r imageRef) pullRef() string {
	if r.Digest != "" {
		return r.Repo + "@" + r.Digest
	}
	return r.Repo + ":" + r.Tag
}
