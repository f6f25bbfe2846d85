package detect

import (
	"context"
	"fmt"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/minertext"
)

// poolEndpoint matches where a process is told to connect (command line,
// config) against known pool domains, and its live connections against
// ports pools use. Davy never resolves pool names itself.
// Evidence: DAVY-N001, DAVY-N002.
type poolEndpoint struct{}

func init() { Register(poolEndpoint{}) }

func (poolEndpoint) Name() string         { return "pool-endpoint" }
func (poolEndpoint) Group() finding.Group { return finding.GroupNetwork }

func (d poolEndpoint) Detect(_ context.Context, env *Env, w *Workload) []finding.Evidence {
	var out []finding.Evidence
	for _, p := range w.Processes {
		hosts := minertext.ParseCmdline(p.Cmdline).Hosts
		for _, cf := range env.processConfigs(p) {
			hosts = append(hosts, cf.Facts.Hosts...)
		}
		for _, h := range hosts {
			if e, ok := env.Intel.PoolDomain(h); ok {
				out = append(out, finding.New("DAVY-N001", d.Name(), p.PID,
					"told to connect to the mining pool "+quote(h)+" (known as "+e.Value+", "+e.Source+")",
					map[string]string{"host": h, "pool": e.Value}))
				break
			}
		}
		for _, s := range p.Sockets {
			if s.State != "ESTABLISHED" || !s.Remote.IsValid() || !env.Intel.PoolPort(s.Remote.Port()) {
				continue
			}
			out = append(out, finding.New("DAVY-N002", d.Name(), p.PID,
				fmt.Sprintf("connected to %s, a port mining pools use", s.Remote),
				map[string]string{"remote": s.Remote.String(), "local": s.Local.String(), "proto": s.Proto}))
			break
		}
	}
	return out
}
