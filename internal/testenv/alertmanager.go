package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// amConfig routes every alert to a receiver with no integrations, so the
// test Alertmanager never sends anything anywhere.
const amConfig = `route:
  receiver: blackhole
receivers:
  - name: blackhole
`

// StartAlertmanager runs Debian's prometheus-alertmanager on a free
// loopback port, with clustering off (it would bind 0.0.0.0:9094), and
// returns its base URL. The process is killed, by its PID, and waited for
// when the test ends; the package's own service is never used.
func StartAlertmanager(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		// Upstream's binary name, for machines that are not Debian.
		bin, err = exec.LookPath("alertmanager")
	}
	Need(t, err == nil, "command prometheus-alertmanager (Debian package prometheus-alertmanager)")

	addr := freeLoopbackAddr(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(conf, []byte(amConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	startDaemon(t, "alertmanager", dir, base+"/-/ready", bin,
		"--config.file="+conf,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
	)
	return base
}
