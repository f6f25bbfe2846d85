package content

import (
	"bytes"
	"testing"
)

func hit(name, cat string, weak bool) Hit { return Hit{Name: name, Category: cat, Weak: weak} }

func TestClassify(t *testing.T) {
	var (
		salt      = hit("randomx-salt", CategoryAlgorithm, false)
		algoName  = hit("rx0", CategoryAlgorithm, false)
		cnWord    = hit("cryptonight-word", CategoryAlgorithm, true)
		subscribe = hit("mining-subscribe", CategoryStratum, false)
		tcpURL    = hit("stratum-tcp", CategoryStratum, false)
		keepalive = hit("keepalived", CategoryStratum, true)
		help      = hit("help-password", CategoryBanner, false)
		donate    = hit("donate-level", CategoryBanner, false)
		ua        = hit("cpuminer-ua", CategoryBanner, false)
		affinity  = hit("cpu-affinity", CategoryBanner, true)
		upx       = hit("upx", CategoryPacker, false)
		d1        = hit("kinsing-backconnect", CategoryDropper, false)
		d2        = hit("kinsing-masscan", CategoryDropper, false)
		d3        = hit("kinsing-redisbrute", CategoryDropper, false)
	)
	for _, tc := range []struct {
		name string
		hits []Hit
		want Class
	}{
		// Real miners.
		{"xmrig 6 build", []Hit{salt, algoName, cnWord, subscribe, tcpURL, keepalive, help, donate}, Miner},
		{"xmrig with banner strings renamed", []Hit{salt, algoName, tcpURL}, Miner},
		{"xmrig stripped to algorithm + help", []Hit{salt, help}, Miner},
		{"cpuminer: no randomx, banners + stratum", []Hit{subscribe, tcpURL, ua, help}, Miner},
		{"two banners and a stratum url", []Hit{help, donate, tcpURL}, Miner},
		{"kinsing dropper", []Hit{d1, d2, d3}, Miner},
		{"weak algorithm + two strong", []Hit{cnWord, tcpURL, subscribe}, Miner},

		// Honest or inconclusive content.
		{"nothing", nil, None},
		{"aes/keccak library has no indicators", nil, None},
		{"word cryptonight alone", []Hit{cnWord}, None},
		{"keepalived daemon", []Hit{keepalive}, None},
		{"upx packed binary", []Hit{upx}, None},
		{"two weak words", []Hit{cnWord, keepalive}, Partial},
		{"weak combo lacks strong support", []Hit{cnWord, keepalive, affinity}, Partial},
		{"one weak + one strong across categories", []Hit{cnWord, tcpURL}, Partial},
		{"monero wallet: salt only", []Hit{salt, cnWord}, Partial},
		{"pool server: stratum only", []Hit{subscribe, tcpURL, keepalive}, Partial},
		{"one banner + one stratum", []Hit{help, tcpURL}, Partial},
		{"two banners, no stratum", []Hit{help, donate}, Partial},
		{"two dropper symbols", []Hit{d1, d2}, Partial},
		{"upx + weak word", []Hit{upx, cnWord}, None},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Result{Hits: tc.hits}).Classify(); got != tc.want {
				t.Fatalf("Classify() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestResultHelpers(t *testing.T) {
	s := newTestScanner(t, Options{})
	res, err := s.Scan(bytes.NewReader([]byte("mining.subscribe RandomX\x03 UPX! --donate-level")))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Summary(), "algorithm: salt; stratum: subscribe; banner: donate; packer: upx"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if got := res.Names(); len(got) != 4 || got[0] != "salt" {
		t.Errorf("Names() = %v", got)
	}
	if res.Classify() != Miner {
		t.Errorf("Classify() = %v", res.Classify())
	}
	if Miner.String() != "miner" || Partial.String() != "partial" || None.String() != "none" {
		t.Error("Class.String")
	}
}
