package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/davyproject/davy/internal/report"
)

var peakRSS = regexp.MustCompile(`peak_rss_kib=(\d+)`)

// runDavy scans input with the given cache directory, parallel layers at a
// time (as the floor decompresses them).
func runDavy(davy, input, cacheDir string, parallel int) (sample, error) {
	return runDavyArgs(davy, "", "scan", "image", "--input", input, "-o", "json", "--cache-dir", cacheDir,
		"--parallel", strconv.Itoa(parallel), "--log-level", "info")
}

// runDavyArgs runs davy and reads its JSON image report; root, when set, is
// the tree a `davy scan fs` scanned, for paths davy reports under it.
func runDavyArgs(davy, root string, args ...string) (sample, error) {
	r, err := execTimed(davy, args...)
	if err != nil {
		return sample{}, err
	}
	var rep report.ImageReport
	if err := json.Unmarshal(r.stdout, &rep); err != nil || len(rep.Images) == 0 {
		return sample{}, fmt.Errorf("davy %s exited %d without a JSON report (%v): %s", strings.Join(args[:2], " "), r.exit, err, tail(r.stderr, 10))
	}
	s := sample{dur: r.dur, rssKiB: r.hwmKiB, exit: r.exit, found: map[string][]string{}, note: "peak RSS polled from /proc"}
	// davy's own VmHWM, logged at exit, beats polling, which can miss the
	// last milliseconds.
	if m := peakRSS.FindSubmatch(r.stderr); m != nil {
		s.rssKiB, _ = strconv.ParseInt(string(m[1]), 10, 64)
		s.note = "peak RSS from davy's log"
	}
	for _, img := range rep.Images {
		// What davy says it read shows that it read the whole image.
		s.note += fmt.Sprintf("; exit %d, verdict %s, complete %t, %d layers, %d files, %.2f GiB", r.exit, img.Verdict, img.Complete, img.Layers, img.Files, gib(img.Bytes))
		for _, e := range img.Errors[:min(3, len(img.Errors))] {
			s.note += fmt.Sprintf("; error %s %s: %s", e.Layer, e.Path, e.Error)
		}
		for _, f := range img.Findings {
			p := normPath(f.Path)
			if root != "" && filepath.IsAbs(f.Path) {
				p = relTo(root, f.Path)
			}
			if p == "" {
				p = "(image config)"
			}
			s.found[p] = append(s.found[p], f.ID)
		}
	}
	return s, nil
}

// davyReady says why `davy scan CMD` cannot run yet, or "" when it can:
// its help must show the flag the benchmark passes.
func davyReady(davy, cmd, flag string) string {
	r, err := execTimed(davy, "scan", cmd, "--help")
	if err != nil {
		return err.Error()
	}
	if r.exit != 0 || !bytes.Contains(r.stdout, []byte(flag)) {
		return fmt.Sprintf("`davy scan %s --help` (exit %d) shows no %s flag: the command is not there yet", cmd, r.exit, flag)
	}
	return ""
}

// runClamscan scans the rootfs with the benchmark's signature database only,
// with limits high enough that no file is skipped or cut short.
func runClamscan(ndb, rootfs string) (sample, error) {
	r, err := execTimed("clamscan", "-r", "-i", "--no-summary", "-d", ndb,
		"--max-filesize=4000M", "--max-scansize=4000M", "--max-scantime=0", "--max-files=1000000", rootfs)
	if err != nil {
		return sample{}, err
	}
	// 0 clean, 1 found, anything else an error.
	if r.exit > 1 {
		return sample{}, fmt.Errorf("clamscan exited %d: %s", r.exit, tail(r.stderr, 10))
	}
	s := sample{dur: r.dur, rssKiB: r.hwmKiB, exit: r.exit, found: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(r.stdout))
	for sc.Scan() {
		line, ok := strings.CutSuffix(sc.Text(), " FOUND")
		if !ok {
			continue
		}
		i := strings.LastIndex(line, ": ")
		if i < 0 {
			continue
		}
		p := relTo(rootfs, line[:i])
		s.found[p] = append(s.found[p], strings.TrimSuffix(strings.TrimPrefix(line[i+2:], sigPrefix), ".UNOFFICIAL"))
	}
	return s, sc.Err()
}

// runYARA scans the rootfs with the benchmark's rules, two threads like
// davy's two layers at a time.
func runYARA(rules, rootfs string, threads int) (sample, error) {
	r, err := execTimed("yara", "-w", "-r", "-p", strconv.Itoa(threads), rules, rootfs)
	if err != nil {
		return sample{}, err
	}
	if r.exit != 0 {
		return sample{}, fmt.Errorf("yara exited %d: %s", r.exit, tail(r.stderr, 10))
	}
	s := sample{dur: r.dur, rssKiB: r.hwmKiB, found: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(r.stdout))
	for sc.Scan() {
		rule, file, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		p := relTo(rootfs, file)
		s.found[p] = append(s.found[p], strings.TrimPrefix(rule, "davy_"))
	}
	return s, sc.Err()
}

func relTo(root, p string) string {
	if rel, err := filepath.Rel(root, p); err == nil {
		return normPath(filepath.ToSlash(rel))
	}
	return normPath(p)
}

// normPath makes an in-image path comparable across contenders: no leading
// slash, and a member of an archive ("a.tar.gz!x") counts as its archive.
func normPath(p string) string {
	p, _, _ = strings.Cut(p, "!")
	return strings.TrimPrefix(p, "/")
}

// buildDavy compiles the davy command into dir.
func buildDavy(dir string) (string, error) {
	bin := filepath.Join(dir, "davy")
	c := exec.Command("go", "build", "-o", bin, "./cmd/davy")
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("building davy (run from the module root): %w", err)
	}
	return bin, nil
}
