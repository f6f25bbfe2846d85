package report

import (
	"io"

	"github.com/davyproject/davy/internal/finding"
)

// ImageSchema names the image report's JSON version (see HostSchema).
const ImageSchema = "davy.dev/scan-image/v1"

// ImageReport is the result of `davy scan image` and `davy scan fs`.
type ImageReport struct {
	Schema string  `json:"schema"`
	Images []Image `json:"images"`
}

// Image is one scanned image (one platform of it), or one filesystem tree.
type Image struct {
	Ref      string          `json:"ref"`
	Digest   string          `json:"digest,omitempty"`
	Platform string          `json:"platform,omitempty"`
	Verdict  finding.Verdict `json:"verdict"`
	Score    int             `json:"score"`
	// Complete is false when a layer or file could not be scanned; Errors
	// says which, and the findings cover the rest.
	Complete bool           `json:"complete"`
	Errors   []ScanError    `json:"errors,omitempty"`
	Layers   int            `json:"layers"`
	Files    int            `json:"files"`
	Bytes    int64          `json:"bytes"`
	Findings []ImageFinding `json:"findings"`
}

// ScanError is one layer or file that could not be scanned.
type ScanError struct {
	Layer string `json:"layer,omitempty"`
	Path  string `json:"path,omitempty"`
	Error string `json:"error"`
}

// ImageFinding is one signal in one file of an image.
type ImageFinding struct {
	ID       string           `json:"id"`
	Severity finding.Severity `json:"severity"`
	Path     string           `json:"path"`
	Layer    string           `json:"layer,omitempty"`
	Message  string           `json:"message"`
	// Deleted is set when a later layer removes or replaces the file: it
	// is not in the running container's filesystem but still ships in the
	// image and can be restored from the layer.
	Deleted bool              `json:"deleted,omitempty"`
	Values  map[string]string `json:"values,omitempty"`
}

// ImageWriter renders an image report in one format.
type ImageWriter interface {
	WriteImages(w io.Writer, r *ImageReport) error
}
