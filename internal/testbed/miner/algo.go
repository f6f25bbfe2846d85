// Package miner is a CPU miner simulator for tests. It really hashes with a
// memory-hard loop, talks to a pool in the XMRig/CryptoNote dialect or in
// stratum v1, and carries the content a real XMRig build carries (RandomX
// salts, algorithm names, stratum methods, XMRig help text), so detectors
// can be tested on something that behaves like a miner even when renamed.
package miner

import "strings"

// Version and Agent mimic an XMRig 6.x release build.
const (
	Version = "6.21.0"
	Agent   = "XMRig/" + Version + " (Linux x86_64) libuv/1.44.2 gcc/12.2.0"
)

// DefaultAlgo is what XMRig mines for Monero.
const DefaultAlgo = "rx/0"

// randomxSalts are the Argon2 salts of RandomX variants, as in XMRig's
// randomx.cpp; the dataset seed uses the salt of the chosen algorithm.
var randomxSalts = map[string]string{
	"rx/0":     "RandomX\x03",
	"rx/wow":   "RandomWOW\x01",
	"rx/arq":   "RandomARQ\x01",
	"rx/graft": "RandomX-Graft\x01",
	"rx/sfx":   "RandomSFX\x01",
	"rx/yada":  "RandomXYadaCoin\x03",
}

// algoNames lists the algorithms an XMRig build sends in its login "algo" array.
var algoNames = []string{
	"rx/0", "rx/wow", "rx/arq", "rx/graft", "rx/sfx", "rx/yada",
	"cn/0", "cn/1", "cn/2", "cn/r", "cn/fast", "cn/half", "cn/xao", "cn/rto", "cn/rwz", "cn/zls", "cn/double", "cn/ccx",
	"cn-lite/0", "cn-lite/1", "cn-heavy/0", "cn-heavy/tube", "cn-heavy/xhv", "cn-pico", "cn-pico/tlo", "cn/upx2",
	"argon2/chukwa", "argon2/chukwav2", "argon2/ninja", "ghostrider",
}

// algoAliases maps long names (as in old configs) to short ids.
var algoAliases = map[string]string{
	"randomx":              "rx/0",
	"randomxmonero":        "rx/0",
	"rx/monero":            "rx/0",
	"randomwow":            "rx/wow",
	"cryptonight":          "cn/0",
	"cryptonight/0":        "cn/0",
	"cryptonight/1":        "cn/1",
	"cryptonight-monerov7": "cn/1",
	"cryptonight_v7":       "cn/1",
	"cryptonight/2":        "cn/2",
	"cryptonight/r":        "cn/r",
	"cryptonight-lite":     "cn-lite/1",
	"cryptonight-heavy":    "cn-heavy/0",
}

// coinAlgos maps --coin to the algorithm XMRig picks for it.
var coinAlgos = map[string]string{
	"monero":  "rx/0",
	"xmr":     "rx/0",
	"wownero": "rx/wow",
	"arqma":   "rx/arq",
	"graft":   "rx/graft",
	"safex":   "rx/sfx",
	"yada":    "rx/yada",
}

// normalizeAlgo returns the short id, or "" if unknown.
func normalizeAlgo(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	if v, ok := algoAliases[a]; ok {
		return v
	}
	for _, n := range algoNames {
		if n == a {
			return a
		}
	}
	return ""
}

// loginAlgos puts the configured algorithm first, as XMRig does.
func loginAlgos(first string) []string {
	out := []string{first}
	for _, n := range algoNames {
		if n != first {
			out = append(out, n)
		}
	}
	return out
}

// saltFor returns the dataset salt; non-RandomX algorithms use Monero's.
func saltFor(algo string) []byte {
	if s, ok := randomxSalts[algo]; ok {
		return []byte(s)
	}
	return []byte(randomxSalts["rx/0"])
}
