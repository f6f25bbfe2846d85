package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/davyproject/davy/internal/finding"
)

type tableWriter struct{ opts Options }

func (t tableWriter) WriteHost(w io.Writer, r *HostReport) error {
	reasons := t.opts.Reasons
	if reasons <= 0 {
		reasons = 3
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tSCORE\tKIND\tWORKLOAD\tCPU\tREASONS")
	hidden := 0
	for _, wl := range r.Workloads {
		if wl.Verdict == finding.VerdictClean && !t.opts.All {
			hidden++
			continue
		}
		lines := reasonLines(wl, reasons)
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", wl.Verdict, wl.Score, wl.Kind, label(wl), cpuText(wl.CPU), lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "\t\t\t\t\t%s\n", l)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	fmt.Fprintf(w, "\n%d miner, %d suspicious, %d clean workloads (window %s, %d detectors)",
		r.Summary["miner"], r.Summary["suspicious"], r.Summary["clean"], r.Window, len(r.Detectors))
	if hidden > 0 {
		fmt.Fprintf(w, "; %d clean not shown (--all shows them)", hidden)
	}
	fmt.Fprintln(w)
	if n := sum(r.Skipped); n > 0 {
		fmt.Fprintf(w, "%d entries could not be read: %s\n", n, skippedText(r.Skipped))
	}
	return nil
}

func label(wl Workload) string {
	switch {
	case wl.Kind == "process":
		return wl.ID + " " + sanitize(wl.Name)
	case wl.Runtime != "":
		return wl.Runtime + "://" + wl.Name
	}
	return wl.Name
}

func cpuText(c CPU) string {
	if c.Limit > 0 {
		return fmt.Sprintf("%.2f/%.2f", c.Cores, c.Limit)
	}
	return fmt.Sprintf("%.2f", c.Cores)
}

func reasonLines(wl Workload, n int) []string {
	if len(wl.Evidence) == 0 {
		return []string{"-"}
	}
	var out []string
	for i, e := range wl.Evidence {
		if i == n {
			out = append(out, fmt.Sprintf("(+%d more: -o json or --reasons)", len(wl.Evidence)-n))
			break
		}
		out = append(out, e.ID+" "+sanitize(e.Message))
	}
	return out
}

// sanitize keeps a table row on one line whatever a process put in its name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\t' {
			return '?'
		}
		return r
	}, s)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func skippedText(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+strconv.Itoa(m[k]))
	}
	return strings.Join(parts, ", ")
}
