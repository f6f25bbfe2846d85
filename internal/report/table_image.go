package report

import (
	"fmt"
	"io"
	"text/tabwriter"
)

func (t tableWriter) WriteImages(w io.Writer, r *ImageReport) error {
	for i, img := range r.Images {
		if i > 0 {
			fmt.Fprintln(w)
		}
		name := img.Ref
		if img.Platform != "" {
			name += " (" + img.Platform + ")"
		}
		fmt.Fprintf(w, "%s: %s, score %d", sanitize(name), img.Verdict, img.Score)
		if img.Digest != "" {
			fmt.Fprintf(w, ", %s", img.Digest)
		}
		fmt.Fprintf(w, "\n%d layers, %d files, %d bytes scanned\n", img.Layers, img.Files, img.Bytes)
		if len(img.Findings) > 0 {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEVERITY\tID\tPATH\tLAYER\tMESSAGE")
			for _, f := range img.Findings {
				path := sanitize(f.Path)
				if f.Deleted {
					path += " (deleted in a later layer)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Severity, f.ID, path, shortDigest(f.Layer), sanitize(f.Message))
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("writing table: %w", err)
			}
		}
		if !img.Complete {
			fmt.Fprintf(w, "INCOMPLETE: %d layers or files could not be scanned:\n", len(img.Errors))
			for _, e := range img.Errors {
				where := e.Layer
				if e.Path != "" {
					where += " " + e.Path
				}
				fmt.Fprintf(w, "  %s: %s\n", sanitize(shortDigest(where)), sanitize(e.Error))
			}
		}
	}
	return nil
}

// shortDigest keeps "sha256:" and 12 hex digits, like docker does.
func shortDigest(d string) string {
	const keep = len("sha256:") + 12
	if len(d) > keep && d[:7] == "sha256:" {
		return d[:keep]
	}
	return d
}
