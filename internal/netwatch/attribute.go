package netwatch

import (
	"fmt"
	"maps"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/netwatch/proto"
)

// What the watcher attributed to a workload counts in its verdicts for
// AttributionTTL: a miner reconnects far more often, and a flow that ended
// long ago says little of the workload now.
const (
	AttributionTTL  = 10 * time.Minute
	maxAttributions = 4096
)

// Attributions is the evidence observations gave, by workload key
// (detect.Workload.Key); it is a detect.Wire. Safe for concurrent use.
type Attributions struct {
	mu sync.Mutex
	m  map[string][]attributed
}

type attributed struct {
	ev finding.Evidence
	at time.Time
}

// NewAttributions returns an empty store.
func NewAttributions() *Attributions { return &Attributions{m: map[string][]attributed{}} }

// Add records evidence for the workload with key.
func (we *Attributions) Add(key string, evs []finding.Evidence) {
	now := time.Now()
	we.mu.Lock()
	defer we.mu.Unlock()
	if _, ok := we.m[key]; !ok && len(we.m) >= maxAttributions {
		we.purge(now)
		if len(we.m) >= maxAttributions {
			return // a flood of distinct workloads: the alerts still went out
		}
	}
	items := we.m[key]
	for _, ev := range evs {
		items = append(items, attributed{ev: ev, at: now})
	}
	if len(items) > 16 {
		items = items[len(items)-16:]
	}
	we.m[key] = items
}

func (we *Attributions) purge(now time.Time) {
	for k, items := range we.m {
		if now.Sub(items[len(items)-1].at) >= AttributionTTL {
			delete(we.m, k)
		}
	}
}

// Evidence implements detect.Wire: the workload's fresh items, one per
// evidence ID (the latest).
func (we *Attributions) Evidence(w *detect.Workload) []finding.Evidence {
	now := time.Now()
	we.mu.Lock()
	defer we.mu.Unlock()
	seen := map[string]bool{}
	var out []finding.Evidence
	items := we.m[w.Key()]
	for i := len(items) - 1; i >= 0; i-- {
		if it := items[i]; now.Sub(it.at) < AttributionTTL && !seen[it.ev.ID] {
			seen[it.ev.ID] = true
			out = append(out, it.ev)
		}
	}
	return out
}

// Owner finds the process holding the client side of a flow in a
// snapshot with sockets (of every network namespace).
func Owner(snap *host.Snapshot, client, server netip.AddrPort) *host.Process {
	unmap := func(ap netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()) }
	client, server = unmap(client), unmap(server)
	for _, p := range snap.Processes {
		for _, s := range p.Sockets {
			if strings.HasPrefix(s.Proto, "tcp") && unmap(s.Local) == client && unmap(s.Remote) == server {
				return p
			}
		}
	}
	return nil
}

// Evidence turns an observation into evidence about process pid:
// DAVY-N003, N004, N005, N006.
func Evidence(o Observation, pid int) []finding.Evidence {
	r := o.Result
	vals := map[string]string{"server": o.Server.String(), "client": o.Client.String(), "protocol": r.Protocol.String()}
	for k, v := range map[string]string{"agent": r.Agent, "login": r.Login, "sni": r.SNI, "names": strings.Join(o.Names, " "), "pool": o.Pool} {
		if v != "" {
			vals[k] = finding.Cut(v, 256)
		}
	}
	if r.Wallet.Text != "" {
		vals["wallet"], vals["coin"] = r.Wallet.Text, r.Wallet.Coin
	}
	var out []finding.Evidence
	if o.Pool != "" {
		out = append(out, finding.New("DAVY-N003", "wire", pid,
			"connects to "+o.Server.String()+", the known mining pool "+finding.Quote(o.Name)+" ("+o.Pool+", "+o.PoolSource+") by a name it resolved or sent", vals))
	}
	switch {
	case r.Protocol.Mining() && r.Protocol != proto.ProtoStratumV2Candidate:
		msg := "speaks " + r.Protocol.String() + " to " + o.Server.String()
		if r.Agent != "" {
			msg += " as " + finding.Quote(finding.Cut(r.Agent, 80))
		}
		if r.Wallet.Text != "" {
			msg += " for the wallet " + finding.ShortWallet(r.Wallet.Text)
		}
		out = append(out, finding.New("DAVY-N004", "wire", pid, msg, vals))
	case r.Protocol == proto.ProtoStratumV2Candidate:
		out = append(out, finding.New("DAVY-N005", "wire", pid, "opens "+o.Server.String()+" with a handshake shaped like encrypted Stratum V2", vals))
	}
	if c := o.Cadence; c != nil {
		v := maps.Clone(vals)
		v["age"], v["pushes"], v["max_push_gap"] = c.Age.Round(time.Second).String(), strconv.Itoa(c.Pushes), c.MaxPushGap.Round(time.Second).String()
		v["client_messages"], v["answered"], v["client_gap_cv"] = strconv.Itoa(c.Shares), strconv.FormatFloat(c.Answered, 'f', 2, 64), strconv.FormatFloat(c.ShareCV, 'f', 2, 64)
		v["bytes_per_second"] = strconv.FormatFloat(c.Rate, 'f', 0, 64)
		out = append(out, finding.New("DAVY-N006", "wire", pid, fmt.Sprintf(
			"flow to %s for %s talks like a pool: %d unasked pushes (at most %s apart), %d irregular client messages, %.0f%% answered at once, %.0f B/s",
			o.Server, c.Age.Round(time.Second), c.Pushes, c.MaxPushGap.Round(time.Second), c.Shares, 100*c.Answered, c.Rate), v))
	}
	return out
}
