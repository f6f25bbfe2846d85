package minertext

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// MaxConfigBytes bounds how much of a config file is read and parsed.
const MaxConfigBytes = 1 << 20

// ConfigFacts is what a (possible) miner config file says, before judgement.
type ConfigFacts struct {
	// Pools are pool endpoints from structured pool lists (XMRig "pools",
	// xmr-stak "pool_list", Claymore "POOL:" lines, INI pool keys).
	Pools []string
	// Hosts are the host names of those endpoints and of stratum URLs.
	Hosts []string
	// StratumURLs found anywhere in the text.
	StratumURLs []string
	// JSONPools is set for an XMRig/xmr-stak style JSON pool list.
	JSONPools bool
	// MinerKeys are keys only miner configs have ("donate-level", "randomx", ...),
	// read from JSON configs that list pools.
	MinerKeys []string
	// WalletKey is set when a wallet/user key sits beside a pool.
	WalletKey bool
}

// minerJSONKeys are XMRig and xmr-stak config keys with no other common use.
var minerJSONKeys = []string{"donate-level", "donate-over-proxy", "randomx", "huge-pages-jit", "rig-id", "pool_list", "currency", "cpu_threads_conf", "nicehash", "max-threads-hint"}

// poolKeys and walletKeys name pool and wallet entries in key=value configs
// (Claymore epools.txt, nanominer and similar config.ini files).
var (
	poolKeys   = map[string]bool{"pool": true, "pool1": true, "pool2": true, "pool_address": true, "url": true, "epool": true, "server": true}
	walletKeys = map[string]bool{"wallet": true, "wallet_address": true, "user": true, "ewal": true, "login": true, "username": true}
)

var trailingComma = regexp.MustCompile(`,(\s*[\]}])`)

// ParseConfig reads config text in any of the formats miners use. It never
// fails: unparseable JSON falls back to the line scanner.
func ParseConfig(data []byte) ConfigFacts {
	if len(data) > MaxConfigBytes {
		data = data[:MaxConfigBytes]
	}
	var f ConfigFacts
	for _, u := range findStratum(data) {
		f.StratumURLs = AppendLimited(f.StratumURLs, string(u))
		if h := HostOf(string(u)); h != "" {
			f.Hosts = AppendLimited(f.Hosts, h)
		}
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		// Pools (and with them miner keys) are read only from "pools" and
		// "pool_list": a JSON document without the word is checked, not
		// decoded.
		if !bytes.Contains(trimmed, []byte(`"pool`)) {
			if json.Valid(trimmed) {
				return f
			}
		} else {
			var doc map[string]any
			if json.Unmarshal(trimmed, &doc) == nil {
				f.fromJSON(doc)
				return f
			}
		}
	}
	// xmr-stak's pools.txt is a JSON fragment without braces and with
	// trailing commas.
	if bytes.Contains(data, []byte(`"pool_list"`)) {
		frag := trailingComma.ReplaceAll(bytes.TrimRight(trimmed, ","), []byte("$1"))
		var doc map[string]any
		if json.Unmarshal(append(append([]byte("{"), frag...), '}'), &doc) == nil {
			f.fromJSON(doc)
			return f
		}
	}
	f.fromLines(data)
	return f
}

func (f *ConfigFacts) fromJSON(doc map[string]any) {
	for _, k := range minerJSONKeys {
		if _, ok := doc[k]; ok {
			f.MinerKeys = AppendLimited(f.MinerKeys, k)
		}
	}
	for _, listKey := range []string{"pools", "pool_list"} {
		list, _ := doc[listKey].([]any)
		for i, item := range list {
			if i >= MaxFacts {
				break
			}
			m, _ := item.(map[string]any)
			for _, urlKey := range []string{"url", "pool_address"} {
				if u, _ := m[urlKey].(string); u != "" {
					f.addPool(u)
					f.JSONPools = true
				}
			}
			for _, wk := range []string{"user", "wallet_address"} {
				if u, _ := m[wk].(string); u != "" {
					f.WalletKey = true
				}
			}
		}
	}
}

// fromLines handles "KEY: value, KEY: value" (Claymore) and "key = value"
// (INI) lines.
func (f *ConfigFacts) fromLines(data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		// Claymore puts several pairs on a line separated by commas.
		for _, pair := range strings.Split(line, ",") {
			k, v, ok := strings.Cut(pair, ":")
			if eq, ev, ok2 := strings.Cut(pair, "="); ok2 && (!ok || len(eq) < len(k)) {
				k, v, ok = eq, ev, true
			}
			if !ok {
				continue
			}
			k = strings.ToLower(strings.Trim(strings.TrimSpace(k), `"`))
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch {
			case poolKeys[k] && v != "":
				// "POOL: host:port" cut at the first colon leaves "host:port".
				f.addPool(v)
			case walletKeys[k] && v != "":
				f.WalletKey = true
			}
		}
	}
}

func (f *ConfigFacts) addPool(u string) {
	if !IsEndpoint(u) && !StratumRe.MatchString(u) {
		return
	}
	f.Pools = AppendLimited(f.Pools, u)
	if h := HostOf(u); h != "" {
		f.Hosts = AppendLimited(f.Hosts, h)
	}
}

// stratumWord is the lower-case stem every stratum scheme starts with.
var stratumWord = []byte("stratum")

// containsFold reports whether data holds word (lower-case ASCII letters)
// in any case, without copying data. It looks for the word's last letter
// with the vectorised IndexByte, in both cases.
func containsFold(data, word []byte) bool {
	last := len(word) - 1
	for _, c := range [2]byte{word[last], word[last] - 'a' + 'A'} {
		for off := last; off < len(data); {
			i := bytes.IndexByte(data[off:], c)
			if i < 0 {
				break
			}
			end := off + i + 1
			if bytes.EqualFold(data[end-len(word):end], word) {
				return true
			}
			off = end
		}
	}
	return false
}

// findStratum runs the (case-insensitive, slow) URL regexp only on text
// that holds the word at all: most config files do not.
func findStratum(data []byte) [][]byte {
	if !containsFold(data, stratumWord) {
		return nil
	}
	return StratumRe.FindAll(data, MaxFacts)
}
