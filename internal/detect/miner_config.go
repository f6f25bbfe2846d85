package detect

import (
	"context"
	"strings"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/intel/wallet"
)

// minerConfig reads the config files a process names or has in its working
// directory: a miner started from a config has a clean command line.
// Evidence: DAVY-F001, DAVY-F002.
type minerConfig struct{}

func init() { Register(minerConfig{}) }

func (minerConfig) Name() string         { return "miner-config" }
func (minerConfig) Group() finding.Group { return finding.GroupConfig }

func (d minerConfig) Detect(_ context.Context, env *Env, w *Workload) []finding.Evidence {
	var out []finding.Evidence
	for _, p := range w.Processes {
		for _, cf := range env.processConfigs(p) {
			f := cf.Facts
			vals := map[string]string{"file": cf.Name, "pools": strings.Join(f.Pools, " ")}
			if ws := wallet.Find(string(cf.Data)); len(ws) > 0 {
				vals["wallet"], vals["coin"] = ws[0].Text, ws[0].Coin
			}
			switch {
			case f.JSONPools:
				out = append(out, finding.New("DAVY-F001", d.Name(), p.PID,
					"miner config "+quote(cf.Name)+" lists pools: "+quote(strings.Join(f.Pools, " ")), vals))
			case len(f.StratumURLs) > 0 || (len(f.Pools) > 0 && f.WalletKey):
				pools := append(append([]string{}, f.StratumURLs...), f.Pools...)
				out = append(out, finding.New("DAVY-F002", d.Name(), p.PID,
					"miner config "+quote(cf.Name)+" has pool "+quote(pools[0])+" and a wallet", vals))
			}
		}
	}
	return out
}
