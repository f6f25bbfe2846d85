package report

import (
	"encoding/json"
	"fmt"
	"io"
)

type jsonWriter struct{}

func (jsonWriter) WriteHost(w io.Writer, r *HostReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

func (jsonWriter) WriteImages(w io.Writer, r *ImageReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}
