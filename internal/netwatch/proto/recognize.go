// Package proto recognises cryptocurrency mining protocols, and TLS, from
// the first bytes of a TCP connection, whatever its port.
//
// The packet capture reassembles each direction of a flow in order and hands
// over its first bytes (a few KiB each way, possibly truncated) as a Flow;
// Recognize reads them and says which protocol they are, how sure it is, and
// what the handshake revealed: the miner's user agent, its login (and the
// wallet in it), the server's job, the TLS server name and fingerprints.
//
// Recognize is called once per flow with what the capture has gathered so
// far, not fed segment by segment: it keeps no state, so calling it again
// with more bytes simply gives the answer for more bytes. Every prefix of a
// valid opening is recognised as that protocol or not at all, never as
// another, so an early call is safe. Everything here is a pure function of
// its input: no I/O, bounded work (MaxDirectionBytes, MaxLines,
// MaxLineBytes) and no panics on any input. A flow of another protocol is
// only scanned, not decoded (a JSON line is decoded only when it holds a
// known method name), and costs no allocation.
//
// The JSON dialects (stratum v1, CryptoNote, EthereumStratum 1 and 2) are
// recognised only from lines that are JSON objects from the very start of a
// direction, whose top-level "method" is a known method and whose params
// have the method's shape. A word inside an HTTP body, a chat message or a
// log line therefore never matches: such a stream does not start with a
// JSON object, or its method is another one.
//
// Stratum V2 is encrypted and has no magic bytes: only a plaintext
// SetupConnection is recognised for sure, an encrypted handshake only as a
// low-confidence candidate from its message sizes (see sv2.go and
// docs/netwatch-protocols.md).
package proto

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/davyproject/davy/internal/intel/wallet"
)

// Bounds on what Recognize reads.
const (
	// MaxDirectionBytes is how much of each direction is looked at.
	MaxDirectionBytes = 16 << 10
	// MaxLines is how many lines of a JSON dialect are read each way.
	MaxLines = 16
	// MaxLineBytes is the longest JSON line decoded; a longer line ends
	// the reading of that direction (XMRig's login, the longest handshake
	// line, is under 1 KiB).
	MaxLineBytes = 4 << 10
	// MaxFieldBytes caps the agent, login, host and job strings kept.
	MaxFieldBytes = 256
)

// Protocol is a recognised protocol. Its String form is the stable name used
// in messages and reports.
type Protocol uint8

// Protocols. The names are given by String; they are not Go string
// constants because the mining names must not appear in davy's binary.
const (
	ProtoNone               Protocol = iota // ""
	ProtoStratumV1                          // "stratum-v1": Bitcoin-style stratum (mining.subscribe, mining.notify)
	ProtoCryptoNote                         // "cryptonote": the XMRig/Monero login/job/submit dialect
	ProtoEthereumStratum1                   // "ethereum-stratum-1": EthereumStratum/1.0.0 (NiceHash) and eth_submitLogin proxies
	ProtoEthereumStratum2                   // "ethereum-stratum-2": EthereumStratum/2.0.0 (EIP-1571, mining.hello)
	ProtoTLS                                // "tls": a TLS ClientHello
	ProtoStratumV2                          // "stratum-v2": a plaintext Stratum V2 SetupConnection
	ProtoStratumV2Candidate                 // "stratum-v2-candidate": sizes fit a Stratum V2 Noise handshake
)

func (p Protocol) String() string {
	if int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return "protocol(" + strconv.Itoa(int(p)) + ")"
}

// MarshalText gives the protocol's name, so reports carry names, not numbers.
func (p Protocol) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Mining reports whether p is a mining protocol (TLS is not: what runs
// inside it is the caller's guess from the server name).
func (p Protocol) Mining() bool { return p != ProtoNone && p != ProtoTLS }

// Confidence is how sure a recognition is.
type Confidence uint8

// Confidence levels.
const (
	ConfidenceNone Confidence = iota
	// ConfidenceLow: only message sizes (the Stratum V2 candidate), a
	// ClientHello cut short, or messages of one direction that prove
	// little on their own (a difficulty change, a share, a keepalive).
	ConfidenceLow
	// ConfidenceMedium: one direction shows a complete, well-formed
	// handshake message (a subscribe, authorize, login, hello or
	// SetupConnection, a ClientHello) or the server sent a job.
	ConfidenceMedium
	// ConfidenceHigh: both directions agree (the server's messages answer
	// the client's), or the client's handshake carries a checksum-valid
	// wallet.
	ConfidenceHigh
)

var confidenceNames = [...]string{"none", "low", "medium", "high"}

func (c Confidence) String() string {
	if int(c) < len(confidenceNames) {
		return confidenceNames[c]
	}
	return "confidence(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText gives the confidence's name.
func (c Confidence) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Evidence names: stable, short, and free of mining words so they can be
// written plainly.
const (
	EvMethodSubscribe       = "method:subscribe"
	EvMethodAuthorize       = "method:authorize"
	EvMethodConfigure       = "method:configure"
	EvMethodExtranonceSub   = "method:extranonce-subscribe"
	EvMethodSubmit          = "method:submit"
	EvMethodHello           = "method:hello"
	EvMethodLogin           = "method:login"
	EvMethodKeepalive       = "method:keepalive"
	EvMethodSubmitLogin     = "method:submit-login"
	EvMethodGetWork         = "method:get-work"
	EvMethodSubmitWork      = "method:submit-work"
	EvAgent                 = "agent"
	EvLogin                 = "login"
	EvLoginWallet           = "login-wallet"
	EvEthProto1             = "eth-proto-1"
	EvEthProto2             = "eth-proto-2"
	EvServerSubscribeResult = "server-subscribe-result"
	EvServerJob             = "server-job"
	EvServerDifficulty      = "server-difficulty"
	EvServerExtranonce      = "server-extranonce"
	EvServerHelloResult     = "server-hello-result"
	EvServerWork            = "server-work"
	EvTLSClientHello        = "tls-client-hello"
	EvTLSTruncated          = "tls-truncated"
	EvTLSSNI                = "tls-sni"
	EvTLSALPN               = "tls-alpn"
	EvTLSServerHello        = "tls-server-hello"
	EvSV2SetupConnection    = "sv2-setup-connection"
	EvSV2SetupReply         = "sv2-setup-reply"
	EvSV2Act1Size           = "sv2-act1-size"
	EvSV2Act2Size           = "sv2-act2-size"
)

// Flow is the opening of one TCP connection as the capture saw it.
type Flow struct {
	// Client and Server are the first bytes each direction carried,
	// reassembled in sequence order. Only MaxDirectionBytes of each are read.
	Client, Server []byte
	// ClientFirstLen and ServerFirstLen are the payload lengths of the
	// first data segment each way, 0 when unknown. Only the Stratum V2
	// candidate uses them: its handshake is told apart by message sizes,
	// which the concatenated bytes no longer show once later messages
	// follow.
	ClientFirstLen, ServerFirstLen int
	// MidStream says the capture joined the flow after it began: each
	// direction's bytes may start inside a message. Only the JSON
	// dialects are read then, from each direction's first line break on,
	// and only a medium or high confidence counts.
	MidStream bool
}

// Result is what Recognize found. The zero value means nothing was
// recognised. A Result never refers to the Flow's bytes.
type Result struct {
	Protocol   Protocol
	Confidence Confidence
	// Methods are the recognised JSON-RPC method names seen, client's and
	// server's, in order of first appearance, as on the wire.
	Methods []string
	// Agent is the miner's user agent: mining.subscribe's first param,
	// the CryptoNote login's "agent", mining.hello's "agent", or a Stratum
	// V2 SetupConnection's vendor, hardware and firmware.
	Agent string
	// Login is the pool login: mining.authorize's user (or mining.submit's
	// worker), the CryptoNote login's "login", eth_submitLogin's account
	// (as "account.worker" when it names a worker).
	Login string
	// Wallet is the first checksum-valid address in Login (Ethereum hex
	// without an EIP-55 checksum does not count); zero if none.
	Wallet wallet.Address
	// Host is the pool host the client names: mining.hello's "host" or a
	// Stratum V2 SetupConnection's endpoint_host.
	Host string
	// Job is set when the server sent work or its difficulty
	// (mining.notify, a CryptoNote job, mining.set_difficulty/set_target,
	// mining.set, eth_getWork work); JobID is the job's id when it has one.
	Job   bool
	JobID string
	// SNI, ALPN, JA3 and JA4 describe a TLS ClientHello; JA3 is the full
	// JA3 string (JA3Hash gives its MD5), JA4 the JA4 fingerprint. The
	// fingerprints are set only for a complete ClientHello.
	SNI  string
	ALPN []string
	JA3  string
	JA4  string
	// Evidence holds the Ev* names of what matched, in order found.
	Evidence []string
}

// Has reports whether the evidence name ev was found.
func (r *Result) Has(ev string) bool {
	for _, e := range r.Evidence {
		if e == ev {
			return true
		}
	}
	return false
}

// String is Summary.
func (r Result) String() string { return r.Summary() }

// Summary is a one-line description for alerts and logs, e.g.
// `cryptonote (high) methods=login,job agent="..." login="..." wallet=monero job evidence=...`.
func (r Result) Summary() string {
	if r.Protocol == ProtoNone {
		return "unrecognised"
	}
	var b strings.Builder
	b.WriteString(r.Protocol.String())
	b.WriteString(" (")
	b.WriteString(r.Confidence.String())
	b.WriteByte(')')
	if len(r.Methods) > 0 {
		b.WriteString(" methods=")
		b.WriteString(strings.Join(r.Methods, ","))
	}
	quoted := func(k, v string) {
		if v != "" {
			b.WriteString(" " + k + "=")
			b.WriteString(strconv.Quote(v))
		}
	}
	quoted("agent", r.Agent)
	quoted("login", r.Login)
	if r.Wallet.Coin != "" {
		b.WriteString(" wallet=" + r.Wallet.Coin)
	}
	quoted("host", r.Host)
	if r.Job {
		b.WriteString(" job")
		quoted("id", r.JobID)
	}
	quoted("sni", r.SNI)
	if len(r.ALPN) > 0 {
		b.WriteString(" alpn=" + strconv.Quote(strings.Join(r.ALPN, ",")))
	}
	if r.JA4 != "" {
		b.WriteString(" ja4=" + r.JA4)
	}
	if len(r.Evidence) > 0 {
		b.WriteString(" evidence=")
		b.WriteString(strings.Join(r.Evidence, ","))
	}
	return b.String()
}

// Recognize is Flow{Client: client, Server: server}.Recognize().
func Recognize(client, server []byte) Result {
	return Flow{Client: client, Server: server}.Recognize()
}

// Recognize says which protocol the flow's opening bytes are.
//
// The client's first bytes pick the parser that can apply: a JSON object for
// the JSON dialects, a TLS handshake record, a Stratum V2 frame header; what
// none of them claims gets the size test for a Stratum V2 Noise handshake.
// With no client bytes (the capture missed them) only the server's JSON
// lines are read.
func (f Flow) Recognize() Result {
	client, server := clip(f.Client), clip(f.Server)
	var r Result
	if f.MidStream {
		client, server = afterLineBreak(client), afterLineBreak(server)
		if (len(client) > 0 || len(server) > 0) && (len(client) == 0 || startsJSON(client)) {
			recognizeJSON(&r, client, server)
		}
		if r.Confidence < ConfidenceMedium {
			r = Result{}
		}
		return r
	}
	switch {
	case len(client) == 0 || startsJSON(client):
		recognizeJSON(&r, client, server)
	case client[0] == tlsRecordHandshake:
		recognizeTLS(&r, client, server)
	case client[0] == 0 && len(client) >= 2 && client[1] == 0:
		recognizeSV2Plain(&r, client, server)
	}
	if r.Protocol == ProtoNone {
		// A Noise key is random: it may start like a JSON object, a TLS
		// record or a frame header by chance.
		recognizeSV2Noise(&r, f, client, server)
	}
	return r
}

// afterLineBreak drops b up to and including its first line break: in a
// flow joined mid-stream, what comes before it is the tail of a message.
func afterLineBreak(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return nil
}

func clip(b []byte) []byte {
	if len(b) > MaxDirectionBytes {
		return b[:MaxDirectionBytes]
	}
	return b
}

// addEvidence appends ev once.
func (r *Result) addEvidence(ev string) {
	if r.Evidence == nil {
		r.Evidence = make([]string, 0, 8)
	}
	if !r.Has(ev) {
		r.Evidence = append(r.Evidence, ev)
	}
}

// addMethod appends the wire method name m once.
func (r *Result) addMethod(m string) {
	for _, x := range r.Methods {
		if x == m {
			return
		}
	}
	r.Methods = append(r.Methods, m)
}

// field bounds and cleans a string taken from the wire so it is safe to put
// in a message: valid UTF-8, no control characters, at most MaxFieldBytes.
func field(s string) string {
	if len(s) > MaxFieldBytes {
		s = s[:MaxFieldBytes]
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}
