package detect

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/davyproject/davy/internal/content"
	"github.com/davyproject/davy/internal/finding"
)

// exeContent reads each running executable through /proc/PID/exe (so
// deleted, memfd and in-container binaries are read too) and matches miner
// content; renaming a file does not change it.
// Evidence: DAVY-I001, DAVY-I002, DAVY-I003, DAVY-I004.
type exeContent struct{}

func init() { Register(exeContent{}) }

func (exeContent) Name() string         { return "exe-content" }
func (exeContent) Group() finding.Group { return finding.GroupIdentity }

func (d exeContent) Detect(ctx context.Context, env *Env, w *Workload) []finding.Evidence {
	var out []finding.Evidence
	seen := map[string]bool{}
	for _, p := range w.Processes {
		if ctx.Err() != nil {
			break
		}
		if p.Exe == "" {
			continue
		}
		key := exeKey(p.ExeFile)
		if p.ExeFile.Inode != 0 && seen[key] {
			continue
		}
		seen[key] = true
		exePath := filepath.Join(env.ProcFS, strconv.Itoa(p.PID), "exe")
		res, err := env.exes.scan(env.Content, p.ExeFile, func() (io.ReadCloser, error) {
			f, _, err := openRegular(exePath)
			return f, err
		})
		if err != nil {
			env.Log.Debug("executable not scanned", "pid", p.PID, "exe", p.Exe, "err", err)
			continue
		}
		out = append(out, d.judge(env, p.PID, p.Exe, res)...)
	}
	return out
}

func (d exeContent) judge(env *Env, pid int, exe string, res content.Result) []finding.Evidence {
	var out []finding.Evidence
	vals := map[string]string{"exe": exe, "sha256": res.SHA256, "indicators": res.Summary()}
	if res.Truncated {
		vals["truncated_at"] = strconv.FormatInt(res.BytesRead, 10)
	} else if e, ok := env.Intel.ReleaseHash(res.SHA256); ok {
		out = append(out, finding.New("DAVY-I002", d.Name(), pid,
			"executable "+quote(exe)+" is a known miner release ("+e.Note+", "+e.Source+")", vals))
	}
	switch res.Classify() {
	case content.Miner:
		out = append(out, finding.New("DAVY-I001", d.Name(), pid,
			"executable "+quote(exe)+" matches miner content: "+brief(res), vals))
	case content.Partial:
		out = append(out, finding.New("DAVY-I003", d.Name(), pid,
			"executable "+quote(exe)+" has some miner indicators: "+brief(res), vals))
	}
	if res.UPX {
		out = append(out, finding.New("DAVY-I004", d.Name(), pid, "executable "+quote(exe)+" is UPX-packed", vals))
	}
	return out
}

// briefNames is how many indicator names per category a message shows; the
// evidence's "indicators" value has them all.
const briefNames = 2

// brief summarises the hits per category for a one-line message, strong
// indicators first.
func brief(res content.Result) string {
	var parts []string
	by := map[string][]string{}
	for _, weak := range []bool{false, true} {
		for _, h := range res.Hits {
			if h.Weak == weak {
				by[h.Category] = append(by[h.Category], h.Name)
			}
		}
	}
	for _, c := range content.Categories {
		names := by[c]
		if len(names) == 0 {
			continue
		}
		s := c + ": " + strings.Join(names[:min(len(names), briefNames)], ", ")
		if len(names) > briefNames {
			s += fmt.Sprintf(" (+%d)", len(names)-briefNames)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
