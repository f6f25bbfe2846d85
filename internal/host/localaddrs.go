package host

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// maxNetFile bounds the read of /proc/PID/net/fib_trie and if_inet6: a
// namespace with thousands of routes is still a few hundred KiB.
const maxNetFile = 512 << 10

// LocalAddrs returns the addresses of the network namespace process pid
// is in (IPv4 from net/fib_trie, IPv6 from net/if_inet6), read from
// procFS ("" means /proc): a connection the process makes leaves from one
// of them.
func LocalAddrs(procFS string, pid int) []netip.Addr {
	if procFS == "" {
		procFS = "/proc"
	}
	dir := procFS + "/" + strconv.Itoa(pid) + "/net/"
	buf := make([]byte, maxNetFile)
	var out []netip.Addr
	if data, _, err := readFile(dir+"fib_trie", buf); err == nil {
		out = append(out, parseFibTrieLocal(data)...)
	}
	if data, _, err := readFile(dir+"if_inet6", buf); err == nil {
		out = append(out, parseIfInet6(data)...)
	}
	return out
}

// parseFibTrieLocal reads the addresses fib_trie marks "/32 host LOCAL":
// each follows the "|-- ADDR" line it belongs to. Duplicates (the Main and
// Local tables both list them) are dropped.
func parseFibTrieLocal(data []byte) []netip.Addr {
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	var last netip.Addr
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 256), 4096)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if a, ok := strings.CutPrefix(line, "|-- "); ok {
			last, _ = netip.ParseAddr(a)
			continue
		}
		if line == "/32 host LOCAL" && last.Is4() && !seen[last] {
			seen[last] = true
			out = append(out, last)
		}
	}
	return out
}

// parseIfInet6 reads if_inet6: 32 hex digits of address first on each line.
func parseIfInet6(data []byte) []netip.Addr {
	var out []netip.Addr
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || len(f[0]) != 32 {
			continue
		}
		var b [16]byte
		if _, err := hex.Decode(b[:], []byte(f[0])); err == nil {
			out = append(out, netip.AddrFrom16(b))
		}
	}
	return out
}
