package minertext

import (
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Limits on what the command-line parser looks at: a hostile process can
// have a 100,000-argument command line.
const (
	maxArgs   = 4096
	maxArgLen = 8192
	MaxFacts  = 64
)

// CmdlineFacts is what a command line says about mining, before judgement.
type CmdlineFacts struct {
	StratumURLs []string
	// Hosts are host names from pool URLs and -o/--url style flags.
	Hosts []string
	// Flags are miner-specific flags found (e.g. "--donate-level").
	Flags []string
	// PoolUser is set when the command line has the -o URL -u USER pair
	// every miner uses.
	PoolUser bool
	// Configs are files named by -c/--config.
	Configs []string
	// Text is the bounded, space-joined command line for wallet search.
	Text string
}

var StratumRe = regexp.MustCompile(`(?i)\bstratum[0-9]?(?:\+(?:tcp|ssl|tls|udp|ws|wss))*://[^\s"',;]+`)

func ParseCmdline(args []string) CmdlineFacts {
	var f CmdlineFacts
	if len(args) > maxArgs {
		args = args[:maxArgs]
	}
	var text strings.Builder
	hasPool, hasUser := false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) > maxArgLen {
			a = a[:maxArgLen]
		}
		text.WriteString(a)
		text.WriteByte(' ')
		name, val, hasVal := strings.Cut(a, "=")
		next := func() string {
			if hasVal {
				return val
			}
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		for _, u := range StratumRe.FindAllString(a, 4) {
			f.StratumURLs = AppendLimited(f.StratumURLs, u)
			if h := HostOf(u); h != "" {
				f.Hosts = AppendLimited(f.Hosts, h)
			}
			hasPool = true
		}
		switch name {
		case "-o", "--url", "--pool", "-P":
			// "-o" is also curl's and many tools' output file: only an
			// endpoint with a port counts as a pool.
			if v := next(); IsEndpoint(v) {
				hasPool = true
				if h := HostOf(v); h != "" {
					f.Hosts = AppendLimited(f.Hosts, h)
				}
			}
		case "-u", "--user", "--wallet", "-w", "--userpass", "-O":
			hasUser = next() != ""
		case "-c", "--config":
			if v := next(); v != "" {
				f.Configs = AppendLimited(f.Configs, v)
			}
		case "-a", "--algo", "--algorithm":
			if v := next(); algoRe.MatchString(v) {
				f.Flags = AppendLimited(f.Flags, name+"="+v)
			}
		}
		for _, mf := range minerFlags {
			if name == mf {
				f.Flags = AppendLimited(f.Flags, mf)
			}
		}
	}
	f.PoolUser = hasPool && hasUser
	f.Text = text.String()
	return f
}

// hostPort strips "scheme://user@" and any path from an endpoint, leaving
// "host:port" or "host".
func hostPort(s string) string {
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// IsEndpoint reports whether s is "host:port" or a URL with a port.
func IsEndpoint(s string) bool {
	h, port, err := net.SplitHostPort(hostPort(s))
	if err != nil || h == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n < 65536
}

// HostOf extracts the host from "scheme://user@host:port/path" or "host:port".
func HostOf(s string) string {
	s = hostPort(s)
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if s == "" || len(s) > 253 || strings.ContainsAny(s, " \t\n\"'") {
		return ""
	}
	return s
}

func AppendLimited(list []string, s string) []string {
	if len(list) >= MaxFacts {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
