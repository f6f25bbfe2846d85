package pool

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

func startPool(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client is a raw line client for driving the pool by hand.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, s *Server, useTLS bool) *client {
	t.Helper()
	var c net.Conn
	var err error
	if useTLS {
		c, err = tls.Dial("tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = net.Dial("tcp", s.Addr())
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, conn: c, r: bufio.NewReader(c)}
}

func (c *client) send(line string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(line + "\n")); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads one message into a generic map.
func (c *client) recv() map[string]any {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		c.t.Fatalf("reply %q is not JSON: %v", line, err)
	}
	return m
}

// recvMethod skips messages until one with the given method (or a reply when method is "").
func (c *client) recvMethod(method string) map[string]any {
	c.t.Helper()
	for range 10 {
		m := c.recv()
		got, _ := m["method"].(string)
		if got == method {
			return m
		}
	}
	c.t.Fatalf("no %q message", method)
	return nil
}

func waitStats(t *testing.T, s *Server, what string, cond func(Stats) bool) Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Wait(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v; stats %+v", what, err, s.Stats())
	}
	return s.Stats()
}

func hasError(m map[string]any) bool {
	e, ok := m["error"]
	return ok && e != nil
}

func errText(m map[string]any) string {
	b, _ := json.Marshal(m["error"])
	return strings.ToLower(string(b))
}
