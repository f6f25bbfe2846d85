package detect

import (
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/minertext"
)

// configFile is one miner-config candidate a process can read.
type configFile struct {
	Name  string // as the process names it
	Data  []byte
	Facts minertext.ConfigFacts
}

// defaultConfigNames are files miners read, when started without
// arguments, from beside their executable (XMRig's default) or the working
// directory.
var defaultConfigNames = []string{"config.json", "pools.txt", "epools.txt", "config.ini", "config.txt"}

// maxConfigCandidates bounds the files read for one process.
const maxConfigCandidates = 16

// processConfigs reads, once per scan, the config files a process names on
// its command line and the default-named ones beside its executable. The
// working directory counts only when the executable sits in it: an honest
// tool run from a directory that happens to hold a miner's config.json must
// not inherit it.
func (e *Env) processConfigs(p *host.Process) []configFile {
	if p.Exited {
		return nil // its root and cwd went with it
	}
	if v, ok := e.configs.Load(p.PID); ok {
		return v.([]configFile)
	}
	var names []string
	names = append(names, minertext.ParseCmdline(p.Cmdline).Configs...)
	for i, a := range p.Cmdline {
		if i > 0 && len(names) < maxConfigCandidates && looksLikeConfigArg(a) {
			names = minertext.AppendLimited(names, a)
		}
	}
	if dir := exeDir(p); dir != "" {
		for _, n := range defaultConfigNames {
			names = append(names, path.Join(dir, n))
		}
	}
	var out []configFile
	seen := map[string]bool{}
	files := map[[2]uint64]bool{} // (device, inode) read: "-c config.json" and the default may be one file
	for _, n := range names {
		if len(seen) >= maxConfigCandidates || seen[n] || n == "" || len(n) > 4096 {
			continue
		}
		seen[n] = true
		pp := procPath(e.ProcFS, p.PID, n)
		if st, err := os.Stat(pp); err != nil {
			continue
		} else if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			id := [2]uint64{uint64(sys.Dev), sys.Ino}
			if files[id] {
				continue
			}
			files[id] = true
		}
		data, err := readHead(pp, minertext.MaxConfigBytes)
		if err != nil || len(data) == 0 {
			continue
		}
		out = append(out, configFile{Name: n, Data: data, Facts: minertext.ParseConfig(data)})
	}
	e.configs.Store(p.PID, out)
	return out
}

// looksLikeConfigArg picks positional arguments that may be config files,
// e.g. "xmr-stak pools.txt" or "--config=/etc/x.json".
func looksLikeConfigArg(a string) bool {
	if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
		a = v
	}
	switch path.Ext(a) {
	case ".json", ".txt", ".ini", ".conf", ".cfg":
		return true
	}
	return false
}

// exeDir is the directory of a process's executable as the process sees it,
// or "" when the executable has no directory on disk (memfd, deleted).
func exeDir(p *host.Process) string {
	if p.Exe == "" || p.ExeMemfd || p.ExeDeleted || !path.IsAbs(p.Exe) {
		return ""
	}
	return path.Dir(p.Exe)
}
