package miner

import (
	"fmt"
	"net"
	"strings"
)

// defaultPort is XMRig's default pool port.
const defaultPort = "3333"

// URL prefixes as they appear in miner command lines and configs.
const (
	schemeTCP = "stratum+tcp://"
	schemeSSL = "stratum+ssl://"
)

// poolURL is a parsed -o value.
type poolURL struct {
	scheme string
	host   string // host:port
	tls    bool
}

func (u poolURL) String() string {
	if u.tls {
		return schemeSSL + u.host
	}
	return schemeTCP + u.host
}

// parsePoolURL accepts stratum+tcp://, stratum+ssl://, stratum+tls:// or a
// bare host[:port]; forceTLS is --tls or "tls": true.
func parsePoolURL(s string, forceTLS bool) (poolURL, error) {
	u := poolURL{scheme: "stratum+tcp", tls: forceTLS}
	rest := strings.TrimSpace(s)
	if i := strings.Index(rest, "://"); i >= 0 {
		u.scheme, rest = strings.ToLower(rest[:i]), rest[i+3:]
	}
	switch u.scheme {
	case "stratum+tcp", "stratum", "tcp":
	case "stratum+ssl", "stratum+tls", "ssl", "tls":
		u.tls = true
	default:
		return u, fmt.Errorf("pool url %q: unsupported scheme %q", s, u.scheme)
	}
	if u.tls {
		u.scheme = "stratum+ssl"
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		host, port = rest, defaultPort
	}
	if host == "" {
		return u, fmt.Errorf("pool url %q: no host", s)
	}
	u.host = net.JoinHostPort(host, port)
	return u, nil
}
