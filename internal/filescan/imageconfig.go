package filescan

import (
	"context"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/davyproject/davy/internal/minertext"
)

// maxConfigValue bounds one image config string that is read.
const maxConfigValue = 1 << 20

// ScanImageConfig reads what an image is told to run and carries: its
// Entrypoint and Cmd (as one command line), Env values, Labels, OnBuild
// triggers, health check and the created_by lines of its history. Each is
// read like a line of a script: stratum URLs (C001), wallets (C002), miner
// flags (C003), pool hosts (N001) and the dropper rules (S001-S009, e.g. a
// RUN line piping a download from a raw IP into sh). base64 blobs in the
// strings are decoded and scanned too. Paths are "config:Entrypoint",
// "config:Env[2]", "config:Labels[key]", "config:history[3]".
func (e *Engine) ScanImageConfig(cfg *v1.ConfigFile) []Finding {
	if cfg == nil {
		return nil
	}
	s := &scan{e: e, ctx: context.Background(), budget: e.opts.MaxArchiveBytes}
	c := cfg.Config
	if len(c.Entrypoint)+len(c.Cmd) > 0 {
		where := "Entrypoint"
		switch {
		case len(c.Entrypoint) == 0:
			where = "Cmd"
		case len(c.Cmd) > 0:
			where = "Entrypoint+Cmd"
		}
		argv := append(append([]string{}, c.Entrypoint...), c.Cmd...)
		s.configValue(where, strings.Join(argv, " "))
	}
	for i, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		s.configValue(fmt.Sprintf("Env[%d]", i), v, "variable "+k)
	}
	keys := make([]string, 0, len(c.Labels))
	for k := range c.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.configValue("Labels["+k+"]", c.Labels[k])
	}
	for i, t := range c.OnBuild {
		s.configValue(fmt.Sprintf("OnBuild[%d]", i), t)
	}
	if c.Healthcheck != nil && len(c.Healthcheck.Test) > 0 {
		s.configValue("Healthcheck", strings.Join(c.Healthcheck.Test, " "))
	}
	for i, h := range cfg.History {
		s.configValue(fmt.Sprintf("history[%d]", i), h.CreatedBy)
	}
	return s.findings
}

// configValue reads one config string as script lines, with its endpoints
// and base64 blobs.
func (s *scan) configValue(where, v string, what ...string) {
	if v == "" {
		return
	}
	v = cut(v, maxConfigValue)
	path := "config:" + where
	subject := "image config " + where
	if len(what) > 0 {
		subject += " (" + what[0] + ")"
	}
	a := s.e.newAnalyzer(kindScript, subject)
	for _, line := range strings.Split(v, "\n") {
		line = cut(line, maxLineBytes)
		a.line(0, []byte(line), s.e.maskOf(line))
	}
	s.endpoint(a, v)
	t := s.base64Tracker(path, 0)
	t.write([]byte(v))
	t.close()
	s.add(a.finish(path)...)
}

// endpoint reports a value that is itself a pool endpoint or domain
// (POOL=pool.example.com:443): N001 when the pool is known.
func (s *scan) endpoint(a *analyzer, v string) {
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v, " \t\n") || a.hasAny("DAVY-N001") {
		return
	}
	h := v
	if minertext.IsEndpoint(v) || minertext.StratumRe.MatchString(v) {
		h = minertext.HostOf(v)
	}
	if !strings.Contains(h, ".") {
		return
	}
	if en, ok := s.e.in.PoolDomain(h); ok {
		a.record("DAVY-N001", 0, v, "names the mining pool "+quote(h)+" (known as "+en.Value+", "+en.Source+")",
			map[string]string{"host": h, "pool": en.Value})
	}
}
