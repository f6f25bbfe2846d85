package host

import (
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/prometheus/procfs"
)

// tcpStates names the TCP states of include/net/tcp_states.h.
var tcpStates = [...]string{
	1:  "ESTABLISHED",
	2:  "SYN_SENT",
	3:  "SYN_RECV",
	4:  "FIN_WAIT1",
	5:  "FIN_WAIT2",
	6:  "TIME_WAIT",
	7:  "CLOSE",
	8:  "CLOSE_WAIT",
	9:  "LAST_ACK",
	10: "LISTEN",
	11: "CLOSING",
	12: "NEW_SYN_RECV",
}

func tcpStateName(st uint64) string {
	if st < uint64(len(tcpStates)) && tcpStates[st] != "" {
		return tcpStates[st]
	}
	return "UNKNOWN"
}

// netTables are the socket tables read in each network namespace. procfs
// marks these readers deprecated in favour of sock_diag netlink; they stay
// here because they need nothing but a readable /proc (fixtures included).
var netTables = []struct {
	proto string
	read  func(procfs.FS) (procfs.NetTCP, error)
}{
	{"tcp", procfs.FS.NetTCP},
	{"tcp6", procfs.FS.NetTCP6},
	{"udp", func(fs procfs.FS) (procfs.NetTCP, error) { t, err := fs.NetUDP(); return procfs.NetTCP(t), err }},
	{"udp6", func(fs procfs.FS) (procfs.NetTCP, error) { t, err := fs.NetUDP6(); return procfs.NetTCP(t), err }},
}

// readSockets reads the TCP and UDP tables once per network namespace,
// through one of the namespace's processes, and attaches each socket to the
// processes that hold it (found through /proc/PID/fd links "socket:[N]").
func (s *scanner) readSockets(procs map[int]*tracked) {
	byNS := map[uint64][]*tracked{}
	for _, t := range procs {
		if t.p.NetNS != 0 {
			byNS[t.p.NetNS] = append(byNS[t.p.NetNS], t)
		}
	}
	socks := map[uint64]Socket{}
	for _, group := range byNS {
		slices.SortFunc(group, func(a, b *tracked) int { return a.p.PID - b.p.PID })
		clear(socks)
		for _, t := range group {
			if s.readNetTables(t.p.PID, socks) {
				break
			}
		}
		if len(socks) == 0 {
			continue
		}
		for _, t := range group {
			var targets []string
			err := guard(func() error {
				var err error
				targets, err = t.proc.FileDescriptorTargets()
				return err
			})
			if err != nil {
				s.skipped[SkipFD]++
				continue
			}
			for _, target := range targets {
				ino, ok := parseSocketLink(target)
				if !ok {
					continue
				}
				if sk, ok := socks[ino]; ok {
					t.p.Sockets = append(t.p.Sockets, sk)
				}
			}
		}
	}
}

// readNetTables reads the namespace's socket tables through process pid into
// socks (by inode). It returns false when the process is gone before any
// table was read, so that another process of the namespace can be tried.
func (s *scanner) readNetTables(pid int, socks map[uint64]Socket) bool {
	fs, err := procfs.NewFS(filepath.Join(s.opts.ProcFS, strconv.Itoa(pid)))
	if err != nil {
		return false
	}
	for i, tab := range netTables {
		var lines procfs.NetTCP
		err := guard(func() error {
			var err error
			lines, err = tab.read(fs)
			return err
		})
		if err != nil {
			if isGoneErr(err) {
				if i == 0 && s.exited(pid) {
					return false
				}
				continue // e.g. no tcp6 without IPv6
			}
			s.skipped[SkipNet]++
			continue
		}
		for _, l := range lines {
			if l == nil || l.Inode == 0 {
				continue // TIME_WAIT and other orphans belong to no process
			}
			sk := Socket{
				Proto:  tab.proto,
				Local:  addrPort(l.LocalAddr, l.LocalPort),
				Remote: addrPort(l.RemAddr, l.RemPort),
				Inode:  l.Inode,
				UID:    int(l.UID),
			}
			if tab.proto == "tcp" || tab.proto == "tcp6" {
				sk.State = tcpStateName(l.St)
			}
			socks[l.Inode] = sk
		}
	}
	return true
}

// addrPort converts procfs's address; IPv4-mapped IPv6 addresses of tcp6
// and udp6 sockets stay as the kernel reports them (use Addr().Unmap()).
func addrPort(ip []byte, port uint64) netip.AddrPort {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || port > 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a, uint16(port))
}
