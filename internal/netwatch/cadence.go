package netwatch

import (
	"math"
	"time"

	"github.com/davyproject/davy/internal/netwatch/capture"
)

// CadenceOptions are the thresholds of the pool-cadence check; the zero
// value takes the defaults, which follow how pools and miners talk: a
// new job at least every couple of minutes (a block, or a pool's
// refresh), shares at random as the miner finds them, each acknowledged,
// and little volume either way.
type CadenceOptions struct {
	MinAge      time.Duration // a flow younger than this is not judged (3 min)
	MaxPushGap  time.Duration // the longest wait for a server push (150 s)
	MaxRate     float64       // payload bytes per second, both ways (2048)
	MinPushes   int           // server pushes seen (3)
	MinShares   int           // client messages seen (2)
	ReplyWithin time.Duration // a server message this soon after a client one answers it (1 s)
}

func (o CadenceOptions) withDefaults() CadenceOptions {
	if o.MinAge <= 0 {
		o.MinAge = 3 * time.Minute
	}
	if o.MaxPushGap <= 0 {
		o.MaxPushGap = 150 * time.Second
	}
	if o.MaxRate <= 0 {
		o.MaxRate = 2048
	}
	if o.MinPushes <= 0 {
		o.MinPushes = 3
	}
	if o.MinShares <= 0 {
		o.MinShares = 2
	}
	if o.ReplyWithin <= 0 {
		o.ReplyWithin = time.Second
	}
	return o
}

// Cadence is what the cadence check measured on a flow.
type Cadence struct {
	Age        time.Duration
	Rate       float64       // payload bytes per second, both ways
	Pushes     int           // server messages not answering a client one
	MaxPushGap time.Duration // the longest time without a push, up to now
	Shares     int           // client messages
	Answered   float64       // share of client messages the server answered at once
	ShareCV    float64       // coefficient of variation of the gaps between client messages
}

// checkCadence says whether a flow talks like a miner and its pool: a
// long-lived, low-volume flow in which the server pushes small messages
// unasked at least every MaxPushGap (jobs) and the client sends small
// messages at irregular times that the server answers at once (shares).
// What it rules out, in order:
//   - bulk transfers and streams: the volume;
//   - request/response protocols (databases, HTTP polling, health checks):
//     their server only answers, it never pushes;
//   - server streams with fixed-period client pings (websocket and gRPC
//     keepalives): the client's messages are regular (shares are random:
//     a Poisson process has a coefficient of variation near 1);
//   - idle connections kept open (connection pools): no pushes at all.
func checkCadence(f *capture.Flow, now time.Time, o CadenceOptions) (Cadence, bool) {
	c := Cadence{Age: now.Sub(f.FirstSeen)}
	if c.Age < o.MinAge || now.Sub(f.LastSeen) > o.MaxPushGap {
		return c, false
	}
	c.Rate = float64(f.Dir[capture.ClientToServer].PayloadBytes+f.Dir[capture.ServerToClient].PayloadBytes) / c.Age.Seconds()
	if c.Rate > o.MaxRate {
		return c, false
	}
	client := f.Timings(capture.ClientToServer)
	server := f.Timings(capture.ServerToClient)
	c.Shares = len(client)
	// A server message within ReplyWithin after a client message answers
	// it; any other is a push.
	var pushes []time.Time
	answered := 0
	ci := 0
	for _, s := range server {
		for ci < len(client) && client[ci].At.Before(s.At.Add(-o.ReplyWithin)) {
			ci++
		}
		reply := false
		for j := ci; j < len(client) && !client[j].At.After(s.At); j++ {
			if s.At.Sub(client[j].At) <= o.ReplyWithin {
				reply = true
			}
		}
		if reply {
			answered++
		} else {
			pushes = append(pushes, s.At)
		}
	}
	c.Pushes = len(pushes)
	if c.Pushes < o.MinPushes || c.Shares < o.MinShares {
		return c, false
	}
	prev := pushes[0]
	for _, p := range pushes[1:] {
		c.MaxPushGap = max(c.MaxPushGap, p.Sub(prev))
		prev = p
	}
	c.MaxPushGap = max(c.MaxPushGap, now.Sub(prev))
	c.Answered = math.Min(1, float64(answered)/float64(c.Shares))
	c.ShareCV = gapCV(client)
	return c, c.MaxPushGap <= o.MaxPushGap && c.Answered >= 0.5 && c.ShareCV >= 0.3
}

// gapCV is the coefficient of variation of the gaps between messages.
func gapCV(ts []capture.Timing) float64 {
	if len(ts) < 3 {
		return 1 // too few to call regular
	}
	var gaps []float64
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, ts[i].At.Sub(ts[i-1].At).Seconds())
	}
	var mean float64
	for _, g := range gaps {
		mean += g
	}
	mean /= float64(len(gaps))
	if mean == 0 {
		return 0
	}
	var v float64
	for _, g := range gaps {
		v += (g - mean) * (g - mean)
	}
	return math.Sqrt(v/float64(len(gaps))) / mean
}
