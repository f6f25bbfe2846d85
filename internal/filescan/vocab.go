package filescan

import (
	"encoding/hex"
	"strings"

	"github.com/davyproject/davy/internal/content"
)

// Miner words are stored hex-encoded: davy reads executables for miner
// strings, and its own binary must not carry them in plain form. Comments
// (which never reach the binary) give the plain values.

// minerTerms are substrings that name miners, their pools or their
// campaigns in a kill command, a grep pattern or a cron cleanup. Matched
// case-insensitively.
var minerTerms = unhexAll(
	"786d72",                 // xmr
	"6d696e6572",             // miner
	"7374726174756d",         // stratum
	"63727970746f6e69676874", // cryptonight
	"6b646576746d706673",     // kdevtmpfs
	"6b696e73696e67",         // kinsing
	"6d6f6e65726f",           // monero
	"6e69636568617368",       // nicehash
	"6333706f6f6c",           // c3pool
	"737570706f7274786d72",   // supportxmr
	"6e616e6f706f6f6c",       // nanopool
	"686173687661756c74",     // hashvault
	"6b7468726561646469",     // kthreaddi
)

// minerFlagStems start the long flags only miners take (the full list is
// minertext's); they decide which lines are worth a command-line parse.
var minerFlagStems = unhexAll(
	"2d2d646f6e617465",                   // --donate
	"2d2d72616e646f6d78",                 // --randomx
	"2d2d6370752d7072696f72697479",       // --cpu-priority
	"2d2d6370752d6d6178",                 // --cpu-max
	"2d2d6d61782d637075",                 // --max-cpu
	"2d2d6e69636568617368",               // --nicehash
	"2d2d7269672d6964",                   // --rig-id
	"2d2d746c732d66696e6765727072696e74", // --tls-fingerprint
	"2d2d636f696e",                       // --coin
	"2d2d6370752d616666696e697479",       // --cpu-affinity
	"2d2d63756461",                       // --cuda
	"2d2d6f70656e636c",                   // --opencl
	"2d2d6e6f2d68756765",                 // --no-huge
	"2d2d61736d",                         // --asm
	"2d2d62656e63686d61726b",             // --benchmark
	"2d2d616c676f",                       // --algo
)

// weakFlags are miner flags that some honest tools share (x265's --asm,
// systemd-nspawn's --cpu-affinity): one of them alone on a script line is
// not a miner command.
var weakFlags = unhexAll(
	"2d2d61736d",                       // --asm
	"2d2d6370752d616666696e697479",     // --cpu-affinity
	"2d2d636f696e",                     // --coin
	"2d2d637564612d64657669636573",     // --cuda-devices
	"2d2d6f70656e636c2d64657669636573", // --opencl-devices
	"2d2d6e6f2d687567652d7061676573",   // --no-huge-pages
)

var (
	stratumWords = unhexAll("7374726174756d", "5374726174756d", "5354524154554d") // stratum, Stratum, STRATUM
	oneGBPages   = unhexAll("3167622d7061676573")                                 // 1gb-pages
)

func unhexAll(hexes ...string) []string {
	out := make([]string, len(hexes))
	for i, h := range hexes {
		b, err := hex.DecodeString(h)
		if err != nil {
			panic("filescan: bad hex in vocabulary: " + h)
		}
		out[i] = string(b)
	}
	return out
}

// Keyword classes found in one pass over a text by the keyword matcher.
// A line's rules run only when its class bits say they can match, so most
// lines of a long text cost one automaton step per byte and nothing else.
const (
	kwDownload  uint32 = 1 << iota // a download tool or API
	kwURL                          // a URL scheme
	kwCron                         // crontab, /etc/cron*, /var/spool/cron
	kwKill                         // kill, pkill, killall
	kwHuge                         // huge pages settings
	kwMSR                          // model-specific registers
	kwPreload                      // /etc/ld.so.preload
	kwChattr                       // chattr
	kwBase64                       // base64 decoding
	kwSecurity                     // SELinux, AppArmor, firewall, watchdog
	kwStratum                      // the stratum scheme word
	kwMinerFlag                    // a miner-only flag stem or -a
	kwPoolFlag                     // -o, --url, --pool
	kwUserFlag                     // -u, --user, --wallet
	kwChmod                        // chmod
	kwMinerTerm                    // a miner word anywhere (co-signal for huge pages)
	kwPoolKey                      // a config key that can name a pool (pool, url, server)
)

// keywords returns the keyword patterns and the class of each.
func keywords() ([][]byte, []uint32) {
	var pats [][]byte
	var bits []uint32
	add := func(bit uint32, words ...string) {
		for _, w := range words {
			pats = append(pats, []byte(w))
			bits = append(bits, bit)
		}
	}
	add(kwDownload, "curl", "wget", "fetch", "tftp", "urllib", "urlopen", "urlretrieve", "requests.get",
		"LWP::", "getstore", "lwp-download", "aria2c", "/dev/tcp/")
	add(kwURL, "http://", "https://", "ftp://", "HTTP://", "HTTPS://")
	add(kwCron, "cron")
	add(kwKill, "kill")
	add(kwHuge, "hugepages")
	add(kwMSR, "msr")
	add(kwPreload, "ld.so.preload")
	add(kwChattr, "chattr")
	add(kwBase64, "base64", "b64decode")
	add(kwSecurity, "setenforce", "selinux", "SELINUX", "ufw", "apparmor", "nmi_watchdog", "firewalld")
	add(kwStratum, stratumWords...)
	add(kwMinerFlag, minerFlagStems...)
	add(kwMinerFlag, "-a")
	add(kwPoolFlag, "-o", "--url", "--pool", "-P")
	add(kwUserFlag, "-u", "--user", "--wallet", "-w", "-O")
	add(kwChmod, "chmod")
	for _, k := range []string{"pool", "url", "server"} {
		add(kwPoolKey, k, strings.ToUpper(k[:1])+k[1:], strings.ToUpper(k))
	}
	for _, t := range minerTerms {
		add(kwMinerTerm, t, strings.ToUpper(t[:1])+t[1:], strings.ToUpper(t))
	}
	return pats, bits
}

// keywordMatcher compiles keywords; duplicates are fine (each reports).
func keywordMatcher() (*content.Matcher, []uint32, error) {
	pats, bits := keywords()
	m, err := content.NewMatcher(pats)
	return m, bits, err
}

// isMinerTerm reports whether a word names a miner, a pool or a miner
// campaign: it holds a miner word, is a known miner name, or is a known pool
// domain.
func (e *Engine) isMinerTerm(w string) bool {
	w = strings.Trim(stripRegexMeta(w), `'".(){}|/`)
	if len(w) < 3 {
		return false
	}
	lw := strings.ToLower(w)
	for _, t := range minerTerms {
		if strings.Contains(lw, t) {
			return true
		}
	}
	if _, ok := e.in.MinerName(lw); ok {
		return true
	}
	if strings.Contains(lw, ".") {
		if _, ok := e.in.PoolDomain(lw); ok {
			return true
		}
	}
	return false
}

// stripRegexMeta drops the characters grep patterns use to hide a word from
// their own process listing ("[k]devtmpfsi", "xmr\\|minerd").
func stripRegexMeta(w string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '[', ']', '^', '$', '*', '\\', '?', '+':
			return -1
		}
		return r
	}, w)
}
