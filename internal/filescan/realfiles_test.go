package filescan

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOrdinaryFilesOfThisMachine scans real files of this machine: Debian
// binaries, libraries, scripts, crontabs and configs, sampled evenly across
// each tree. None may look like a miner, a miner config or a dropper. I005
// (an honest library can be a dense table) and weak script traits (honest
// installers pipe curl into sh) are allowed and logged.
func TestOrdinaryFilesOfThisMachine(t *testing.T) {
	e := newEngine(t)
	forbidden := map[string]bool{"DAVY-I001": true, "DAVY-I002": true, "DAVY-I003": true, "DAVY-F001": true, "DAVY-F002": true,
		"DAVY-S001": true, "DAVY-S003": true, "DAVY-S004": true, "DAVY-S005": true, "DAVY-S006": true, "DAVY-S008": true,
		"DAVY-C001": true, "DAVY-C002": true, "DAVY-C003": true, "DAVY-N001": true}
	perRoot := 200
	switch {
	case os.Getenv("DAVY_REALFILES_ALL") != "":
		perRoot = 50_000 // every file (slow): for a thorough false-positive check
	case testing.Short():
		perRoot = 25
	}
	roots := []string{"/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/share", "/etc", "/usr/lib/python3", "/usr/libexec", "/usr/lib/systemd"}
	scanned, total := 0, int64(0)
	counts := map[string]int{}
	for _, root := range roots {
		for _, p := range sample(root, perRoot) {
			f, err := os.Open(p)
			if err != nil {
				continue
			}
			info, err := f.Stat()
			if err != nil || !info.Mode().IsRegular() {
				f.Close()
				continue
			}
			scanned++
			total += info.Size()
			got, err := e.ScanFile(context.Background(), strings.TrimPrefix(p, "/"), info.Size(), f)
			f.Close()
			if err != nil {
				t.Logf("%s: %v", p, err)
			}
			for _, g := range got {
				counts[g.ID]++
				if forbidden[g.ID] {
					t.Errorf("%s: %s %s", p, g.ID, g.Message)
				} else if testing.Verbose() {
					t.Logf("allowed: %s %s", g.ID, g.Message)
				}
			}
		}
	}
	if scanned < 300 && !testing.Short() {
		t.Fatalf("only %d files scanned", scanned)
	}
	t.Logf("%d files, %d MiB; findings by ID: %v", scanned, total>>20, counts)
}

// sample walks root (up to 50,000 entries) and returns n regular files
// spread evenly over it, leaving out empty and huge ones.
func sample(root string, n int) []string {
	var all []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || len(all) >= 50_000 {
			return nil
		}
		if d.Type().IsRegular() && !strings.Contains(p, "davy") {
			if info, err := d.Info(); err == nil && info.Size() > 0 && info.Size() < 64<<20 {
				all = append(all, p)
			}
		}
		return nil
	})
	if len(all) <= n {
		return all
	}
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, all[i*len(all)/n])
	}
	return out
}
