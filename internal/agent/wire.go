package agent

import (
	"context"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/netwatch"
	"github.com/davyproject/davy/internal/rules"
)

// maxWireQueue bounds the observations waiting to be attributed.
const maxWireQueue = 256

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
	a.watcher.Store(w)
	defer a.watcher.Store(nil)
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
	p := netwatch.Owner(snap, o.Client, o.Server)
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
	evs := netwatch.Evidence(o, p.PID)
	if len(evs) == 0 {
		return
	}
	a.wire.Add(w.Key(), evs)
	as := detect.Assess(ctx, a.env, a.execDets, w, a.o.Thresholds, a.ignore)
	info := a.describe(w, p, &as)
	e := a.ruleEvent(rules.EventConnect, o.Time, info)
	e.Fd = rules.Fd{SIP: o.Server.Addr(), SPort: o.Server.Port(), CIP: o.Client.Addr(), CPort: o.Client.Port(), L4Proto: "tcp", SIPNames: o.Names}
	e.Fd.Name = o.Client.String() + "->" + o.Server.String()
	a.match(&e, info.key)
	a.report(&as, info)
}

// resolvedNames returns the names the process's network namespace
// resolved to ip, as the packet capture saw its DNS answers: what
// fd.sip.name says of a connect event. Nil without the capture.
func (a *Agent) resolvedNames(pid int, ip netip.Addr) []string {
	w := a.watcher.Load()
	if w == nil {
		return nil
	}
	return w.NamesFrom("", a.localAddrs.of(pid), ip)
}

// localAddrCache keeps each network namespace's addresses for a while:
// connects are frequent, address changes rare.
type localAddrCache struct {
	procFS string
	mu     sync.Mutex
	m      map[string]localAddrs
}

type localAddrs struct {
	addrs []netip.Addr
	at    time.Time
}

const localAddrTTL = 30 * time.Second

func (c *localAddrCache) of(pid int) []netip.Addr {
	ns, err := os.Readlink(c.procFS + "/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return nil
	}
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[ns]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < localAddrTTL {
		return e.addrs
	}
	addrs := host.LocalAddrs(c.procFS, pid)
	c.mu.Lock()
	if len(c.m) > 4096 {
		clear(c.m)
	}
	c.m[ns] = localAddrs{addrs: addrs, at: now}
	c.mu.Unlock()
	return addrs
}
