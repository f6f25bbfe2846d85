// Package dns is Davy's passive DNS: it decodes the DNS answers a capture
// sees (UDP payloads, and TCP streams with their 2-byte length prefixes)
// and remembers, per workload, which names each address was given for,
// following CNAME chains back to the name the client asked for, for as
// long as the answer's TTL allows (clamped).
//
// It never sends a query: resolving a miner's pool name from the node
// would tell the pool (or whoever watches its DNS) that Davy looked, could
// give an answer other than the one the workload got (geo-balancing,
// split-horizon DNS, a resolver of the workload's own), and is traffic
// Davy has no business making. What the workload was told is what
// matters, and it is what this package keeps. See
// docs/netwatch-capture.md.
package dns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// MaxChain bounds a CNAME chain followed from the question's name (the
// usual resolver limit is 8 to 16; longer chains are cut there).
const MaxChain = 16

// Parse errors.
var (
	ErrNotResponse = errors.New("DNS message is a query, not an answer")
	ErrNoQuestion  = errors.New("DNS answer without exactly one question")
)

// Response is what a DNS answer tells about addresses.
type Response struct {
	ID uint16
	// Name is the question's name, lower case, without the final dot;
	// Type its type (mdns.TypeA, TypeAAAA, ...).
	Name  string
	Type  uint16
	Rcode int
	// Truncated is the TC bit: the answer is partial and the client will
	// ask again over TCP.
	Truncated bool
	// Addrs are the A and AAAA records reachable from Name through the
	// answer's CNAMEs; records about other names are ignored, so that an
	// answer cannot attribute an address to a name it was not asked
	// about.
	Addrs []Addr
}

// Addr is one address of an answer.
type Addr struct {
	IP netip.Addr
	// Chain is the question's name, then each CNAME's target up to the
	// owner of the address record.
	Chain []string
	// TTL is the least TTL along the chain, in seconds: the time the
	// whole path from Name to IP is valid.
	TTL uint32
}

// Parse decodes one DNS message: a UDP payload, or a TCP message without
// its length prefix. Messages that are not answers, or that do not hold
// exactly one question, are errors; an answer with no address is not.
func Parse(msg []byte) (*Response, error) {
	var m mdns.Msg
	if err := m.Unpack(msg); err != nil {
		return nil, fmt.Errorf("decoding DNS message: %w", err)
	}
	if !m.Response {
		return nil, ErrNotResponse
	}
	if len(m.Question) != 1 {
		return nil, ErrNoQuestion
	}
	r := &Response{
		ID: m.Id, Name: normalize(m.Question[0].Name), Type: m.Question[0].Qtype,
		Rcode: m.Rcode, Truncated: m.Truncated,
	}
	if m.Rcode != mdns.RcodeSuccess {
		return r, nil
	}
	// The CNAMEs by owner; the first one wins, as a resolver would take
	// it.
	type cname struct {
		target string
		ttl    uint32
	}
	cnames := map[string]cname{}
	for _, rr := range m.Answer {
		if c, ok := rr.(*mdns.CNAME); ok && c.Hdr.Class == mdns.ClassINET {
			owner := normalize(c.Hdr.Name)
			if _, dup := cnames[owner]; !dup {
				cnames[owner] = cname{normalize(c.Target), c.Hdr.Ttl}
			}
		}
	}
	// The chain from the question's name, and the least TTL up to each
	// link.
	chain, ttls := []string{r.Name}, []uint32{^uint32(0)}
	for len(chain) < MaxChain {
		c, ok := cnames[chain[len(chain)-1]]
		if !ok || contains(chain, c.target) {
			break
		}
		chain = append(chain, c.target)
		ttls = append(ttls, min(ttls[len(ttls)-1], c.ttl))
	}
	for _, rr := range m.Answer {
		var ip netip.Addr
		var h *mdns.RR_Header
		switch a := rr.(type) {
		case *mdns.A:
			ip, _ = netip.AddrFromSlice(a.A.To4())
			h = &a.Hdr
		case *mdns.AAAA:
			ip, _ = netip.AddrFromSlice(a.AAAA.To16())
			h = &a.Hdr
		default:
			continue
		}
		if !ip.IsValid() || h.Class != mdns.ClassINET {
			continue
		}
		i := index(chain, normalize(h.Name))
		if i < 0 {
			continue
		}
		r.Addrs = append(r.Addrs, Addr{IP: ip.Unmap(), Chain: chain[: i+1 : i+1], TTL: min(ttls[i], h.Ttl)})
	}
	return r, nil
}

// SplitTCP returns the complete messages at the start of a DNS-over-TCP
// stream (each behind a 2-byte length) and how many bytes they took; the
// rest is an incomplete message.
func SplitTCP(stream []byte) (msgs [][]byte, used int) {
	for len(stream)-used >= 2 {
		n := int(binary.BigEndian.Uint16(stream[used:]))
		if len(stream)-used-2 < n {
			break
		}
		msgs = append(msgs, stream[used+2:used+2+n])
		used += 2 + n
	}
	return msgs, used
}

// normalize lower-cases a name and drops its final dot: DNS names are
// case-insensitive, and clients ask in any case (some on purpose, as
// 0x20 encoding).
func normalize(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

func index(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool { return index(list, s) >= 0 }
