package agent

import (
	"testing"
	"time"

	"github.com/davyproject/davy/internal/alert"
	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/testbed/pool"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

// TestAgentSeesStratumOnTheWire captures packets while a miner talks to a
// pool on loopback, on a random port, and expects the flow attributed to
// the miner's process, as an alert and in its verdict's evidence.
func TestAgentSeesStratumOnTheWire(t *testing.T) {
	testenv.NeedRoot(t)
	bins := testbedtest.BuildOnce(t)
	p := testbedtest.StartPool(t, pool.Config{Difficulty: 1})
	withOptions = func(o *Options) { o.NetCapture = true }
	t.Cleanup(func() { withOptions = nil })
	a, c := startAgent(t, "auto", time.Hour, nil)
	m := testbedtest.Start(t, bins.Miner, testbedtest.MinerArgs(p.URL())...)
	got := c.wait(t, 20*time.Second, "mining protocol on the wire", func(al alert.Alert) bool {
		return al.Rule == "Mining protocol on the wire" && pidIs(m.PID())(al)
	})
	t.Logf("%s", got.Output)
	w := &detect.Workload{Kind: detect.KindProcess, ID: itoa(m.PID())}
	snapProc := findProcess(t, m.PID())
	w.Processes = append(w.Processes, snapProc)
	var ids []string
	for _, e := range a.wire.Evidence(w) {
		ids = append(ids, e.ID)
	}
	if len(ids) != 1 || ids[0] != "DAVY-N004" {
		t.Errorf("wire evidence for the miner = %v, want DAVY-N004", ids)
	}
}
