package pool

import (
	"context"
	"time"
)

// Dialect names as reported in Login.Dialect.
const (
	DialectXMRig   = "xmrig"
	DialectStratum = "stratum"
)

// Login is one successful login (XMRig "login" or stratum "mining.authorize").
type Login struct {
	Dialect string
	// User is the login: usually a wallet, maybe with ".worker" or "+diff".
	User   string
	Pass   string
	Agent  string
	RigID  string
	Remote string
	At     time.Time
}

// Stats is a snapshot of what the pool has seen.
type Stats struct {
	Connections    int // accepted connections, ever
	Active         int // open right now
	Refused        int // closed at once because MaxConns was reached
	LoginCount     int // logins, ever
	Logins         []Login
	SharesAccepted int
	SharesRejected int
	JobsSent       int // job notifications written, all miners
	BadMessages    int // malformed or unknown messages answered with an error
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Logins = append([]Login(nil), s.stats.Logins...)
	return st
}

// Wait blocks until cond holds for the current stats or ctx ends.
func (s *Server) Wait(ctx context.Context, cond func(Stats) bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s.Stats()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// update mutates stats under the lock and wakes waiters.
func (s *Server) update(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.notifyLocked()
	s.mu.Unlock()
}

// notifyLocked wakes Wait callers; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) recordLogin(l Login) {
	s.update(func(st *Stats) {
		st.LoginCount++
		if len(st.Logins) < s.cfg.MaxLogins {
			st.Logins = append(st.Logins, l)
		}
	})
}
