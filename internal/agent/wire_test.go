package agent

import (
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/davyproject/davy/internal/alert"
	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/rules"
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

// TestConnectCarriesResolvedNames resolves a name through a test DNS
// server on loopback, then connects to its answer from another process:
// the connect event's fd.sip.name holds the name, taken from the DNS
// answer the capture saw, never from a lookup of davy's own.
func TestConnectCarriesResolvedNames(t *testing.T) {
	testenv.NeedRoot(t)
	const name = "svc.resolved.test.invalid"
	target := netip.MustParseAddr("127.0.0.77")
	testenv.StartDNS(t, "", netip.MustParseAddr("127.0.0.1"), name, []string{name + ". 300 IN A " + target.String()})
	ln, err := net.Listen("tcp", netip.AddrPortFrom(target, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	rs, err := rules.Load(rules.Options{}, rules.DefaultSource(), rules.Source{Name: "test.yaml", Data: []byte(`
- rule: Connect to a resolved test name
  desc: test
  condition: evt.type = connect and fd.sip.name = "` + name + `"
  output: connect to %fd.sip.name pid=%proc.pid
  priority: WARNING
`)})
	if err != nil {
		t.Fatal(err)
	}
	withOptions = func(o *Options) { o.NetCapture, o.Rules = true, rs }
	t.Cleanup(func() { withOptions = nil })
	a, c := startAgent(t, "ebpf", time.Hour, nil)
	for a.watcher.Load() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the capture is open
	m := new(mdns.Msg)
	m.SetQuestion(name+".", mdns.TypeA)
	if _, err := mdns.Exchange(m, "127.0.0.1:53"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the answer reached the cache
	cmd := exec.Command("bash", "-c", "exec 3<>/dev/tcp/"+target.String()+"/"+strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)+"; sleep 1")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	c.wait(t, 10*time.Second, "the connect with the resolved name", func(al alert.Alert) bool {
		return al.Rule == "Connect to a resolved test name" && pidIs(cmd.Process.Pid)(al)
	})
}
