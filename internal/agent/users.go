package agent

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits on the host's /etc/passwd as read for user.name.
const (
	maxPasswdBytes = 4 << 20
	maxUsers       = 100_000
)

// users maps UIDs to names from the host's /etc/passwd (under RootFS, not
// the agent's own container), re-read when the file changes.
type users struct {
	path  string
	mu    sync.Mutex
	mtime time.Time
	size  int64
	names map[int]string
}

func newUsers(rootFS string) *users {
	return &users{path: filepath.Join(rootFS, "etc", "passwd")}
}

// name returns the user name of uid, or "" when unknown.
func (u *users) name(uid int) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if fi, err := os.Stat(u.path); err == nil && (!fi.ModTime().Equal(u.mtime) || fi.Size() != u.size) {
		u.mtime, u.size = fi.ModTime(), fi.Size()
		u.names = readPasswd(u.path)
	}
	return u.names[uid]
}

func readPasswd(path string) map[int]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPasswdBytes))
	if err != nil {
		return nil
	}
	return parsePasswd(data)
}

// parsePasswd reads name:x:uid:... lines; malformed lines are skipped.
func parsePasswd(data []byte) map[int]string {
	out := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() && len(out) < maxUsers {
		f := strings.SplitN(sc.Text(), ":", 4)
		if len(f) < 4 || f[0] == "" || strings.HasPrefix(f[0], "#") {
			continue
		}
		uid, err := strconv.Atoi(f[2])
		if err != nil || uid < 0 {
			continue
		}
		if _, dup := out[uid]; !dup {
			out[uid] = f[0]
		}
	}
	return out
}
