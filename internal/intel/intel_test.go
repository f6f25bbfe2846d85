package intel

import (
	"bytes"
	"slices"
	"testing"

	"github.com/davyproject/davy/internal/content"
)

func mustLoad(t testing.TB, dir string) *Intel {
	t.Helper()
	in, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestEmbeddedCounts(t *testing.T) {
	c := mustLoad(t, "").Counts()
	if c.PoolDomains < 30 || c.MinerNames < 20 || c.PoolPorts < 10 || c.ReleaseHashes < 40 || c.LogPatterns < 10 || c.ContentIndicators < 60 {
		t.Fatalf("suspiciously small embedded intel: %+v", c)
	}
}

func TestPoolDomain(t *testing.T) {
	in := mustLoad(t, "")
	for _, tc := range []struct {
		host  string
		want  bool
		entry string
	}{
		{"supportxmr.com", true, "supportxmr.com"},
		{"pool.supportxmr.com", true, "supportxmr.com"},
		{"POOL.SupportXMR.com.", true, "supportxmr.com"},
		{" xmr-eu1.nanopool.org ", true, "nanopool.org"},
		{"donate.v2.xmrig.com", true, "donate.v2.xmrig.com"},
		{"pool.supportxmr.com:3333", true, "supportxmr.com"},
		{"Pool.SupportXMR.com.:443", true, "supportxmr.com"},
		{"supportxmr.com:", true, "supportxmr.com"},
		{"gulf.moneroocean.stream", true, "moneroocean.stream"},
		{"notsupportxmr.com", false, ""},          // suffix must fall on a label boundary
		{"supportxmr.com.example.org", false, ""}, // the pool name as a subdomain elsewhere
		{"xmrig.com", false, ""},                  // project site, only its pool hosts are listed
		{"pool.minexmr.com", false, ""},           // closed pool, left out
		{"node.moneroworld.com", false, ""},       // wallet nodes, not a pool
		{"com", false, ""},
		{"", false, ""},
		{".", false, ""},
	} {
		e, ok := in.PoolDomain(tc.host)
		if ok != tc.want || e.Value != tc.entry {
			t.Errorf("PoolDomain(%q) = %q, %v; want %q, %v", tc.host, e.Value, ok, tc.entry, tc.want)
		}
		if ok && e.Source == "" {
			t.Errorf("PoolDomain(%q): entry has no source", tc.host)
		}
	}
}

func TestMinerNamePortHash(t *testing.T) {
	in := mustLoad(t, "")
	for _, n := range []string{"xmrig", "XMRig", "kdevtmpfsi", "kinsing", "t-rex", "lolMiner", "phoenixminer", "srbminer-multi"} {
		if e, ok := in.MinerName(n); !ok || e.Source == "" {
			t.Errorf("MinerName(%q) = %+v, %v", n, e, ok)
		}
	}
	for _, n := range []string{"", "nginx", "xmrig2", "bash"} {
		if _, ok := in.MinerName(n); ok {
			t.Errorf("MinerName(%q) matched", n)
		}
	}
	for _, p := range []uint16{3333, 4444, 5555, 7777, 14433, 14444, 45700} {
		if !in.PoolPort(p) {
			t.Errorf("PoolPort(%d) = false", p)
		}
	}
	for _, p := range []uint16{0, 22, 25, 80, 443, 8000, 8080, 8333, 8888, 9999} {
		if in.PoolPort(p) {
			t.Errorf("PoolPort(%d) = true; noisy ports must stay out", p)
		}
	}
	const h = "FC6F8AE5F64E4F17481F7E3BE29A1C56949F216A998414188003EAE1DB20C9E5" // xmrig 6.26.0 linux-static archive
	if e, ok := in.ReleaseHash(h); !ok || e.Note == "" {
		t.Errorf("ReleaseHash(6.26.0 archive) = %+v, %v", e, ok)
	}
	if _, ok := in.ReleaseHash("00"); ok {
		t.Error("ReleaseHash matched garbage")
	}
}

func TestLogPatterns(t *testing.T) {
	in := mustLoad(t, "")
	// Lines as miners print them; xmrig's include its colour escapes.
	for _, tc := range []struct{ line, want string }{
		{"[2023-04-07 11:23:24.551]  net      \x1b[1;35mnew job\x1b[0m from \x1b[1;37mkaw.pool:5010\x1b[0m diff \x1b[1;37m43118K\x1b[0m algo \x1b[1;37mkawpow\x1b[0m height 305580", "xmrig-new-job"},
		{"[2021-07-05 12:25:15.101]  cpu      \x1b[1;32maccepted\x1b[0m (1/0) diff \x1b[1;37m120001\x1b[0m \x1b[1;30m(52 ms)\x1b[0m", "xmrig-accepted"},
		{"[2019-08-04 11:01:39.776] speed 10s/60s/15m 1632.5 n/a n/a H/s max 1644.0 H/s", "xmrig-speed"},
		{"[2021-12-07 20:14:36.286]  randomx  init dataset algo rx/0 (20 threads) seed 72e85eed124de1b5...", "xmrig-randomx-init"},
		{"[2021-12-07 20:14:36.285]  msr      FAILED TO APPLY MSR MOD, HASHRATE WILL BE LOW", "xmrig-msr-failed"},
		{"[2024-01-01 00:00:00.000]  net      use pool pool.supportxmr.com:443 TLSv1.3 192.0.2.4", "xmrig-use-pool"},
		{"[2024-12-18 12:34:57] accepted: 1/1 (100.00%), 90.0 khash/s (yay!!!)", "cpuminer-accepted"},
		{"[2024-12-18 12:34:56] thread 1: 123456 hashes, 44.8 khash/s", "cpuminer-thread-rate"},
		{"m kawpowminer Speed 20.00 Mh/s gpu0 [A5+0:R0+0:F0]", "ethminer-speed"},
		{"Average speed (30s): 19.08 mh/s", "lolminer-average"},
		{"GPU 3: Share accepted (45 ms)", "lolminer-share"},
		{"GET /healthz 200 3ms", ""},
		{"accepted connection from 10.0.0.1", ""},
	} {
		p, ok := in.MatchLog(tc.line)
		if tc.want == "" {
			if ok {
				t.Errorf("%q matched %s", tc.line, p.Name)
			}
			continue
		}
		if !ok || p.Name != tc.want {
			t.Errorf("%q: got %q (%v), want %s", tc.line, p.Name, ok, tc.want)
		}
		if ok && !p.Match(tc.line) {
			t.Errorf("%s.Match disagrees with MatchLog", p.Name)
		}
	}
}

func TestStripANSI(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                      "plain",
		"\x1b[1;35mnew job\x1b[0m x": "new job x",
		"a\x1b(Bb":                   "aBb",
		"trailing\x1b":               "trailing",
		"open\x1b[12":                "open",
	} {
		if got := StripANSI(in); got != want {
			t.Errorf("StripANSI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContentIndicators(t *testing.T) {
	in := mustLoad(t, "")
	inds := in.ContentIndicators()
	byName := map[string]content.Indicator{}
	cats := map[string]int{}
	for _, ind := range inds {
		if ind.Source == "" {
			t.Errorf("%s has no source", ind.Name)
		}
		byName[ind.Name] = ind
		cats[ind.Category]++
	}
	for _, c := range content.Categories {
		if cats[c] == 0 {
			t.Errorf("no %s indicators", c)
		}
	}
	// Decoding works (test code may hold the plain bytes).
	for name, want := range map[string]string{
		"randomx-salt-monero": "RandomX\x03",
		"method-subscribe":    "mining.subscribe",
		"upx-magic":           "UPX!",
		"xmrig-donate-host":   "donate.v2.xmrig.com\x00",
	} {
		if got := string(byName[name].Pattern); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !byName["method-KEEPALIVED"].Weak || byName["method-subscribe"].Weak {
		t.Error("strength column not applied")
	}
	// The copy is the caller's to modify.
	inds[0].Pattern[0] ^= 0xff
	if bytes.Equal(in.ContentIndicators()[0].Pattern, inds[0].Pattern) {
		t.Error("ContentIndicators shares pattern memory")
	}
	if _, err := content.NewScanner(in.ContentIndicators(), content.Options{}); err != nil {
		t.Fatalf("embedded indicators do not compile: %v", err)
	}
}

// TestClassifyLikeMiners builds files shaped like real miner and honest
// binaries from the embedded indicators and checks the verdicts.
func TestClassifyLikeMiners(t *testing.T) {
	in := mustLoad(t, "")
	sc, err := content.NewScanner(in.ContentIndicators(), content.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pat := map[string][]byte{}
	for _, ind := range in.ContentIndicators() {
		pat[ind.Name] = ind.Pattern
	}
	build := func(names ...string) []byte {
		var b bytes.Buffer
		b.WriteString("\x7fELF")
		for _, n := range names {
			if pat[n] == nil {
				t.Fatalf("no indicator %s", n)
			}
			b.Write(bytes.Repeat([]byte{0}, 17))
			b.Write(pat[n])
		}
		return b.Bytes()
	}
	for _, tc := range []struct {
		name  string
		names []string
		want  content.Class
	}{
		{"xmrig", []string{"randomx-salt-monero", "algo-id-rx-0", "url-stratum-tcp", "xmrig-help-password", "xmrig-flag-donate-level", "xmrig-donate-host", "method-KEEPALIVED"}, content.Miner},
		{"xmrig with renamed banners", []string{"randomx-salt-monero", "algo-id-rx-0", "url-stratum-tcp", "method-subscribe"}, content.Miner},
		{"cpuminer", []string{"url-stratum-tcp", "method-subscribe", "cpuminer-user-agent", "cpuminer-merkle"}, content.Miner},
		{"kinsing", []string{"kinsing-backconnect", "kinsing-masscan", "kinsing-redis-brute", "kinsing-rc4"}, content.Miner},
		{"monero wallet", []string{"randomx-salt-monero", "algo-name-CryptoNight"}, content.Partial},
		{"keepalived daemon", []string{"method-KEEPALIVED"}, content.None},
		{"geth", []string{"algo-name-Ethash"}, content.None},
		{"upx-packed anything", []string{"upx-magic", "upx-notice"}, content.None},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := sc.Scan(bytes.NewReader(build(tc.names...)))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Classify(); got != tc.want {
				t.Fatalf("Classify = %v, want %v (hits %s)", got, tc.want, res.Summary())
			}
			for _, n := range tc.names {
				if !slices.Contains(res.Names(), n) {
					t.Errorf("missing hit %s", n)
				}
			}
		})
	}
}
