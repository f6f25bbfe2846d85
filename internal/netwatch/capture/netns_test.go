package capture

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/davyproject/davy/internal/testenv"
)

// DNS names the test server answers, all under .invalid (RFC 2606), which
// no real resolver answers.
const (
	poolName  = "pool.test.invalid"
	edgeName  = "edge.pool.test.invalid"
	hostName  = "a.edge.test.invalid"
	answerTTL = 120
)

var poolChain = []string{poolName, edgeName, hostName}

// startDNS serves poolName's chain on b's addresses, port 53, UDP and TCP:
// A gives ipB, AAAA gives ip6B.
func startDNS(t *testing.T, n *testenv.NetnsPair) {
	t.Helper()
	handler := mdns.HandlerFunc(func(w mdns.ResponseWriter, q *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(q)
		if len(q.Question) == 1 && strings.EqualFold(q.Question[0].Name, poolName+".") {
			rr := func(s string) {
				r, err := mdns.NewRR(s)
				if err != nil {
					panic(err)
				}
				m.Answer = append(m.Answer, r)
			}
			rr(fmt.Sprintf("%s. 300 IN CNAME %s.", poolName, edgeName))
			rr(fmt.Sprintf("%s. %d IN CNAME %s.", edgeName, answerTTL, hostName))
			switch q.Question[0].Qtype {
			case mdns.TypeA:
				rr(fmt.Sprintf("%s. 600 IN A %s", hostName, n.IPB))
			case mdns.TypeAAAA:
				rr(fmt.Sprintf("%s. 600 IN AAAA %s", hostName, n.IP6B))
			}
		} else {
			m.Rcode = mdns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	var pc net.PacketConn
	var ln net.Listener
	testenv.InNetns(t, n.PathB(), func() error {
		var err error
		if pc, err = net.ListenPacket("udp", netip.AddrPortFrom(n.IPB, 53).String()); err != nil {
			return err
		}
		ln, err = net.Listen("tcp", netip.AddrPortFrom(n.IPB, 53).String())
		return err
	})
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
}

// startLineServer listens on addr inside ns and answers each line it reads
// with "ack " and the line, until the client closes.
func startLineServer(t *testing.T, ns string, addr netip.AddrPort) netip.AddrPort {
	t.Helper()
	var ln net.Listener
	testenv.InNetns(t, ns, func() error {
		var err error
		ln, err = net.Listen("tcp", addr.String())
		return err
	})
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := io.WriteString(c, "ack "+line); err != nil {
						return
					}
				}
			})
		}
	})
	return netip.MustParseAddrPort(ln.Addr().String())
}

// dialIn connects to addr from inside ns.
func dialIn(t *testing.T, ns, network string, addr netip.AddrPort) net.Conn {
	t.Helper()
	var c net.Conn
	testenv.InNetns(t, ns, func() error {
		var err error
		c, err = net.DialTimeout(network, addr.String(), 5*time.Second)
		return err
	})
	return c
}

// talk sends lines on c, reading each answer before the next line so that
// each line and each answer is one segment, then closes c after the server
// has nothing more to say. It returns what each side sent.
func talk(t *testing.T, c net.Conn, lines ...string) (client, server string) {
	t.Helper()
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for _, l := range lines {
		if _, err := io.WriteString(c, l+"\n"); err != nil {
			t.Fatal(err)
		}
		ans, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		client += l + "\n"
		server += ans
	}
	// Half-close, then wait for the server's FIN, so that both FINs are
	// on the wire when talk returns.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Fatalf("after the lines: %q %v", rest, err)
	}
	return client, server
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
