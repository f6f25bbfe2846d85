// Package pool is a small stratum pool for tests: it speaks stratum v1
// (mining.subscribe/authorize/notify/submit) and the XMRig/CryptoNote dialect
// (login/job/submit/keepalived), records who logged in, and counts shares.
// It never validates proof of work; it checks a share's shape, job and
// claimed result against the target.
package pool

import (
	"log/slog"
	"time"
)

// Defaults applied by Start for zero Config fields.
const (
	DefaultAddr         = "127.0.0.1:0"
	DefaultJobInterval  = 30 * time.Second
	DefaultDifficulty   = 10000
	DefaultMaxConns     = 256
	DefaultMaxLineBytes = 64 << 10
	DefaultIdleTimeout  = 10 * time.Minute
	DefaultMaxLogins    = 1024
)

// Config configures a Server. The zero value is usable.
type Config struct {
	// Addr is the listen address; default loopback with a free port.
	Addr string
	// TLS serves stratum+ssl with a self-signed certificate made at start.
	TLS bool
	// JobInterval is how often a new job is pushed to every miner.
	JobInterval time.Duration
	// Difficulty is the share difficulty sent to miners.
	Difficulty uint64
	// MaxConns caps concurrent connections; extra ones get an error and are closed.
	MaxConns int
	// MaxLineBytes caps one message; longer lines are answered with an error and skipped.
	MaxLineBytes int
	// IdleTimeout closes a connection that sends nothing for this long.
	IdleTimeout time.Duration
	// MaxLogins caps how many Login records Stats keeps (the count keeps going).
	MaxLogins int
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.JobInterval <= 0 {
		c.JobInterval = DefaultJobInterval
	}
	if c.Difficulty == 0 {
		c.Difficulty = DefaultDifficulty
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxLogins <= 0 {
		c.MaxLogins = DefaultMaxLogins
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
