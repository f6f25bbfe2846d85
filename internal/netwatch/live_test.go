package netwatch

import (
	"context"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/netwatch/proto"
	"github.com/davyproject/davy/internal/testbed/pool"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

// TestWatcherSeesMinerOnLoopback captures in this namespace while a miner
// talks to a pool on loopback, on a random port, in two dialects.
func TestWatcherSeesMinerOnLoopback(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	w, got := newTestWatcher(t, "")
	runWatcher(t, w)
	p := testbedtest.StartPool(t, pool.Config{Difficulty: 1})
	for _, tc := range []struct {
		dialect []string
		want    proto.Protocol
	}{
		{nil, proto.ProtoCryptoNote},
		{[]string{"--dialect", "stratum"}, proto.ProtoStratumV1},
	} {
		m := testbedtest.Start(t, bins.Miner, testbedtest.MinerArgs(p.URL(), tc.dialect...)...)
		deadline := time.Now().Add(20 * time.Second)
		for !seen(got(), tc.want) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s observation; stats %+v", tc.want, w.Stats())
			}
			time.Sleep(100 * time.Millisecond)
		}
		m.Stop()
	}
	for _, o := range got() {
		if o.Result.Agent == "" || o.Result.Wallet.Text == "" || !o.Server.Addr().IsLoopback() {
			t.Errorf("observation %+v: want the miner's agent and wallet", o)
		}
	}
}

func seen(obs []Observation, p proto.Protocol) bool {
	for _, o := range obs {
		if o.Result.Protocol == p {
			return true
		}
	}
	return false
}

// runWatcher runs w until the test ends, once its capture is open.
func runWatcher(t *testing.T, w *Watcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	time.Sleep(200 * time.Millisecond) // the capture is open
}
