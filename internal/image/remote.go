package image

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// remoteImage marks images whose layer reads go-containerregistry already
// verifies (remote's blob reader checks size and digest), so Walk does not
// hash the bytes a second time.
type remoteImage struct{ v1.Image }

func (remoteImage) sourceVerifiesLayers() {}

func openRemote(ctx context.Context, s string, opts Options, want v1.Platform) ([]Target, error) {
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(s, nopts...)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", s, err)
	}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if opts.Transport != nil {
		ropts = append(ropts, remote.WithTransport(opts.Transport))
	}
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref.Name(), err)
	}
	if !desc.MediaType.IsIndex() {
		img, err := desc.Image()
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref.Name(), err)
		}
		plat, err := checkImage(img)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref.Name(), err)
		}
		return []Target{{Ref: ref.Name(), Digest: desc.Digest.String(), Platform: plat, Image: remoteImage{img}}}, nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref.Name(), err)
	}
	cands, err := platformImages(idx, want, opts.AllPlatforms)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref.Name(), err)
	}
	var out []Target
	var errs []error
	for _, c := range cands {
		img, plat, err := c.open()
		if err != nil {
			errs = append(errs, fmt.Errorf("image %s (%s): %w", ref.Name(), platformString(c.desc.Platform), err))
			continue
		}
		out = append(out, Target{Ref: ref.Name(), Digest: c.desc.Digest.String(), Platform: plat, Image: remoteImage{img}})
	}
	return out, errors.Join(errs...)
}
