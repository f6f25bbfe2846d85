package miner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// maxConfigBytes bounds the config file; XMRig's full config is ~5 KiB.
const maxConfigBytes = 1 << 20

// fileConfig is the subset of XMRig's config.json the simulator reads,
// plus a "testbed" object for knobs XMRig does not have.
type fileConfig struct {
	DonateLevel *int            `json:"donate-level"`
	PrintTime   *int            `json:"print-time"`
	RetryPause  *int            `json:"retry-pause"`
	UserAgent   *string         `json:"user-agent"`
	CPU         json.RawMessage `json:"cpu"`
	Pools       []filePool      `json:"pools"`
	Testbed     *struct {
		Dialect    string  `json:"dialect"`
		Duty       float64 `json:"duty"`
		DatasetMiB int     `json:"dataset-mib"`
		Threads    int     `json:"threads"`
	} `json:"testbed"`
}

type filePool struct {
	URL       string  `json:"url"`
	User      string  `json:"user"`
	Pass      string  `json:"pass"`
	RigID     *string `json:"rig-id"`
	TLS       bool    `json:"tls"`
	KeepAlive bool    `json:"keepalive"`
	Enabled   *bool   `json:"enabled"`
	Algo      *string `json:"algo"`
	Coin      *string `json:"coin"`
}

type fileCPU struct {
	Enabled *bool           `json:"enabled"`
	Yield   *bool           `json:"yield"`
	RX      json.RawMessage `json:"rx"`
}

// applyConfigFile merges an XMRig JSON config into o; flags named in set
// were given on the command line and keep their value.
func applyConfigFile(o *Options, path string, set map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return fmt.Errorf("config %s: larger than %d bytes", path, maxConfigBytes)
	}
	return applyConfig(o, data, set)
}

func applyConfig(o *Options, data []byte, set map[string]bool) error {
	var c fileConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	keep := func(names ...string) bool {
		for _, n := range names {
			if set[n] {
				return true
			}
		}
		return false
	}
	if c.DonateLevel != nil && !keep("donate-level") {
		o.DonateLevel = *c.DonateLevel
	}
	if c.PrintTime != nil && !keep("print-time") {
		o.PrintTime = time.Duration(*c.PrintTime) * time.Second
	}
	if c.RetryPause != nil && !keep("R", "retry-pause") {
		o.RetryPause = time.Duration(*c.RetryPause) * time.Second
	}
	if c.UserAgent != nil && *c.UserAgent != "" && !keep("user-agent") {
		o.UserAgent = *c.UserAgent
	}
	if err := applyCPU(o, c.CPU, keep); err != nil {
		return err
	}
	for _, p := range c.Pools {
		if p.Enabled != nil && !*p.Enabled || p.URL == "" {
			continue
		}
		if !keep("o", "url") {
			o.URL, o.TLS = p.URL, o.TLS || p.TLS
			if !keep("u", "user") {
				o.User = p.User
			}
			if !keep("p", "pass") && p.Pass != "" {
				o.Pass = p.Pass
			}
			if p.RigID != nil && !keep("rig-id") {
				o.RigID = *p.RigID
			}
			o.KeepAlive = o.KeepAlive || p.KeepAlive
			if p.Algo != nil && *p.Algo != "" && !keep("a", "algo") {
				o.Algo = *p.Algo
			}
			if p.Coin != nil && *p.Coin != "" && !keep("coin") {
				o.Coin = *p.Coin
			}
		}
		break // XMRig uses the first enabled pool; the rest are failover
	}
	if t := c.Testbed; t != nil {
		if t.Dialect != "" && !keep("dialect") {
			o.Dialect = t.Dialect
		}
		if t.Duty != 0 && !keep("duty") {
			o.Duty = t.Duty
		}
		if t.DatasetMiB != 0 && !keep("dataset-mib") {
			o.DatasetMiB = t.DatasetMiB
		}
		if t.Threads != 0 && !keep("t", "threads") {
			o.Threads = t.Threads
		}
	}
	return nil
}

// applyCPU reads "cpu": either a bool or XMRig's object, where the length
// of the "rx" thread array is the thread count.
func applyCPU(o *Options, raw json.RawMessage, keep func(...string) bool) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil // absent, true or false: nothing to change
	}
	var cpu fileCPU
	if err := json.Unmarshal(raw, &cpu); err != nil {
		return fmt.Errorf("config cpu: %w", err)
	}
	if cpu.Yield != nil && !keep("cpu-no-yield") {
		o.Yield = *cpu.Yield
	}
	var threads []json.RawMessage
	if json.Unmarshal(cpu.RX, &threads) == nil && len(threads) > 0 && !keep("t", "threads") {
		o.Threads = len(threads)
	}
	return nil
}
