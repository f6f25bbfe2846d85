package detect

import (
	"context"
	"strings"

	"github.com/davyproject/davy/internal/finding"
)

// exeLocation flags executables that run from places honest software is not
// installed in: temporary directories, deleted files and memfds.
// Evidence: DAVY-P001, DAVY-P002, DAVY-P004.
type exeLocation struct{}

func init() { Register(exeLocation{}) }

func (exeLocation) Name() string         { return "exe-location" }
func (exeLocation) Group() finding.Group { return finding.GroupLocation }

// tempDirs are world-writable directories droppers use because any user can
// write and execute there.
var tempDirs = []string{"/tmp/", "/dev/shm/", "/var/tmp/", "/dev/mqueue/", "/run/shm/"}

func (d exeLocation) Detect(_ context.Context, _ *Env, w *Workload) []finding.Evidence {
	var out []finding.Evidence
	for _, p := range w.Processes {
		vals := map[string]string{"exe": p.Exe}
		switch {
		case p.ExeMemfd:
			out = append(out, finding.New("DAVY-P004", d.Name(), p.PID, "executable "+quote(p.Exe)+" is an anonymous memory file", vals))
		case p.ExeDeleted:
			out = append(out, finding.New("DAVY-P002", d.Name(), p.PID, "executable "+quote(p.Exe)+" was deleted after it started", vals))
		}
		if !p.ExeMemfd && inTempDir(p.Exe) {
			out = append(out, finding.New("DAVY-P001", d.Name(), p.PID, "executable runs from a temporary directory: "+quote(p.Exe), vals))
		}
	}
	return out
}

func inTempDir(exe string) bool {
	for _, dir := range tempDirs {
		if strings.HasPrefix(exe, dir) {
			return true
		}
	}
	return false
}
