package detect

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/intel"
)

// minerLogs reads the tail of each container's log (and of a bare process's
// stdout when it goes to a file) for lines miners print: the `kubectl logs`
// step of an investigation, by machine. Evidence: DAVY-L001.
type minerLogs struct{}

func init() { Register(minerLogs{}) }

func (minerLogs) Name() string         { return "miner-logs" }
func (minerLogs) Group() finding.Group { return finding.GroupLogs }

const (
	// logTail is how much of the end of each log is read.
	logTail = 256 << 10
	// A single quoted line does not make a miner: need two distinct
	// patterns or three matching lines.
	minLogPatterns = 2
	minLogLines    = 3
)

func (d minerLogs) Detect(_ context.Context, env *Env, w *Workload) []finding.Evidence {
	var paths []string
	pid := 0
	if w.Container != nil {
		paths = containerLogPaths(env.RootFS, w.Container)
	} else {
		for _, p := range w.Processes {
			if p.Exited {
				continue
			}
			paths = append(paths, processOutputPaths(env.ProcFS, p.PID)...)
			pid = p.PID
		}
	}
	for _, path := range paths {
		data, err := readTail(path, logTail)
		if err != nil {
			env.Log.Debug("log not read", "path", path, "err", err)
			continue
		}
		names, lines, example := matchLogLines(env, data)
		if len(names) >= minLogPatterns || lines >= minLogLines {
			return []finding.Evidence{finding.New("DAVY-L001", d.Name(), pid,
				fmt.Sprintf("log shows miner output (%d lines: %s), e.g. %s", lines, strings.Join(names, ", "), quote(example)),
				map[string]string{"log": path, "patterns": strings.Join(names, ","), "lines": fmt.Sprint(lines)})}
		}
	}
	return nil
}

// matchLogLines counts log lines matching miner output patterns.
func matchLogLines(env *Env, data []byte) (names []string, lines int, example string) {
	seen := map[string]bool{}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) > 4096 {
			line = line[:4096]
		}
		if lp, ok := env.Intel.MatchLog(string(line)); ok {
			lines++
			if !seen[lp.Name] {
				seen[lp.Name] = true
				names = append(names, lp.Name)
			}
			if example == "" {
				example = strings.TrimSpace(intel.StripANSI(string(line)))
			}
		}
	}
	return names, lines, example
}
