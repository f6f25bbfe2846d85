package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/davyproject/davy/internal/netns"
	"github.com/davyproject/davy/internal/testbed"
)

// pair is the two namespaces of the run, a (clients, capture) and b
// (servers), on 10.203.0.0/24.
type pair struct{ a, b, vethA string }

var (
	ipA = netip.MustParseAddr("10.203.0.1")
	ipB = netip.MustParseAddr("10.203.0.2")
)

func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func newPair() (*pair, error) {
	var r [3]byte
	rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	p := &pair{a: "davybench-" + id + "-a", b: "davybench-" + id + "-b", vethA: "dvb" + id + "a"}
	steps := [][]string{
		{"netns", "add", p.a}, {"netns", "add", p.b},
		{"link", "add", p.vethA, "netns", p.a, "type", "veth", "peer", "name", "dvb" + id + "b", "netns", p.b},
		{"-n", p.a, "addr", "add", ipA.String() + "/24", "dev", p.vethA},
		{"-n", p.b, "addr", "add", ipB.String() + "/24", "dev", "dvb" + id + "b"},
		{"-n", p.a, "link", "set", p.vethA, "up"}, {"-n", p.b, "link", "set", "dvb" + id + "b", "up"},
		{"-n", p.a, "link", "set", "lo", "up"}, {"-n", p.b, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			p.remove()
			return nil, err
		}
	}
	return p, nil
}

func (p *pair) remove() {
	exec.Command("ip", "netns", "del", p.a).Run()
	exec.Command("ip", "netns", "del", p.b).Run()
}

func listenIn(ns string) (net.Listener, error) {
	var ln net.Listener
	err := netns.Do("/run/netns/"+ns, func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(ipB, 0).String())
		return err
	})
	return ln, err
}

func dialIn(ns string, addr string) (net.Conn, error) {
	var c net.Conn
	err := netns.Do("/run/netns/"+ns, func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr, 5*time.Second)
		return err
	})
	return c, err
}

// echo answers each read with a short acknowledgement: chatty traffic.
func echo(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				if _, err := c.Write([]byte("ok\n")); err != nil {
					return
				}
			}
		}()
	}
}

// miningPool answers a login line with a job, as a CryptoNote pool does.
func miningPool(ln net.Listener) {
	job := `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"1be0b7b6-b15a-47be-a17d-46b2911cf7d0","job":{"blob":"070780e6b9d60586ba419a0c224e3c6c3e134cc45c4fa04d8ee2d91c2595463c57eef0a4f0796c000000002fcc4d62fa6c77e76c30017c768be5c61d83ec9d3a085d524ba8053ecc3224660d","job_id":"q7PLUPL25UV0z5Ij14IyMk8htXbj","target":"b88d0600"},"status":"OK"}}` + "\n"
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
				c.Write([]byte(job))
			}
			time.Sleep(200 * time.Millisecond)
		}()
	}
}

func run(o options) error {
	p, err := newPair()
	if err != nil {
		return err
	}
	defer p.remove()
	sink, err := listenIn(p.b)
	if err != nil {
		return err
	}
	defer sink.Close()
	go echo(sink)
	poolLn, err := listenIn(p.b)
	if err != nil {
		return err
	}
	defer poolLn.Close()
	go miningPool(poolLn)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	var out strings.Builder
	capCmd := exec.Command(self, capture, "-for", (o.duration + 3*time.Second).String())
	capCmd.Env = append(os.Environ(), captured+"="+p.a)
	capCmd.Stdout, capCmd.Stderr = &out, os.Stderr
	if err := capCmd.Start(); err != nil {
		return err
	}
	time.Sleep(time.Second) // the capture is open

	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var writes atomic.Int64
	var wg sync.WaitGroup
	// Each write and its answer are about two packets (acks ride along).
	perFlow := max(1, o.pps/2/o.flows)
	for range o.flows {
		c, err := dialIn(p.a, sink.Addr().String())
		if err != nil {
			return err
		}
		c.(*net.TCPConn).SetNoDelay(true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			go func() {
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
			msg := []byte(strings.Repeat("x", 120))
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					for range perFlow / 100 {
						if _, err := c.Write(msg); err != nil {
							return
						}
						writes.Add(1)
					}
				}
			}
		}()
	}
	login := fmt.Sprintf(`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"%s","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"}}`+"\n", testbed.MoneroWallet)
	var opened atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		every := o.duration / time.Duration(o.handshakes+1)
		for range o.handshakes {
			select {
			case <-ctx.Done():
				return
			case <-time.After(every):
			}
			c, err := dialIn(p.a, poolLn.Addr().String())
			if err != nil {
				continue
			}
			c.Write([]byte(login))
			bufio.NewReader(c).ReadString('\n')
			c.Close()
			opened.Add(1)
		}
	}()
	wg.Wait()
	if err := capCmd.Wait(); err != nil {
		return fmt.Errorf("capture process: %w", err)
	}
	var r result
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		return fmt.Errorf("capture output %q: %w", out.String(), err)
	}
	report(o, r, opened.Load(), writes.Load())
	return nil
}

func report(o options, r result, handshakes, writes int64) {
	pps := float64(r.Received) / o.duration.Seconds()
	cpu := r.CPUSeconds / r.Seconds
	rss := float64(r.MaxRSSKiB) / 1024
	missed := handshakes - int64(r.Recognized)
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	fmt.Printf("packet capture in a network namespace under load (%d chatty flows, %d writes)\n\n", o.flows, writes)
	fmt.Printf("%-40s %14s %12s %6s\n", "measure", "value", "bar", "")
	fmt.Printf("%-40s %14.0f %12s %6s\n", "packets/s seen by the capture", pps, fmt.Sprint(barRate), verdict(pps >= barRate))
	fmt.Printf("%-40s %13.1f%% %11.0f%% %6s\n", "capture CPU (of one core)", 100*cpu, 100*barCPU, verdict(cpu <= barCPU))
	fmt.Printf("%-40s %10.1f MiB %8d MiB %6s\n", "capture peak RSS", rss, barRSS, verdict(rss < barRSS))
	fmt.Printf("%-40s %14s %12s %6s\n", "miner handshakes recognised", fmt.Sprintf("%d/%d", r.Recognized, handshakes), "all", verdict(missed <= 0 || uint64(missed) <= r.Dropped))
	fmt.Printf("%-40s %14d %12s\n", "packets dropped (counted)", r.Dropped, "counted")
	fmt.Printf("\nratios: CPU/bar %.2f, RSS/bar %.2f, packets/s vs bar %.2f; CPU per million packets %.2f s\n",
		cpu/barCPU, rss/barRSS, pps/barRate, r.CPUSeconds/float64(max(r.Received, 1))*1e6)
	fmt.Println("the capture's CPU is its process's; the kernel's filter and ring copy run in the receive path, outside it")
}
