package detect

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/davyproject/davy/internal/content"
	"github.com/davyproject/davy/internal/filescan"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/intel"
)

// EnvOptions configure NewEnv.
type EnvOptions struct {
	ProcFS   string // e.g. /proc or /host/proc
	RootFS   string // the host's root as davy sees it, for log directories
	IntelDir string // the user's extra indicator files ("" for none)
	CacheDir string // where executable scan results persist ("" for memory only)
	Log      *slog.Logger
}

// Env is what detectors may read besides the workload itself. One Env
// serves one or many scans; its caches make later scans cheaper.
type Env struct {
	ProcFS   string
	RootFS   string
	Snapshot *host.Snapshot
	Log      *slog.Logger
	Intel    *intel.Intel
	// Files is the file engine shared with image scans; Content is its
	// content scanner.
	Files   *filescan.Engine
	Content *content.Scanner
	// Wire, when set, is what a network watcher attributed to workloads.
	Wire Wire

	exes    *exeCache
	configs sync.Map // pid -> []configFile, shared by the config and endpoint detectors
}

// NewEnv loads intel and compiles the file engine.
func NewEnv(opts EnvOptions) (*Env, error) {
	if opts.ProcFS == "" {
		opts.ProcFS = "/proc"
	}
	if opts.RootFS == "" {
		opts.RootFS = "/"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	in, err := intel.Load(opts.IntelDir)
	if err != nil {
		return nil, fmt.Errorf("loading intel: %w", err)
	}
	fe, err := filescan.New(in, filescan.Options{})
	if err != nil {
		return nil, fmt.Errorf("compiling the file engine: %w", err)
	}
	env := &Env{ProcFS: opts.ProcFS, RootFS: opts.RootFS, Log: opts.Log, Intel: in, Files: fe, Content: fe.Content()}
	env.exes = openExeCache(opts.CacheDir, fe, opts.Log)
	return env, nil
}

// ResetScan forgets per-snapshot state so the Env can serve another scan.
func (e *Env) ResetScan() {
	e.configs.Clear()
}

// Close saves the executable cache.
func (e *Env) Close() error {
	return e.exes.save()
}

// Forget drops what the Env cached about process pid (it exited, or ran a
// new program), so that a reused PID does not inherit it.
func (e *Env) Forget(pid int) {
	e.configs.Delete(pid)
}
