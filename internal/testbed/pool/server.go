package pool

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Server is a running pool.
type Server struct {
	cfg Config
	ln  net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	stats    Stats
	changed  chan struct{}
	sessions map[*session]struct{}
	jobs     []job // newest last; older ones stay valid for late shares
	seq      uint64
	seedHash string
	closed   bool
}

// keptJobs is how many recent jobs still accept shares.
const keptJobs = 4

// Start listens on cfg.Addr and serves until ctx ends or Close is called.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("pool listen %s: %w", cfg.Addr, err)
	}
	if cfg.TLS {
		cert, err := selfSignedCert()
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("pool tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &Server{
		cfg:      cfg,
		ln:       ln,
		ctx:      sctx,
		cancel:   cancel,
		changed:  make(chan struct{}),
		sessions: make(map[*session]struct{}),
		seedHash: randomHex(32),
	}
	s.newJobLocked()
	s.wg.Add(3)
	go s.acceptLoop()
	go s.jobLoop()
	go func() { defer s.wg.Done(); <-sctx.Done(); s.shutdown() }()
	return s, nil
}

// shutdown runs once ctx ends: no new connections, every open one dropped.
func (s *Server) shutdown() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for ss := range s.sessions {
		ss.close()
	}
	s.mu.Unlock()
}

// Addr is the listening address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the address as a miner would be given it.
func (s *Server) URL() string {
	if s.cfg.TLS {
		return "stratum+ssl://" + s.Addr()
	}
	return "stratum+tcp://" + s.Addr()
}

// Close stops the listener, drops every connection and waits for them.
// Cancelling Start's ctx does the same without the wait.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (e.g. EMFILE): back off instead of spinning.
			s.cfg.Logger.Warn("accept", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		s.admit(c)
	}
}

func (s *Server) admit(c net.Conn) {
	s.mu.Lock()
	if s.closed || len(s.sessions) >= s.cfg.MaxConns {
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			s.update(func(st *Stats) { st.Refused++ })
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.Write(xmrigError(nullID, -1, "too many connections"))
		}
		c.Close()
		return
	}
	ss := newSession(s, c)
	s.sessions[ss] = struct{}{}
	s.stats.Connections++
	s.stats.Active = len(s.sessions)
	s.notifyLocked()
	s.wg.Add(2)
	s.mu.Unlock()
	s.cfg.Logger.Info("connection", "remote", c.RemoteAddr().String())
	go func() { defer s.wg.Done(); ss.writeLoop() }()
	go func() { defer s.wg.Done(); ss.readLoop(); s.drop(ss) }()
}

func (s *Server) drop(ss *session) {
	ss.close()
	s.update(func(st *Stats) {
		delete(s.sessions, ss)
		st.Active = len(s.sessions)
	})
}

func (s *Server) jobLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.JobInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		j := s.newJobLocked()
		targets := make([]*session, 0, len(s.sessions))
		for ss := range s.sessions {
			targets = append(targets, ss)
		}
		s.mu.Unlock()
		for _, ss := range targets {
			ss.pushJob(j, true)
		}
	}
}

// newJobLocked makes the next job; s.mu must be held (or s unshared).
func (s *Server) newJobLocked() job {
	s.seq++
	j := newJob(s.seq, 3_000_000+s.seq, s.seedHash)
	s.jobs = append(s.jobs, j)
	if len(s.jobs) > keptJobs {
		s.jobs = s.jobs[len(s.jobs)-keptJobs:]
	}
	return j
}

func (s *Server) currentJob() job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[len(s.jobs)-1]
}

// jobKnown reports whether id is one of the recent jobs.
func (s *Server) jobKnown(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.id == id {
			return true
		}
	}
	return false
}
