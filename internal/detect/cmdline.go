package detect

import (
	"context"
	"strings"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/intel/wallet"
	"github.com/davyproject/davy/internal/minertext"
)

// cmdline reads what a process was told to do: pool URLs, wallets, miner
// flags. Evidence: DAVY-C001, DAVY-C002, DAVY-C003.
type cmdline struct{}

func init() { Register(cmdline{}) }

func (cmdline) Name() string         { return "cmdline" }
func (cmdline) Group() finding.Group { return finding.GroupCmdline }

func (d cmdline) Detect(_ context.Context, _ *Env, w *Workload) []finding.Evidence {
	var out []finding.Evidence
	for _, p := range w.Processes {
		f := minertext.ParseCmdline(p.Cmdline)
		if len(f.StratumURLs) > 0 {
			out = append(out, finding.New("DAVY-C001", d.Name(), p.PID,
				"stratum URL on the command line: "+quote(f.StratumURLs[0]),
				map[string]string{"urls": strings.Join(f.StratumURLs, " ")}))
		}
		if ws := wallet.Find(f.Text); len(ws) > 0 {
			out = append(out, walletEvidence(d.Name(), p.PID, "on the command line", ws))
		}
		if len(f.Flags) > 0 || f.PoolUser {
			what := strings.Join(f.Flags, " ")
			if f.PoolUser {
				what = strings.TrimSpace("pool and user (-o host:port -u ...) " + what)
			}
			out = append(out, finding.New("DAVY-C003", d.Name(), p.PID,
				"miner flags on the command line: "+quote(what), map[string]string{"flags": what}))
		}
	}
	return out
}

// walletEvidence describes wallets found in some text as DAVY-C002.
func walletEvidence(detector string, pid int, where string, ws []wallet.Address) finding.Evidence {
	a := ws[0]
	return finding.New("DAVY-C002", detector, pid,
		a.Coin+" wallet address ("+a.Kind+", checksum valid) "+where+": "+quote(shorten(a.Text)),
		map[string]string{"wallet": a.Text, "coin": a.Coin, "kind": a.Kind})
}
