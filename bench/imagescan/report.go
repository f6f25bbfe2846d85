package main

import (
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// contender is one thing timed: run is called once untimed, then once per
// round; the first error stops it and is reported in the table.
type contender struct {
	key, label string
	need       string // command that must be installed
	davy       bool
	run        func() (sample, error)
	prepare    func() error // once before the warm-up run
	samples    []sample
	skipped    string
	err        error
}

func (c *contender) warmUp() {
	if c.skipped != "" || c.err != nil {
		return
	}
	if c.prepare != nil {
		if c.err = c.prepare(); c.err != nil {
			return
		}
	}
	s, err := c.run()
	c.err = err
	if err == nil {
		log.Printf("  %-10s %v", c.key, s.dur.Round(time.Millisecond))
	}
}

func (c *contender) timed() {
	if c.skipped != "" || c.err != nil {
		return
	}
	s, err := c.run()
	if err != nil {
		c.err = err
		return
	}
	log.Printf("  %-10s %v", c.key, s.dur.Round(time.Millisecond))
	c.samples = append(c.samples, s)
}

func (c *contender) ok() bool { return c.err == nil && c.skipped == "" && len(c.samples) > 0 }

func (c *contender) median() time.Duration {
	d := make([]time.Duration, len(c.samples))
	for i, s := range c.samples {
		d[i] = s.dur
	}
	slices.Sort(d)
	return d[len(d)/2]
}

func (c *contender) spread() string {
	lo, hi := c.samples[0].dur, c.samples[0].dur
	for _, s := range c.samples {
		lo, hi = min(lo, s.dur), max(hi, s.dur)
	}
	return fmt.Sprintf("%.2f-%.2f", lo.Seconds(), hi.Seconds())
}

func (c *contender) peakRSS() int64 {
	var m int64
	for _, s := range c.samples {
		m = max(m, s.rssKiB)
	}
	return m
}

func (c *contender) last() sample { return c.samples[len(c.samples)-1] }

func byKey(cs []*contender, key string) *contender {
	for _, c := range cs {
		if c.key == key {
			return c
		}
	}
	return &contender{key: key, skipped: "not run (-only)"}
}

func printImage(w io.Writer, m meta) {
	var comp, unc int64
	for _, l := range m.Layers {
		comp += l.Size
		unc += l.Uncompressed
	}
	fmt.Fprintf(w, "\nimage: %d layers, %.2f GiB uncompressed, %.2f GiB gzip; files: %d ELF (%.0f MiB), %d text (%.0f MiB), %d other (%.0f MiB); %d distinct host files; seed %d\n",
		len(m.Layers), gib(unc), gib(comp),
		m.Files["ELF"], mib(m.Bytes["ELF"]), m.Files["text"], mib(m.Bytes["text"]), m.Files["other"], mib(m.Bytes["other"]), m.Distinct, m.Seed)
}

func printReport(w io.Writer, o options, m meta, cs []*contender, weak map[string]bool) {
	printImage(w, m)
	fmt.Fprintf(w, "machine: %d CPUs, %s; %s; %s\n", runtime.NumCPU(), runtime.Version(), version("clamscan", "--version"), "YARA "+version("yara", "--version"))
	fmt.Fprintf(w, "load average (1/5/15 min) at the start: %s, at the end: %s (others share this machine)\n", o.loadStart, loadAvg())
	fmt.Fprintf(w, "method: median of %d rounds after one untimed warm-up run of every contender (page cache warm for all: it cannot be dropped here); contenders interleaved round-robin\n\n", o.rounds)

	fl := byKey(cs, "floor")
	fmt.Fprintf(w, "%-52s %9s %13s %9s %10s %8s %8s\n", "contender", "median", "range s", "vs floor", "peak RSS", "flagged", "planted")
	for _, c := range cs {
		switch {
		case c.skipped != "":
			fmt.Fprintf(w, "%-52s skipped: %s\n", c.label, c.skipped)
			continue
		case !c.ok():
			fmt.Fprintf(w, "%-52s FAILED: %v\n", c.label, c.err)
			continue
		}
		ratio := "-"
		if fl.ok() {
			ratio = fmt.Sprintf("%.2fx", float64(c.median())/float64(fl.median()))
		}
		rss, flagged, planted := "-", "-", "-"
		if c.peakRSS() > 0 {
			rss = fmt.Sprintf("%.1f MiB", float64(c.peakRSS())/1024)
		}
		if f := c.last().found; f != nil {
			flagged = fmt.Sprint(len(f))
			planted = fmt.Sprintf("%d/%d", countPlanted(f), len(plantedNames))
		}
		fmt.Fprintf(w, "%-52s %8.2fs %13s %9s %10s %8s %8s\n", c.label, c.median().Seconds(), c.spread(), ratio, rss, flagged, planted)
		if c.err != nil {
			fmt.Fprintf(w, "%-52s   (stopped after an error: %v)\n", "", c.err)
		}
	}
	for _, c := range cs {
		if c.ok() && c.last().note != "" {
			fmt.Fprintf(w, "  %s: %s\n", c.key, c.last().note)
		}
	}
	printBars(w, cs)
	printAgreement(w, cs, weak)
}

func printBars(w io.Writer, cs []*contender) {
	fmt.Fprintf(w, "\nbars (issue 3):\n")
	cold, warm := byKey(cs, "davy-cold"), byKey(cs, "davy-warm")
	bar := func(name, value, goal string, pass bool, ok bool) {
		verdict := "n/a"
		if ok {
			verdict = map[bool]string{true: "PASS", false: "FAIL"}[pass]
		}
		fmt.Fprintf(w, "  %-28s %-12s %-14s %s\n", name, value, goal, verdict)
	}
	if !cold.ok() {
		fmt.Fprintf(w, "  davy did not run: %s\n", firstNonEmpty(cold.skipped, fmt.Sprint(cold.err)))
		return
	}
	rss := max(cold.peakRSS(), warm.peakRSSIfOK())
	bar("davy peak RSS", fmt.Sprintf("%.1f MiB", float64(rss)/1024), "< 256 MiB", rss < 256*1024, rss > 0)
	if warm.ok() {
		r := float64(warm.median()) / float64(cold.median())
		bar("warm/cold", fmt.Sprintf("%.3f", r), "< 0.10", r < 0.10, true)
	}
	for _, k := range []struct {
		key, name, goal string
		limit           float64
	}{
		{"floor", "davy/floor", "<= 1.5x", 1.5},
		{"clamscan", "davy/clamscan", "< 1 (faster)", 1},
		{"yara", "davy/yara", "< 1 (faster)", 1},
	} {
		o := byKey(cs, k.key)
		if !o.ok() {
			bar(k.name, "-", k.goal, false, false)
			continue
		}
		r := float64(cold.median()) / float64(o.median())
		pass := r < k.limit
		if k.key == "floor" {
			pass = r <= k.limit
		}
		bar(k.name, fmt.Sprintf("%.2fx", r), k.goal, pass, true)
	}
}

func (c *contender) peakRSSIfOK() int64 {
	if c == nil || !c.ok() {
		return 0
	}
	return c.peakRSS()
}

// printAgreement shows, per planted file, what each scanner matched, and
// the other files each flagged, those with a strong indicator first: where
// they disagree and why can be read from it. (Davy reports evidence IDs and
// counts weak indicators only beside strong ones; ClamAV and YARA report
// every indicator alone.)
func printAgreement(w io.Writer, cs []*contender, weak map[string]bool) {
	var scanners []*contender
	for _, c := range cs {
		if c.ok() && c.last().found != nil {
			scanners = append(scanners, c)
		}
	}
	if len(scanners) == 0 {
		return
	}
	// Davy's runs must agree with each other (a warm cache that changes the
	// findings is a bug); when they do, one stands for all.
	var same []string
	if cold := byKey(cs, "davy-cold"); cold.ok() {
		scanners = slices.DeleteFunc(scanners, func(c *contender) bool {
			if c != cold && c.davy && sameFound(c.last().found, cold.last().found) {
				same = append(same, c.key)
				return true
			}
			return false
		})
	}
	fmt.Fprintf(w, "\npositives (last timed run of each):\n")
	if len(same) > 0 {
		fmt.Fprintf(w, "  %s: the same files and evidence IDs as davy-cold\n", strings.Join(same, ", "))
	}
	for _, p := range plantedNames {
		fmt.Fprintf(w, "  /%s\n", p)
		for _, c := range scanners {
			fmt.Fprintf(w, "    %-10s %s\n", c.key, describe(c.last().found[p]))
		}
	}
	for _, c := range scanners {
		found := c.last().found
		var strong, weakOnly []string
		for p, hits := range found {
			if slices.Contains(plantedNames, p) {
				continue
			}
			if c.davy || slices.ContainsFunc(hits, func(h string) bool { return !weak[h] }) {
				strong = append(strong, p)
			} else {
				weakOnly = append(weakOnly, p)
			}
		}
		slices.Sort(strong)
		slices.Sort(weakOnly)
		other := append(strong, weakOnly...)
		fmt.Fprintf(w, "  %-10s %d other file(s) flagged", c.key, len(other))
		if !c.davy {
			fmt.Fprintf(w, " (%d by a strong indicator)", len(strong))
		}
		for i, p := range other[:min(len(other), 6)] {
			sep := ": "
			if i > 0 {
				sep = ", "
			}
			fmt.Fprintf(w, "%s/%s [%s]", sep, p, describe(found[p]))
		}
		if len(other) > 6 {
			fmt.Fprintf(w, ", ...")
		}
		fmt.Fprintln(w)
	}
}

func sameFound(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for p, hits := range a {
		if describeAll(hits) != describeAll(b[p]) {
			return false
		}
	}
	return true
}

// describeAll is every distinct hit, sorted.
func describeAll(hits []string) string {
	set := map[string]bool{}
	for _, h := range hits {
		set[h] = true
	}
	return strings.Join(slices.Sorted(maps.Keys(set)), " ")
}

func describe(hits []string) string {
	if len(hits) == 0 {
		return "-"
	}
	set := map[string]bool{}
	for _, h := range hits {
		set[h] = true
	}
	keys := slices.Sorted(maps.Keys(set))
	if len(keys) > 5 {
		return fmt.Sprintf("%s +%d more", strings.Join(keys[:5], " "), len(keys)-5)
	}
	return strings.Join(keys, " ")
}

func countPlanted(found map[string][]string) int {
	n := 0
	for _, p := range plantedNames {
		if len(found[p]) > 0 {
			n++
		}
	}
	return n
}

func version(cmd string, arg string) string {
	out, err := exec.Command(cmd, arg).Output()
	if err != nil {
		return cmd + " not installed"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func gib(n int64) float64 { return float64(n) / (1 << 30) }
func mib(n int64) float64 { return float64(n) / (1 << 20) }

// writeFound keeps every contender's full list of flagged files (path, then
// what matched) for a closer look than the summary gives.
func writeFound(dir string, cs []*contender) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	for _, c := range cs {
		if !c.ok() || c.last().found == nil {
			continue
		}
		found := c.last().found
		var b strings.Builder
		for _, p := range slices.Sorted(maps.Keys(found)) {
			fmt.Fprintf(&b, "/%s\t%s\n", p, describeAll(found[p]))
		}
		if err := os.WriteFile(filepath.Join(dir, c.key+".txt"), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("results: %w", err)
		}
	}
	fmt.Printf("\nevery flagged file: %s/<contender>.txt\n", dir)
	return nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
