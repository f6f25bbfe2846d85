package netwatch

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/netwatch/proto"
	"github.com/davyproject/davy/internal/testbed"
	"github.com/davyproject/davy/internal/testbed/pool"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

// TestWatcherInNamespaces builds the network for real: a "remote"
// namespace b with two pools (plaintext on a random high port, TLS on 443)
// whose name its own DNS server answers, and a namespace a where miners
// resolve that name and connect (directly, over TLS on 443, and through a
// stratum proxy) while honest long-lived flows run beside them: HTTP
// keep-alive polling, a websocket feed, and pgbench against PostgreSQL.
// The watcher captures in a.
func TestWatcherInNamespaces(t *testing.T) {
	n := testenv.NewNetnsPair(t)
	bins := testbedtest.BuildOnce(t)
	const name = "pool.test.invalid"
	testenv.StartDNS(t, n.PathB(), n.IPB, name, []string{
		name + ". 300 IN CNAME edge.cdn.test.invalid.",
		"edge.cdn.test.invalid. 120 IN A " + n.IPB.String(),
	})
	testenv.ResolvConf(t, n.A, n.IPB)
	var plain, tlsPool *pool.Server
	testenv.InNetns(t, n.PathB(), func() error {
		var err error
		if plain, err = pool.Start(context.Background(), pool.Config{Addr: netip.AddrPortFrom(n.IPB, 0).String(), Difficulty: 1}); err != nil {
			return err
		}
		tlsPool, err = pool.Start(context.Background(), pool.Config{Addr: netip.AddrPortFrom(n.IPB, 443).String(), TLS: true, Difficulty: 1})
		return err
	})
	t.Cleanup(func() { plain.Close(); tlsPool.Close() })
	relay := startRelay(t, n, plain.Addr())
	honest := startHonestServer(t, n)

	w, got := newTestWatcher(t, n.PathA())
	runWatcher(t, w)

	port := func(s *pool.Server) string { return s.Addr()[strings.LastIndexByte(s.Addr(), ':')+1:] }
	startMiner(t, n.A, bins.Miner, "stratum+tcp://"+name+":"+port(plain))
	startMiner(t, n.A, bins.Miner, "stratum+ssl://"+name+":443", "--dialect", "stratum", "--tls")
	startMiner(t, n.A, bins.Miner, "stratum+tcp://"+relay.String(), "--dialect", "stratum")
	pollHonest(t, n, honest)
	feed := startWebsocketFeed(t, n)
	pgPort := startPostgres(t, n)

	want := map[string]func(Observation) bool{
		"CryptoNote login to the pool by its resolved name": func(o Observation) bool {
			return o.Result.Protocol == proto.ProtoCryptoNote && o.Name == name && o.Pool != "" && o.Result.Wallet.Text == testbed.MoneroWallet
		},
		"TLS to the pool by SNI on 443": func(o Observation) bool {
			return o.Result.Protocol == proto.ProtoTLS && o.Result.SNI == name && o.Server.Port() == 443 && o.Pool != ""
		},
		"stratum v1 through a proxy": func(o Observation) bool {
			return o.Result.Protocol == proto.ProtoStratumV1 && o.Server == relay
		},
	}
	deadline := time.Now().Add(30 * time.Second)
	for what, ok := range want {
		for !anyOf(got(), ok) {
			if time.Now().After(deadline) {
				t.Fatalf("no observation of %s; got %+v; stats %+v", what, got(), w.Stats())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	time.Sleep(3 * time.Second) // the database benchmark and the feed run on
	for _, o := range got() {
		switch o.Server.Port() {
		case honest.Port(), feed.Port(), pgPort:
			t.Errorf("honest flow reported: %+v", o)
		}
		if c := o.Client.Addr(); c != n.IPA && c != n.IP6A {
			t.Errorf("observation from outside namespace a: %+v", o)
		}
	}
}

func anyOf(obs []Observation, ok func(Observation) bool) bool {
	for _, o := range obs {
		if ok(o) {
			return true
		}
	}
	return false
}

// startMiner runs the testbed miner in namespace ns, where the name
// resolves through the test's DNS server.
func startMiner(t *testing.T, ns, bin, url string, extra ...string) {
	t.Helper()
	args := append([]string{"netns", "exec", ns, bin}, testbedtest.MinerArgs(url, extra...)...)
	cmd := exec.Command("ip", args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
}

// startHonestServer serves HTTP with keep-alive in namespace b: what a
// sidecar polling a health or metrics endpoint looks like.
func startHonestServer(t *testing.T, n *testenv.NetnsPair) netip.AddrPort {
	t.Helper()
	ln := listenB(t, n)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, `{"status":"ok","jobs":3,"method":"health"}`)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return netip.MustParseAddrPort(ln.Addr().String())
}

// pollHonest polls the honest server from namespace a over one kept-alive
// connection.
func pollHonest(t *testing.T, n *testenv.NetnsPair, addr netip.AddrPort) {
	t.Helper()
	var conn net.Conn
	testenv.InNetns(t, n.PathA(), func() error {
		var err error
		conn, err = net.Dial("tcp", addr.String())
		return err
	})
	client := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil }}}
	t.Cleanup(client.CloseIdleConnections)
	for range 3 {
		resp, err := client.Get("http://" + addr.String() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
