// Package netwatch watches what workloads say on the wire: it captures
// packets (internal/netwatch/capture), keeps the names each workload
// resolved (internal/netwatch/dns), recognises mining protocols from the
// first bytes of every TCP flow on any port (internal/netwatch/proto), and
// reports the flows that talk to a miner pool as Observations.
package netwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/davyproject/davy/internal/intel"
	"github.com/davyproject/davy/internal/netwatch/capture"
	"github.com/davyproject/davy/internal/netwatch/dns"
	"github.com/davyproject/davy/internal/netwatch/proto"
)

// Observation is one flow that talks to a miner pool: in a mining
// protocol, or to a host the intel knows as a pool by a name the workload
// itself resolved or sent (TLS SNI, mining.hello's host).
type Observation struct {
	Time time.Time
	// Netns is the namespace the flow was captured in, as given in
	// Options.Netns ("" for the watcher's own).
	Netns          string
	Client, Server netip.AddrPort
	Result         proto.Result
	// Names are the names the client resolved to the server's address,
	// the name it asked for first.
	Names []string
	// Pool is the known pool a name matched (Name), with the intel's
	// source; empty when none did.
	Pool, PoolSource, Name string
	// Cadence is set when the flow was reported for how it talks over
	// time (a pool's pushes and a miner's shares, encrypted or not)
	// rather than for its first bytes.
	Cadence *Cadence
}

// SnapLen is the payload kept of each TCP segment by default: a miner's
// opening lines are longer than the capture's own default (XMRig's login
// lists every algorithm it knows, ~700 bytes; the pool's first job is
// ~400), and a cut line cannot be recognised. Bulk segments cost a copy
// of up to this much each.
const SnapLen = 2048

// Options configure a Watcher.
type Options struct {
	// Netns lists the namespaces to capture in: "" for the watcher's own,
	// a path (/proc/PID/ns/net) or an `ip netns` name. Empty means [""].
	Netns []string
	// Capture tunes each capture; its Netns is set from Netns.
	Capture capture.Options
	// Intel names the known pools; required.
	Intel *intel.Intel
	// On receives each observation; it must not block for long.
	On func(Observation)
	// Cadence tunes the check of long-lived flows (zero: defaults).
	Cadence CadenceOptions
	Log     *slog.Logger
}

// Stats counts a watcher's work.
type Stats struct {
	Captures []capture.Stats
	Flows    capture.TrackerStats
	DNS      dns.CacheStats
	// Recognized flows were in a mining protocol; Observations were
	// reported (mining protocol or known pool).
	Recognized, Observations uint64
}

// Watcher captures in its namespaces and reports observations.
type Watcher struct {
	o     Options
	names *dns.Cache
	// trackers follow the flows of each namespace apart: two namespaces
	// may hold the same addresses.
	trackers map[string]*capture.Tracker

	mu       sync.Mutex
	captures []*capture.Capture
	stats    Stats
	// cadenced are the flows already reported for their cadence, until
	// they end.
	cadenced map[flowID]bool
}

// flowID names a flow across its life.
type flowID struct {
	ns             string
	client, server netip.AddrPort
}

// New checks the options.
func New(o Options) (*Watcher, error) {
	if o.Intel == nil {
		return nil, errors.New("netwatch: no intel")
	}
	if o.On == nil {
		return nil, errors.New("netwatch: no observation handler")
	}
	if len(o.Netns) == 0 {
		o.Netns = []string{""}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Capture.SnapLen == 0 {
		o.Capture.SnapLen = SnapLen
	}
	o.Cadence = o.Cadence.withDefaults()
	w := &Watcher{o: o, names: dns.NewCache(dns.CacheOptions{}), trackers: map[string]*capture.Tracker{}, cadenced: map[flowID]bool{}}
	for _, ns := range o.Netns {
		w.trackers[ns] = capture.NewTracker(capture.TrackerOptions{
			OnFirstBytes: func(f *capture.Flow, client, server []byte) { w.firstBytes(ns, f, client, server) },
			OnEnd: func(f *capture.Flow, _ capture.EndReason) {
				w.mu.Lock()
				delete(w.cadenced, flowID{ns, f.Client, f.Server})
				w.mu.Unlock()
			},
		})
	}
	return w, nil
}

// Run captures until ctx is done. It fails when no capture can be opened;
// one that fails later is logged and the others go on.
func (w *Watcher) Run(ctx context.Context) error {
	var caps []*capture.Capture
	for _, ns := range w.o.Netns {
		opts := w.o.Capture
		opts.Netns = ns
		if opts.Logger == nil {
			opts.Logger = w.o.Log
		}
		c, err := capture.Open(opts)
		if err != nil {
			for _, c := range caps {
				c.Close()
			}
			return fmt.Errorf("netwatch: capture in %q: %w", ns, err)
		}
		caps = append(caps, c)
	}
	w.mu.Lock()
	w.captures = caps
	w.mu.Unlock()
	var wg sync.WaitGroup
	for i, c := range caps {
		ns := w.o.Netns[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(ctx, func(p capture.Packet) { w.Packet(ns, &p) }); err != nil && ctx.Err() == nil {
				w.o.Log.Warn("capture stopped", "netns", ns, "err", err)
			}
		}()
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			// Flows still open are judged on what they showed so far.
			w.CheckCadence(time.Now())
			for _, t := range w.trackers {
				t.Flush()
			}
			return nil
		case now := <-tick.C:
			for _, t := range w.trackers {
				t.Expire(now)
			}
			w.names.Expire(now)
			w.CheckCadence(now)
		}
	}
}

// Packet handles one captured packet from namespace ns (one of
// Options.Netns): DNS answers go to the names cache (keyed by the client
// that asked), TCP segments to the namespace's flow tracker. Exported for
// tests and for feeding packets from elsewhere.
func (w *Watcher) Packet(ns string, p *capture.Packet) {
	if p.Src.Port() == 53 {
		key := workloadKey(ns, p.Dst.Addr())
		var err error
		if p.Proto == capture.UDP {
			err = w.names.AddUDP(key, p.Payload, p.Time)
		} else if len(p.Payload) > 0 {
			_, err = w.names.AddTCP(key, p.Payload, p.Time)
		}
		if err == nil || p.Proto == capture.UDP {
			return
		}
	}
	if t := w.trackers[ns]; t != nil && p.Proto == capture.TCP {
		t.Add(p)
	}
}

// Names returns the names the client at addr in namespace ns resolved to ip.
func (w *Watcher) Names(ns string, client, ip netip.Addr) []string {
	return w.names.Names(workloadKey(ns, client), ip)
}

// NamesFrom returns the names any of clients (the addresses of one
// network namespace, as captured in ns) resolved to ip, first seen first.
func (w *Watcher) NamesFrom(ns string, clients []netip.Addr, ip netip.Addr) []string {
	var out []string
	for _, c := range clients {
		for _, n := range w.Names(ns, c, ip) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

func workloadKey(ns string, client netip.Addr) string { return ns + "|" + client.String() }

// firstBytes recognises a flow's opening and reports it when it talks to
// a pool. It runs with the tracker locked.
func (w *Watcher) firstBytes(ns string, f *capture.Flow, client, server []byte) {
	// A flow joined mid-stream (opened before the capture) is read from
	// its first whole line on; its sizes say nothing of an opening.
	pf := proto.Flow{Client: client, Server: server, MidStream: f.MidStream}
	if !f.MidStream {
		pf.ClientFirstLen, pf.ServerFirstLen = f.Dir[capture.ClientToServer].FirstSegment, f.Dir[capture.ServerToClient].FirstSegment
	}
	r := pf.Recognize()
	clientAP, serverAP := f.Client, f.Server
	if f.MidStream && r.Protocol == proto.ProtoNone {
		// Which side opened a flow joined mid-stream is a guess (the
		// lower port for the server's): the other way round may read.
		pf.Client, pf.Server = server, client
		if r = pf.Recognize(); r.Protocol != proto.ProtoNone {
			clientAP, serverAP = f.Server, f.Client
		}
	}
	w.o.Log.Debug("flow opened", "netns", ns, "client", f.Client, "server", f.Server, "protocol", r.Protocol.String(),
		"client_bytes", len(client), "server_bytes", len(server))
	names := w.names.NamesAt(workloadKey(ns, clientAP.Addr()), serverAP.Addr(), f.FirstSeen)
	o := Observation{Time: f.FirstSeen, Netns: ns, Client: clientAP, Server: serverAP, Result: r, Names: names}
	candidates := []string{r.SNI, r.Host}
	if resolvedNamesApply(r, client) {
		candidates = append(candidates, names...)
	}
	for _, name := range candidates {
		if name == "" {
			continue
		}
		if en, ok := w.o.Intel.PoolDomain(name); ok {
			o.Pool, o.PoolSource, o.Name = en.Value, en.Source, name
			break
		}
	}
	mining := r.Protocol.Mining()
	w.mu.Lock()
	if mining {
		w.stats.Recognized++
	}
	if mining || o.Pool != "" {
		w.stats.Observations++
	}
	w.mu.Unlock()
	if mining || o.Pool != "" {
		w.o.On(o)
	}
}

// CheckCadence judges every long-lived flow by how it talks over time and
// reports, once per flow, those that talk like a miner and its pool. Run
// calls it every few seconds; exported for tests.
func (w *Watcher) CheckCadence(now time.Time) {
	var found []Observation
	for ns, t := range w.trackers {
		t.Each(func(f *capture.Flow) {
			id := flowID{ns, f.Client, f.Server}
			w.mu.Lock()
			done := w.cadenced[id]
			w.mu.Unlock()
			if done || f.MidStream {
				return
			}
			c, ok := checkCadence(f, now, w.o.Cadence)
			if !ok {
				return
			}
			w.mu.Lock()
			w.cadenced[id] = true
			w.stats.Observations++
			w.mu.Unlock()
			names := w.names.NamesAt(workloadKey(ns, f.Client.Addr()), f.Server.Addr(), f.FirstSeen)
			found = append(found, Observation{Time: now, Netns: ns, Client: f.Client, Server: f.Server, Names: names, Cadence: &c})
		})
	}
	// Outside the trackers' locks: the handler may take its time.
	for _, o := range found {
		w.o.On(o)
	}
}

// Stats returns the counters.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	s := w.stats
	caps := w.captures
	w.mu.Unlock()
	for _, c := range caps {
		s.Captures = append(s.Captures, c.Stats())
	}
	for _, t := range w.trackers {
		ts := t.Stats()
		s.Flows.Flows += ts.Flows
		s.Flows.Active += ts.Active
		s.Flows.Ended += ts.Ended
		s.Flows.Evicted += ts.Evicted
		s.Flows.Untracked += ts.Untracked
		s.Flows.OtherInterface += ts.OtherInterface
		s.Flows.SpanOverflow += ts.SpanOverflow
	}
	s.DNS = w.names.Stats()
	return s
}

// resolvedNamesApply says whether the names the client resolved to the
// server's address speak for this flow. An address is often shared (a
// CDN, a load balancer, a host running several services), so a flow that
// names its own destination, or that is some other protocol, is not
// blamed on a pool the workload resolved for another connection: TLS with
// an SNI names its site, and a readable opening (HTTP, SMTP, Redis) or a
// PostgreSQL startup is that protocol. Mining protocols, TLS without SNI
// and unrecognised binary openings (encrypted Stratum V2) are judged by
// the names.
func resolvedNamesApply(r proto.Result, client []byte) bool {
	switch {
	case r.Protocol.Mining():
		return true
	case r.Protocol == proto.ProtoTLS:
		return r.SNI == ""
	}
	return len(client) > 0 && !readable(client) && !postgresStartup(client)
}

// readable reports an opening of printable ASCII: a text protocol.
func readable(b []byte) bool {
	b = b[:min(len(b), 64)]
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}

// postgresStartup reports PostgreSQL's first client message: a length,
// then protocol 3.0, or the SSL or GSS encryption request code.
func postgresStartup(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	code := uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	return code == 196608 || code == 80877103 || code == 80877104
}
