package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// PrometheusOptions configure a test Prometheus.
type PrometheusOptions struct {
	// ScrapeConfigs is YAML for the scrape_configs list (empty: none). Its
	// targets must be on loopback or inside the test's own namespaces.
	ScrapeConfigs string
	// ScrapeInterval is the global scrape interval ("1s" when empty).
	ScrapeInterval string
	// Host is the address to listen on (127.0.0.1 when empty); another
	// one must be an address the test itself made, such as a test
	// cluster's bridge, so that its pods can reach Prometheus.
	Host string
	// Backfill is OpenMetrics text with timestamps, written into the TSDB
	// with promtool before the server starts: minutes of history a test
	// cannot wait for.
	Backfill []byte
}

// StartPrometheus runs Debian's prometheus on a free loopback port and
// returns its base URL; it is killed by its PID when the test ends.
func StartPrometheus(t testing.TB, o PrometheusOptions) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	Need(t, err == nil, "command prometheus (Debian package prometheus)")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if len(o.Backfill) > 0 {
		promtool, err := exec.LookPath("promtool")
		Need(t, err == nil, "command promtool (Debian package prometheus)")
		in := filepath.Join(dir, "backfill.om")
		if err := os.WriteFile(in, o.Backfill, 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", in, data)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("promtool backfill: %v\n%s", err, out.String())
		}
	}
	interval := o.ScrapeInterval
	if interval == "" {
		interval = "1s"
	}
	conf := filepath.Join(dir, "prometheus.yml")
	cfg := "global:\n  scrape_interval: " + interval + "\n  evaluation_interval: " + interval + "\n"
	if o.ScrapeConfigs != "" {
		cfg += "scrape_configs:\n" + o.ScrapeConfigs
	}
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	addr := freeAddr(t, host)
	base := "http://" + addr
	startDaemon(t, "prometheus", dir, base+"/-/ready", bin,
		"--config.file="+conf,
		"--storage.tsdb.path="+data,
		"--web.listen-address="+addr,
		// Backfilled history must not be dropped as too old.
		"--storage.tsdb.retention.time=15d",
	)
	return base
}
