package proto

import (
	"bytes"
	"encoding/json"

	"github.com/davyproject/davy/internal/intel/wallet"
)

// rpcMsg is one JSON-RPC line of any of the JSON dialects: a request or
// notification (Method set) or a response (Result set). Fields other
// dialects add are ignored.
type rpcMsg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	// Worker is eth_submitLogin's worker name, a top-level member in that
	// dialect.
	Worker string `json:"worker"`
}

// jsonState gathers what the lines of both directions showed.
type jsonState struct {
	r *Result
	// Dialect markers; the most specific one set names the protocol.
	v1, cn, es1, es2 bool
	// client and server: a line of that direction matched.
	client, server bool
	// clientHandshake: a client line was a handshake message (subscribe,
	// authorize, configure, login, hello, eth_submitLogin).
	clientHandshake bool
	// serverStrong: a server line carried work or a handshake result.
	serverStrong bool
	// shares counts client share submissions of the dialect's exact shape
	// (nonce and result hex): a flow joined mid-stream may show nothing
	// else when shares come fast.
	shares int
}

// recognizeJSON reads the JSON dialects. It is called only when the client
// starts with a JSON object or sent nothing: a server answering an HTTP
// request or a binary protocol is not a JSON dialect, whatever it sends back.
func recognizeJSON(r *Result, client, server []byte) {
	s := jsonState{r: r}
	jsonLines(client, s.clientLine)
	jsonLines(server, s.serverLine)
	s.finish()
}

func (s *jsonState) clientLine(line []byte) {
	if !mayMatter(line, clientWords) {
		return
	}
	var m rpcMsg
	// A request has an id that is a number or a string; notifications
	// from a client are not part of any dialect's handshake.
	if json.Unmarshal(line, &m) != nil || !isRequestID(m.ID) {
		return
	}
	if s.v1Client(&m) || s.cnClient(&m) || s.ethClient(&m) {
		s.client = true
		s.r.addMethod(m.Method)
	}
}

func (s *jsonState) serverLine(line []byte) {
	if !mayMatter(line, serverWords) && !(bytes.Contains(line, workWord) && bytes.IndexByte(line, '[') >= 0) {
		return
	}
	var m rpcMsg
	if json.Unmarshal(line, &m) != nil {
		return
	}
	if s.v1Server(&m) || s.cnServer(&m) || s.ethServer(&m) {
		s.server = true
		if m.Method != "" {
			s.r.addMethod(m.Method)
		}
	}
}

// finish names the protocol and weighs the evidence.
func (s *jsonState) finish() {
	r := s.r
	switch {
	case s.es2:
		r.Protocol = ProtoEthereumStratum2
	case s.es1:
		r.Protocol = ProtoEthereumStratum1
	case s.cn:
		r.Protocol = ProtoCryptoNote
	case s.v1:
		r.Protocol = ProtoStratumV1
	default:
		*r = Result{}
		return
	}
	if r.Login != "" {
		for _, a := range wallet.Find(r.Login) {
			// Single-case Ethereum hex has no checksum: any 40 hex
			// digits would do, so it is not proof of a wallet.
			if a.Kind != wallet.KindHex {
				r.Wallet = a
				r.addEvidence(EvLoginWallet)
				break
			}
		}
	}
	switch {
	case s.client && s.server, s.clientHandshake && r.Wallet.Coin != "":
		r.Confidence = ConfidenceHigh
	case s.clientHandshake || s.serverStrong || s.shares >= 2:
		r.Confidence = ConfidenceMedium
	default:
		r.Confidence = ConfidenceLow
	}
}

// setAgent, setLogin and setJob keep the first value seen.
func (s *jsonState) setAgent(a string) {
	if a = field(a); a != "" && s.r.Agent == "" {
		s.r.Agent = a
		s.r.addEvidence(EvAgent)
	}
}

func (s *jsonState) setLogin(l string) {
	if l = field(l); l != "" && s.r.Login == "" {
		s.r.Login = l
		s.r.addEvidence(EvLogin)
	}
}

func (s *jsonState) setJob(ev, id string) {
	s.r.Job = true
	if id = field(id); id != "" && s.r.JobID == "" {
		s.r.JobID = id
	}
	s.r.addEvidence(ev)
}

var newline = []byte{'\n'}

// jsonLines calls fn with each line of b for as long as the lines are JSON
// objects, from the very start of b. The first line that is not one ends the
// reading: a stream that is not JSON lines from its start (HTTP, a chat
// protocol, a log) is another protocol, whatever words it carries later, and
// a line broken by a gap or a retransmission is not trusted, nor anything
// after it.
func jsonLines(b []byte, fn func(line []byte)) {
	for n := 0; n < MaxLines && len(b) > 0; n++ {
		line, rest, _ := bytes.Cut(b, newline)
		b = rest
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(line) > MaxLineBytes || line[0] != '{' || !json.Valid(line) {
			return
		}
		fn(line)
	}
}

// startsJSON reports whether b's first non-blank byte opens a JSON object.
func startsJSON(b []byte) bool {
	for i := 0; i < len(b) && i < 64; i++ {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// mayMatter reports whether a line holds one of the quoted words, or an
// escape that could spell one: only then is it worth decoding.
func mayMatter(line []byte, words [][]byte) bool {
	if bytes.IndexByte(line, '\\') >= 0 {
		return true
	}
	for _, w := range words {
		if bytes.Contains(line, w) {
			return true
		}
	}
	return false
}

// jsonKind classifies a raw JSON value by its first byte: '{', '[', '"',
// 'n' (null), 't'/'f' (booleans), '0' (numbers), or 0 when absent.
func jsonKind(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; {
	case c == '-' || c >= '0' && c <= '9':
		return '0'
	default:
		return c
	}
}

func isRequestID(raw json.RawMessage) bool {
	k := jsonKind(raw)
	return k == '0' || k == '"'
}

// absent reports whether params were left out or null.
func absent(raw json.RawMessage) bool {
	k := jsonKind(raw)
	return k == 0 || k == 'n'
}

// arrayOf decodes a JSON array of at most max elements.
func arrayOf(raw json.RawMessage, max int) ([]json.RawMessage, bool) {
	if jsonKind(raw) != '[' {
		return nil, false
	}
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil || len(a) > max {
		return nil, false
	}
	return a, true
}

// objectOf decodes a JSON object into v.
func objectOf(raw json.RawMessage, v any) bool {
	return jsonKind(raw) == '{' && json.Unmarshal(raw, v) == nil
}

// stringOf decodes a JSON string.
func stringOf(raw json.RawMessage) (string, bool) {
	if jsonKind(raw) != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// allStrings reports whether every element is a string (or, with nulls,
// null).
func allStrings(a []json.RawMessage, nulls bool) bool {
	for _, v := range a {
		k := jsonKind(v)
		if k != '"' && !(nulls && k == 'n') {
			return false
		}
	}
	return true
}

// isHex reports whether s is min to max hex digits.
func isHex(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// is0xHex reports whether s is "0x" and then min to max hex digits.
func is0xHex(s string, min, max int) bool {
	return len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2:], min, max)
}

// nonEmpty dereferences a decoded optional string member.
func nonEmpty(p *string) bool { return p != nil && *p != "" }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
