package intel

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// commLen is the kernel's process name limit (TASK_COMM_LEN 16, minus the NUL).
const commLen = 15

func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	// Accept "host:port" as command lines and configs write it.
	if host, _, err := net.SplitHostPort(h); err == nil && !strings.Contains(host, ":") {
		h = host
	}
	return strings.TrimSuffix(h, ".")
}

// validDomain accepts plain DNS names (letters, digits, '-', '_'), at least
// two labels; no wildcards, ports or IP addresses.
func validDomain(d string) error {
	if len(d) > 253 {
		return fmt.Errorf("domain %q longer than 253 bytes", d)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return fmt.Errorf("domain %q has a single label", d)
	}
	allDigits := true
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("domain %q has an empty or over-long label", d)
		}
		for _, c := range l {
			switch {
			case c >= 'a' && c <= 'z', c == '-', c == '_':
				allDigits = false
			case c >= '0' && c <= '9':
			default:
				return fmt.Errorf("domain %q: character %q not allowed", d, c)
			}
		}
	}
	if allDigits {
		return fmt.Errorf("%q is an address, not a domain", d)
	}
	return nil
}

func (in *Intel) addDomain(f []string) error {
	d := normalizeHost(f[0])
	if err := validDomain(d); err != nil {
		return err
	}
	in.domains[d] = Entry{Value: d, Source: f[1], Note: f[2]}
	return nil
}

// PoolDomain reports whether host is a listed pool domain or a subdomain of
// one, and returns the entry that matched. host is a DNS name, optionally
// with ":port"; case and a trailing dot do not matter.
func (in *Intel) PoolDomain(host string) (Entry, bool) {
	h := normalizeHost(host)
	for h != "" {
		if e, ok := in.domains[h]; ok {
			return e, true
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	return Entry{}, false
}

func (in *Intel) addName(f []string) error {
	n := strings.ToLower(f[0])
	if strings.ContainsAny(n, "/ ") {
		return fmt.Errorf("miner name %q: no slashes or spaces", f[0])
	}
	e := Entry{Value: n, Source: f[1], Note: f[2]}
	in.names[n] = e
	if len(n) > commLen {
		// Keep the first entry for a prefix so the result does not depend on order.
		if _, ok := in.comm15[n[:commLen]]; !ok {
			in.comm15[n[:commLen]] = e
		}
	}
	return nil
}

// MinerName reports whether a process or file name is a known miner program
// name (case-insensitive). A name of exactly 15 bytes also matches a longer
// entry it starts, since the kernel truncates process names to that length.
func (in *Intel) MinerName(name string) (Entry, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if e, ok := in.names[n]; ok {
		return e, true
	}
	if len(n) == commLen {
		if e, ok := in.comm15[n]; ok {
			return e, true
		}
	}
	return Entry{}, false
}

func (in *Intel) addPort(f []string) error {
	p, err := strconv.ParseUint(f[0], 10, 16)
	if err != nil || p == 0 {
		return fmt.Errorf("port %q: want 1 to 65535", f[0])
	}
	in.ports[uint16(p)] = Entry{Value: f[0], Source: f[1], Note: f[2]}
	return nil
}

// PoolPort reports whether port is typical of mining pools. This is weak
// evidence: plenty of honest services share these ports.
func (in *Intel) PoolPort(port uint16) bool {
	_, ok := in.ports[port]
	return ok
}

func (in *Intel) addHash(f []string) error {
	h := strings.ToLower(f[0])
	if len(h) != 64 {
		return fmt.Errorf("sha256 %q: want 64 hex digits", f[0])
	}
	if _, err := hex.DecodeString(h); err != nil {
		return fmt.Errorf("sha256 %q: %w", f[0], err)
	}
	in.hashes[h] = Entry{Value: h, Source: f[1], Note: f[2]}
	return nil
}

// ReleaseHash looks up a file's SHA-256 (hex, any case) among known miner
// release files.
func (in *Intel) ReleaseHash(sha256hex string) (Entry, bool) {
	e, ok := in.hashes[strings.ToLower(strings.TrimSpace(sha256hex))]
	return e, ok
}
