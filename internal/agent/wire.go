package agent

import (
	"context"
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
	"github.com/davyproject/davy/internal/netwatch"
	"github.com/davyproject/davy/internal/netwatch/proto"
	"github.com/davyproject/davy/internal/rules"
)

// What the packet capture attributed to a workload counts in its verdicts
// for wireTTL: a miner reconnects far more often, and a flow that ended
// long ago says little of the workload now.
const (
	wireTTL      = 10 * time.Minute
	maxWireKeys  = 4096
	maxWireQueue = 256
)

// wireEvidence is the evidence the network watcher attributed, by
// workload key; it is the detect.Wire of the agent's Env.
type wireEvidence struct {
	mu sync.Mutex
	m  map[string][]wireItem
}

type wireItem struct {
	ev finding.Evidence
	at time.Time
}

func newWireEvidence() *wireEvidence { return &wireEvidence{m: map[string][]wireItem{}} }

func (we *wireEvidence) add(key string, evs []finding.Evidence) {
	now := time.Now()
	we.mu.Lock()
	defer we.mu.Unlock()
	if _, ok := we.m[key]; !ok && len(we.m) >= maxWireKeys {
		we.purge(now)
		if len(we.m) >= maxWireKeys {
			return // a flood of distinct workloads: the alerts still went out
		}
	}
	items := we.m[key]
	for _, ev := range evs {
		items = append(items, wireItem{ev: ev, at: now})
	}
	if len(items) > 16 {
		items = items[len(items)-16:]
	}
	we.m[key] = items
}

func (we *wireEvidence) purge(now time.Time) {
	for k, items := range we.m {
		if now.Sub(items[len(items)-1].at) >= wireTTL {
			delete(we.m, k)
		}
	}
}

// Evidence implements detect.Wire: the workload's fresh items, one per
// evidence ID (the latest).
func (we *wireEvidence) Evidence(w *detect.Workload) []finding.Evidence {
	now := time.Now()
	we.mu.Lock()
	defer we.mu.Unlock()
	seen := map[string]bool{}
	var out []finding.Evidence
	items := we.m[workloadKey(w)]
	for i := len(items) - 1; i >= 0; i-- {
		if it := items[i]; now.Sub(it.at) < wireTTL && !seen[it.ev.ID] {
			seen[it.ev.ID] = true
			out = append(out, it.ev)
		}
	}
	return out
}

// watchWire runs the packet capture until ctx is done, and judges each
// observation on its own goroutine: attributing a flow takes a snapshot.
func (a *Agent) watchWire(ctx context.Context) error {
	obs := make(chan netwatch.Observation, maxWireQueue)
	w, err := netwatch.New(netwatch.Options{Intel: a.env.Intel, Log: a.o.Log, On: func(o netwatch.Observation) {
		select {
		case obs <- o:
		default:
			a.o.Metrics.wireDropped()
			a.o.Log.Warn("network observation dropped: the agent is behind", "client", o.Client, "server", o.Server)
		}
	}})
	if err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case o := <-obs:
				a.onWire(ctx, o)
			}
		}
	}()
	return w.Run(ctx)
}

// onWire attributes an observed flow to the process whose socket carries
// it (in any network namespace), records its evidence for the workload's
// verdicts, and matches it against the rules as a connect event.
func (a *Agent) onWire(ctx context.Context, o netwatch.Observation) {
	snap, err := host.Take(ctx, host.Options{ProcFS: a.o.ProcFS, SysFS: a.o.SysFS, ExcludePIDs: []int{a.self}})
	if err != nil {
		return
	}
	p := socketOwner(snap, o.Client, o.Server)
	if p == nil {
		a.o.Log.Info("network observation with no process (it closed, or lives outside this host's sockets)",
			"client", o.Client, "server", o.Server, "protocol", o.Result.Protocol.String(), "pool", o.Pool)
		return
	}
	var w *detect.Workload
	for _, cand := range detect.Workloads(snap) {
		for _, q := range cand.Processes {
			if q == p {
				w = cand
			}
		}
	}
	evs := observationEvidence(o, p.PID)
	if len(evs) == 0 {
		return
	}
	a.wire.add(workloadKey(w), evs)
	as := detect.Assess(ctx, a.env, a.execDets, w, a.o.Thresholds, a.ignore)
	info := a.describe(w, p, &as)
	e := a.ruleEvent(rules.EventConnect, o.Time, info)
	e.Fd = rules.Fd{SIP: o.Server.Addr(), SPort: o.Server.Port(), CIP: o.Client.Addr(), CPort: o.Client.Port(), L4Proto: "tcp", SIPNames: o.Names}
	e.Fd.Name = o.Client.String() + "->" + o.Server.String()
	a.match(&e, info.key)
}

// socketOwner finds the process holding the client side of a flow.
func socketOwner(snap *host.Snapshot, client, server netip.AddrPort) *host.Process {
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

// observationEvidence turns what the watcher saw into evidence.
func observationEvidence(o netwatch.Observation, pid int) []finding.Evidence {
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
