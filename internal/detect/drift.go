package detect

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/davyproject/davy/internal/finding"
)

// drift flags a container process whose executable is not part of the
// container's image: on an overlay root, a file written or changed after
// the container started lives in the upper (writable) layer, and the image
// never shipped it. A miner dropped into a running container by an exposed
// API or a compromised application shows exactly this.
// Evidence: DAVY-D001.
type drift struct{}

func init() { Register(drift{}) }

func (drift) Name() string         { return "drift" }
func (drift) Group() finding.Group { return finding.GroupLocation }

// maxMountinfo bounds the read of /proc/PID/mountinfo: a few hundred
// mounts at most in a container.
const maxMountinfo = 256 << 10

func (d drift) Detect(_ context.Context, env *Env, w *Workload) []finding.Evidence {
	if w.Container == nil {
		return nil
	}
	var out []finding.Evidence
	for _, p := range w.Processes {
		if p.Exited || p.ExeMemfd || p.Exe == "" || !filepath.IsAbs(p.Exe) {
			continue // memfd and deleted executables have their own evidence
		}
		upper := rootUpperDir(filepath.Join(env.ProcFS, strconv.Itoa(p.PID), "mountinfo"))
		if upper == "" {
			continue // not an overlay root: nothing to tell the image from later writes
		}
		inUpper := filepath.Join(env.RootFS, upper, p.Exe)
		fi, err := os.Lstat(inUpper)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, finding.New("DAVY-D001", d.Name(), p.PID,
			"executable "+quote(p.Exe)+" is not part of the container's image: it was written or changed in the container's writable layer",
			map[string]string{"exe": p.Exe, "upper_dir": upper}))
	}
	return out
}

// rootUpperDir returns the upperdir of the overlay mounted at "/" in the
// mountinfo file, or "".
func rootUpperDir(mountinfo string) string {
	f, err := os.Open(mountinfo)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMountinfo))
	if err != nil {
		return ""
	}
	return parseRootUpperDir(data)
}

// parseRootUpperDir reads mountinfo lines: "ID PARENT MAJ:MIN ROOT MOUNTPOINT
// OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS". The last mount at
// "/" wins, as it does in the kernel's view.
func parseRootUpperDir(data []byte) string {
	upper := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[4] != "/" {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(f) {
			continue
		}
		if f[sep+1] != "overlay" {
			upper = ""
			continue
		}
		upper = ""
		for _, opt := range strings.Split(f[sep+3], ",") {
			if v, ok := strings.CutPrefix(opt, "upperdir="); ok && filepath.IsAbs(v) {
				upper = unescapeMount(v)
			}
		}
	}
	return upper
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space) in
// mountinfo paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
