package netwatch

import (
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/netwatch/capture"
)

// message is one payload of a simulated flow, at an offset from its start.
type message struct {
	at         time.Duration
	fromClient bool
	size       int
}

// simulate feeds a watcher one flow made of msgs (sorted here) after a
// handshake, and returns when it ended: the time to judge it at.
func simulate(t *testing.T, w *Watcher, port uint16, msgs []message) time.Time {
	t.Helper()
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].at < msgs[j].at })
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &conversation{w: w, client: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.5"), port),
		server: netip.MustParseAddrPort("10.0.0.9:443"), cseq: 1, sseq: 1, at: start}
	c.send(true, capture.SYN, "")
	c.send(false, capture.SYN|capture.ACK, "")
	c.send(true, capture.ACK, "")
	for _, m := range msgs {
		c.at = start.Add(m.at)
		c.send(m.fromClient, capture.ACK|capture.PSH, strings.Repeat("\x17", m.size))
	}
	return c.at.Add(time.Second)
}

// poolLike is ten minutes of a miner and its pool under TLS: a job pushed
// every 25-70 s, shares at random (exponential gaps, mean 40 s), each
// acknowledged within 30 ms.
func poolLike(rng *rand.Rand) []message {
	msgs := []message{{0, true, 300}, {20 * time.Millisecond, false, 400}} // login and first job
	for at := 30 * time.Second; at < 10*time.Minute; at += time.Duration(25+rng.IntN(45)) * time.Second {
		msgs = append(msgs, message{at, false, 350})
	}
	for at := time.Duration(rng.ExpFloat64() * float64(40*time.Second)); at < 10*time.Minute; at += time.Duration(rng.ExpFloat64() * float64(40*time.Second)) {
		msgs = append(msgs, message{at, true, 180}, message{at + 30*time.Millisecond, false, 60})
	}
	return msgs
}

func TestCadenceTellsPoolTrafficFromOtherLongLivedFlows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	type flow struct {
		name string
		msgs []message
		want bool
	}
	var flows []flow
	flows = append(flows, flow{"miner and pool under TLS", poolLike(rng), true})

	var db []message // a database client: queries at random, each answered
	for at := time.Duration(0); at < 10*time.Minute; at += time.Duration(rng.IntN(20)+1) * time.Second {
		db = append(db, message{at, true, 120}, message{at + 4*time.Millisecond, false, 600})
	}
	flows = append(flows, flow{"database queries", db, false})

	var ws []message // a websocket feed: server pushes, client pings every 30 s
	for at := 5 * time.Second; at < 10*time.Minute; at += 10 * time.Second {
		ws = append(ws, message{at, false, 200})
	}
	for at := 30 * time.Second; at < 10*time.Minute; at += 30 * time.Second {
		ws = append(ws, message{at, true, 6}, message{at + 2*time.Millisecond, false, 4})
	}
	flows = append(flows, flow{"websocket feed with keepalive pings", ws, false})

	var health []message // HTTP keep-alive polling every 10 s
	for at := time.Duration(0); at < 10*time.Minute; at += 10 * time.Second {
		health = append(health, message{at, true, 90}, message{at + 3*time.Millisecond, false, 150})
	}
	flows = append(flows, flow{"health check polling", health, false})

	bulk := poolLike(rng) // pool-like timing, but megabytes of data
	for at := time.Minute; at < 9*time.Minute; at += 100 * time.Millisecond {
		bulk = append(bulk, message{at, false, 1400})
	}
	flows = append(flows, flow{"stream with pool-like pauses and bulk data", bulk, false})

	young := poolLike(rng)[:8] // a minute old: not judged yet
	flows = append(flows, flow{"young flow", young, false})

	for i, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			w, got := newTestWatcher(t, "")
			end := simulate(t, w, uint16(40000+i), f.msgs)
			w.CheckCadence(end)
			obs := got()
			if flagged := len(obs) == 1 && obs[0].Cadence != nil; flagged != f.want {
				t.Fatalf("flagged = %v, want %v; observations %+v", flagged, f.want, obs)
			}
			w.CheckCadence(end.Add(time.Second))
			if len(got()) > 1 {
				t.Fatal("a flow was reported twice")
			}
		})
	}
}
