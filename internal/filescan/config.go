package filescan

import (
	"strings"

	"github.com/davyproject/davy/internal/intel/wallet"
	"github.com/davyproject/davy/internal/minertext"
)

// config judges a small config-like file with minertext.ParseConfig:
// DAVY-F001 for an XMRig/xmr-stak JSON pool list, F002 for pool lines or
// INI keys with a wallet, N001 for a known pool among its hosts.
//
// In an image every .json and .conf is read, not only files a miner names,
// so a pool list alone is not enough: F001 also needs a miner-only key, a
// checksum-valid wallet, a known pool or a stratum URL, and F002 a wallet
// or a known pool beside its pool and wallet keys (database configs have
// "url = host:port" and "user = app" too).
func (s *scan) config(path string, data []byte, a *analyzer) {
	f := minertext.ParseConfig(data)
	if len(f.Pools) == 0 && len(f.StratumURLs) == 0 {
		return
	}
	ws := wallet.Find(string(data))
	var pool, poolHost, poolName string
	for _, h := range f.Hosts {
		if en, ok := s.e.in.PoolDomain(h); ok {
			pool, poolHost, poolName = en.Value+", "+en.Source, h, en.Value
			break
		}
	}
	vals := map[string]string{"file": path, "pools": strings.Join(f.Pools, " ")}
	if len(ws) > 0 {
		vals["wallet"], vals["coin"] = ws[0].Text, ws[0].Coin
	}
	var got []Finding
	switch {
	case f.JSONPools && (len(f.MinerKeys) > 0 || len(ws) > 0 || pool != "" || len(f.StratumURLs) > 0):
		got = append(got, Finding{ID: "DAVY-F001", Path: path, Values: vals,
			Message: "miner config " + quote(path) + " lists pools: " + quote(strings.Join(f.Pools, " "))})
	case len(f.StratumURLs) > 0 || (len(f.Pools) > 0 && f.WalletKey && (len(ws) > 0 || pool != "")):
		pools := append(append([]string{}, f.StratumURLs...), f.Pools...)
		got = append(got, Finding{ID: "DAVY-F002", Path: path, Values: vals,
			Message: "miner config " + quote(path) + " has pool " + quote(pools[0]) + " and a wallet"})
	}
	if len(got) > 0 {
		// The config's stratum URL, wallet and flags are part of F001/F002.
		a.drop("DAVY-C001", "DAVY-C002", "DAVY-C003", "DAVY-N001")
	}
	if pool != "" && !a.hasAny("DAVY-N001") {
		got = append(got, Finding{ID: "DAVY-N001", Path: path, Values: map[string]string{"host": poolHost, "pool": poolName, "file": path},
			Message: "config " + quote(path) + " names the mining pool " + quote(poolHost) + " (known as " + pool + ")"})
	}
	s.add(got...)
}
