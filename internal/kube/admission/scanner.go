package admission

import (
	"context"
	"log/slog"
	"strings"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/report"
	"github.com/davyproject/davy/internal/scan"
)

// ImageScanner judges one image, named by a canonical reference.
type ImageScanner interface {
	ScanImage(ctx context.Context, ref string) (ImageVerdict, error)
}

// EngineScanner scans with internal/scan's image engine, as
// `davy scan image` does (default platform, layer cache in CacheDir).
// Registry credentials come from the webhook's own docker config; pods'
// pull secrets are not read.
type EngineScanner struct {
	// InsecureRegistries are registries (host[:port]) reached over plain
	// HTTP. Loopback registries are always.
	InsecureRegistries []string
	CacheDir           string
	IntelDir           string
	Log                *slog.Logger
}

// ScanImage implements ImageScanner.
func (s *EngineScanner) ScanImage(ctx context.Context, ref string) (ImageVerdict, error) {
	img, err := scan.Image(ctx, ref, s.InsecureRegistries, scan.ImageOptions{CacheDir: s.CacheDir, IntelDir: s.IntelDir, Log: s.Log})
	if err != nil {
		return ImageVerdict{}, err
	}
	return verdictOf(ref, img), nil
}

// maxEvidence is how many findings a message names.
const maxEvidence = 3

func verdictOf(ref string, img report.Image) ImageVerdict {
	v := ImageVerdict{Ref: ref, Digest: img.Digest, Verdict: img.Verdict, Score: img.Score, Complete: img.Complete}
	for _, f := range img.Findings { // sorted by severity
		if len(v.Evidence) == maxEvidence {
			break
		}
		if finding.Rules[f.ID].Weak {
			continue
		}
		e := f.ID
		if f.Path != "" {
			e += " " + strings.TrimPrefix(f.Path, "/")
		}
		v.Evidence = append(v.Evidence, e)
	}
	return v
}
