package miner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// XMRig's network timers (BaseClient, Pool).
const (
	connectTimeout    = 20 * time.Second
	responseTimeout   = 20 * time.Second
	keepAliveInterval = 60 * time.Second
	writeTimeout      = 20 * time.Second
)

// protocol is one pool dialect.
type protocol interface {
	hello(pc *poolConn) error
	handle(pc *poolConn, msg message) error
	submit(pc *poolConn, sh share) error
	keepalive(pc *poolConn) error
}

type pendingReq struct {
	kind  string
	share *share
	sent  time.Time
}

// poolConn is one connection to the pool.
type poolConn struct {
	m         *miner
	w         io.Writer
	conn      net.Conn // nil in fuzz tests
	host      string
	gen       uint64
	nextID    int64
	pending   map[int64]pendingReq
	lastSend  time.Time
	keepAlive bool // negotiated: pool extension or -k
	proto     protocol
}

type outRequest struct {
	ID      int64  `json:"id"`
	JSONRPC string `json:"jsonrpc,omitempty"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

// call sends one request and remembers what it was for.
func (pc *poolConn) call(method string, params any, kind string, sh *share) error {
	pc.nextID++
	req := outRequest{ID: pc.nextID, Method: method, Params: params}
	if pc.m.opts.Dialect == DialectXMRig {
		req.JSONRPC = "2.0"
	}
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode %s: %w", method, err)
	}
	if pc.conn != nil {
		_ = pc.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
	if _, err := pc.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write error: %q", err.Error())
	}
	pc.pending[pc.nextID] = pendingReq{kind: kind, share: sh, sent: time.Now()}
	pc.lastSend = time.Now()
	return nil
}

// take removes and returns the request a reply answers.
func (pc *poolConn) take(msg message) (pendingReq, bool) {
	id, ok := msg.replyID()
	if !ok {
		return pendingReq{}, false
	}
	p, ok := pc.pending[id]
	delete(pc.pending, id)
	return p, ok
}

// result logs an accepted or rejected share the way XMRig does.
func (pc *poolConn) result(p pendingReq, msg message) {
	m := pc.m
	ms := time.Since(p.sent).Milliseconds()
	var diff uint64
	if p.share != nil {
		diff = p.share.job.diff
	}
	if msg.failed() {
		m.rejected++
		m.log.printf("cpu", "rejected (%d/%d) diff %d %q (%d ms)", m.accepted, m.rejected, diff, msg.errorText(), ms)
		return
	}
	m.accepted++
	m.log.printf("cpu", "accepted (%d/%d) diff %d (%d ms)", m.accepted, m.rejected, diff, ms)
}

// connectLoop keeps one pool connection up, retrying after RetryPause;
// the threads keep hashing the last job while it is down.
func (m *miner) connectLoop(ctx context.Context) {
	for ctx.Err() == nil {
		err := m.session(ctx)
		if ctx.Err() != nil {
			return
		}
		m.log.printf("net", "%s %v", m.url.host, err)
		t := time.NewTimer(m.opts.RetryPause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (m *miner) dial(ctx context.Context) (net.Conn, string, error) {
	d := net.Dialer{Timeout: connectTimeout}
	c, err := d.DialContext(ctx, "tcp", m.url.host)
	if err != nil {
		return nil, "", fmt.Errorf("connect error: %q", errReason(err))
	}
	if !m.url.tls {
		return c, "", nil
	}
	host, _, _ := net.SplitHostPort(m.url.host)
	// Like XMRig: TLS with SNI, no certificate validation.
	tc := tls.Client(c, &tls.Config{ServerName: host, InsecureSkipVerify: true}) //nolint:gosec // miners do not verify pools
	hctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		c.Close()
		return nil, "", fmt.Errorf("TLS handshake error: %q", errReason(err))
	}
	return tc, tls.VersionName(tc.ConnectionState().Version), nil
}

func errReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// session runs one connection until it fails or ctx ends.
func (m *miner) session(ctx context.Context) error {
	c, tlsVer, err := m.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	ip, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	m.log.printf("net", "use pool %s %s %s", m.url, tlsVer, ip)
	pc := m.newPoolConn(c, c)

	lines := make(chan []byte)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go readLines(c, lines, readErr, done)

	if err := pc.proto.hello(pc); err != nil {
		return err
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			return fmt.Errorf("read error: %q", errReason(err))
		case line := <-lines:
			msg, err := parseMessage(line)
			if err != nil {
				continue // XMRig ignores lines it cannot parse
			}
			if err := pc.proto.handle(pc, msg); err != nil {
				return err
			}
		case sh := <-m.shares:
			if sh.job.conn != pc.gen {
				continue // found on an older connection's job
			}
			if err := pc.proto.submit(pc, sh); err != nil {
				return err
			}
		case <-tick.C:
			for _, p := range pc.pending {
				if time.Since(p.sent) > responseTimeout {
					return errors.New("read error: \"response timeout\"")
				}
			}
			if pc.keepAlive && time.Since(pc.lastSend) >= keepAliveInterval {
				if err := pc.proto.keepalive(pc); err != nil {
					return err
				}
			}
		}
	}
}

func (m *miner) newPoolConn(c net.Conn, w io.Writer) *poolConn {
	pc := &poolConn{m: m, w: w, conn: c, host: m.url.host, gen: m.gen.Add(1),
		pending: map[int64]pendingReq{}, keepAlive: m.opts.KeepAlive, lastSend: time.Now()}
	if m.opts.Dialect == DialectStratum {
		pc.proto = &stratumProto{diff: 1}
	} else {
		pc.proto = &xmrigProto{}
	}
	return pc
}

// readLines forwards newline-framed messages until an error or done.
func readLines(r io.Reader, lines chan<- []byte, errc chan<- error, done <-chan struct{}) {
	br := bufio.NewReaderSize(r, 4096)
	for {
		var buf []byte
		for {
			chunk, err := br.ReadSlice('\n')
			buf = append(buf, chunk...)
			if len(buf) > maxLineBytes {
				errc <- errors.New("line too long")
				return
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil {
				errc <- err
				return
			}
			break
		}
		select {
		case lines <- bytes.TrimSpace(buf):
		case <-done:
			return
		}
	}
}
