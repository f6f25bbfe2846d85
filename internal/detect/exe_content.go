package detect

import (
	"context"
	"io"
	"path/filepath"
	"strconv"

	"github.com/davyproject/davy/internal/finding"
)

// exeContent reads each running executable through /proc/PID/exe (so
// deleted, memfd and in-container binaries are read too) and matches miner
// content with the file engine image scans use; renaming a file does not
// change it.
// Evidence: DAVY-I001, DAVY-I002, DAVY-I003, DAVY-I004, DAVY-I005.
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
		if p.Exited {
			// Its PID may already name another process: read the file it ran.
			exePath = filepath.Join(env.RootFS, p.Exe)
		}
		res, err := env.exes.scan(env.Files, p.ExeFile, func() (io.ReadCloser, error) {
			f, _, err := openRegular(exePath)
			return f, err
		})
		if err != nil {
			env.Log.Debug("executable not scanned", "pid", p.PID, "exe", p.Exe, "err", err)
			continue
		}
		if res.HeaderError != "" {
			env.Log.Debug("executable has corrupt ELF headers", "pid", p.PID, "exe", p.Exe, "err", res.HeaderError)
		}
		for _, f := range env.Files.ExeFindings(p.Exe, res) {
			out = append(out, finding.New(f.ID, d.Name(), p.PID, f.Message, f.Values))
		}
	}
	return out
}
