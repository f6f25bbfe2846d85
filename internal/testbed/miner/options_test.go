package miner

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	o, err := Parse([]string{"-o", "stratum+ssl://127.0.0.1:443", "-u", "W", "-p", "pw", "--threads=3", "--duty", "0.3",
		"--donate-level=0", "--coin", "monero", "--dialect", "stratum", "-R", "2", "--cpu-affinity=0x3", "--dataset-mib", "8", "-k"})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{URL: "stratum+ssl://127.0.0.1:443", User: "W", Pass: "pw", Threads: 3, Duty: 0.3, DonateLevel: 0,
		Coin: "monero", Algo: "rx/0", Dialect: DialectStratum, RetryPause: 2 * time.Second, DatasetMiB: 8, KeepAlive: true,
		UserAgent: Agent, Yield: true, DutyPeriod: 500 * time.Millisecond, PrintTime: time.Minute, HugePages: true}
	if o != want {
		t.Fatalf("got  %+v\nwant %+v", o, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want error
	}{
		{[]string{"-h"}, flag.ErrHelp},
		{[]string{"--version"}, ErrVersion},
		{[]string{}, ErrNoPool},
		{[]string{"-o", "x:1", "--dialect", "eth"}, nil},
		{[]string{"-o", "x:1", "--algo", "sha256d"}, nil},
		{[]string{"-o", "x:1", "--duty", "2"}, nil},
	} {
		_, err := Parse(tc.args)
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%v: err %v, want %v", tc.args, err, tc.want)
		}
	}
}

func TestConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	cfg := `{"donate-level": 0, "print-time": 5, "cpu": {"enabled": true, "yield": false, "rx": [0, 1]},
	  "pools": [{"url": "off:1", "enabled": false}, {"url": "stratum+tcp://127.0.0.1:3333", "user": "WALLET", "pass": "p", "tls": true, "algo": "cryptonight/r"}],
	  "testbed": {"dialect": "stratum", "duty": 0.5, "dataset-mib": 4}}`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := Parse([]string{"-c", path, "-t", "1"})
	if err != nil {
		t.Fatal(err)
	}
	if o.URL != "stratum+tcp://127.0.0.1:3333" || o.User != "WALLET" || o.Pass != "p" || !o.TLS || o.Algo != "cn/r" ||
		o.Threads != 1 || o.Yield || o.DonateLevel != 0 || o.PrintTime != 5*time.Second ||
		o.Dialect != DialectStratum || o.Duty != 0.5 || o.DatasetMiB != 4 {
		t.Fatalf("got %+v", o)
	}
	if _, err := Parse([]string{"-c", filepath.Join(t.TempDir(), "missing.json")}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing config: %v", err)
	}
}

func TestStripMemfd(t *testing.T) {
	got := StripMemfd([]string{"--memfd", "-o", "memfd", "-memfd", "--memfd=true", "-u", "w"})
	if strings.Join(got, " ") != "-o memfd -u w" {
		t.Fatalf("got %q", got)
	}
}

func TestUsageHasXMRigHelp(t *testing.T) {
	for _, s := range []string{"--donate-level=N", "--coin=COIN", "-o, --url=URL", "-u, --user=USERNAME",
		"password for mining server", "set process affinity to CPU core(s)"} {
		if !strings.Contains(UsageText, s) {
			t.Errorf("usage lacks %q", s)
		}
	}
}

func TestParsePoolURL(t *testing.T) {
	for in, want := range map[string]string{
		"stratum+tcp://127.0.0.1:3333": "stratum+tcp://127.0.0.1:3333",
		"stratum+tls://127.0.0.1:443/": "stratum+ssl://127.0.0.1:443",
		"127.0.0.1":                    "stratum+tcp://127.0.0.1:3333",
		"[::1]:5555":                   "stratum+tcp://[::1]:5555",
	} {
		u, err := parsePoolURL(in, false)
		if err != nil || u.String() != want {
			t.Errorf("%s -> %s, %v; want %s", in, u, err, want)
		}
	}
	if _, err := parsePoolURL("http://x:1", false); err == nil {
		t.Error("http scheme accepted")
	}
}
