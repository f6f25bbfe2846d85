package minertext

import (
	"encoding/hex"
	"regexp"
	"strings"
)

// The miner vocabulary below is stored hex-encoded: davy reads executables
// for miner strings, and its own binary must not carry them in plain form.
// Comments (which never reach the binary) give the plain values.

// minerFlags are flags that only miners take; generic ones such as
// --threads or --url are left out because honest tools take them too.
var minerFlags = unhexAll(
	"2d2d646f6e6174652d6c6576656c",                 // --donate-level
	"2d2d646f6e6174652d6f7665722d70726f7879",       // --donate-over-proxy
	"2d2d72616e646f6d782d3167622d7061676573",       // --randomx-1gb-pages
	"2d2d72616e646f6d782d6d6f6465",                 // --randomx-mode
	"2d2d72616e646f6d782d6e6f2d6e756d61",           // --randomx-no-numa
	"2d2d72616e646f6d782d77726d7372",               // --randomx-wrmsr
	"2d2d72616e646f6d782d6e6f2d72646d7372",         // --randomx-no-rdmsr
	"2d2d6370752d7072696f72697479",                 // --cpu-priority
	"2d2d6370752d6d61782d746872656164732d68696e74", // --cpu-max-threads-hint
	"2d2d6d61782d6370752d7573616765",               // --max-cpu-usage
	"2d2d6e69636568617368",                         // --nicehash
	"2d2d7269672d6964",                             // --rig-id
	"2d2d746c732d66696e6765727072696e74",           // --tls-fingerprint
	"2d2d636f696e",                                 // --coin
	"2d2d6370752d616666696e697479",                 // --cpu-affinity
	"2d2d637564612d64657669636573",                 // --cuda-devices
	"2d2d6f70656e636c2d64657669636573",             // --opencl-devices
	"2d2d6e6f2d687567652d7061676573",               // --no-huge-pages
	"2d2d61736d",                                   // --asm
	"2d2d62656e63686d61726b2d616c676f",             // --benchmark-algo
)

// algoRe matches mining algorithm IDs passed with -a/--algo.
var algoRe = regexp.MustCompile("(?i)^(" + strings.Join(regexpQuoteAll(unhexAll(
	"72782f",                 // rx/
	"636e2f",                 // cn/
	"636e2d",                 // cn-
	"63727970746f6e69676874", // cryptonight
	"72616e646f6d78",         // randomx
	"6172676f6e322f",         // argon2/
	"617374726f627774",       // astrobwt
	"6b6177706f77",           // kawpow
	"657468617368",           // ethash
	"65746368617368",         // etchash
	"6175746f6c796b6f73",     // autolykos
	"67686f73747269646572",   // ghostrider
	"6571756968617368",       // equihash
	"78313672",               // x16r
	"7965736372797074",       // yescrypt
	"736372797074",           // scrypt
	"73686132353664",         // sha256d
	"6c79726132",             // lyra2
)), "|") + ")")

func unhexAll(hexes ...string) []string {
	out := make([]string, len(hexes))
	for i, h := range hexes {
		b, err := hex.DecodeString(h)
		if err != nil {
			panic("detect: bad hex in vocabulary: " + h)
		}
		out[i] = string(b)
	}
	return out
}

func regexpQuoteAll(s []string) []string {
	for i := range s {
		s[i] = regexp.QuoteMeta(s[i])
	}
	return s
}
