package proto

import (
	"encoding/json"
	"strings"
)

// Stratum v1 (slush/Braiins, BIP-310) and the parts of EthereumStratum/1.0.0
// that share its method names. Each method is accepted only with the params
// shape the protocol gives it, so a JSON-RPC service that happens to use one
// of the names with other params does not match.

// v1Client handles the client's stratum v1 methods and reports whether m was
// one of them, well formed.
func (s *jsonState) v1Client(m *rpcMsg) bool {
	switch m.Method {
	case mSubscribe:
		// params: [] or [agent] or [agent, extranonce1 to resume];
		// EthereumStratum/1.0.0 puts its protocol name second, NiceHash's
		// HMAC variant a timestamp and an HMAC. EthereumStratum/2 sends
		// no params at all (after mining.hello).
		var agent string
		if !absent(m.Params) {
			p, ok := arrayOf(m.Params, 4)
			if !ok || !allStrings(p, true) {
				return false
			}
			if len(p) > 0 {
				agent, _ = stringOf(p[0])
			}
			if len(p) > 1 {
				if v, _ := stringOf(p[1]); strings.HasPrefix(v, es1ProtoPrefix) {
					s.es1 = true
					s.r.addEvidence(EvEthProto1)
				}
			}
		}
		s.v1, s.clientHandshake = true, true
		s.r.addEvidence(EvMethodSubscribe)
		s.setAgent(agent)
		return true
	case mAuthorize:
		// params: [user, password]; the password may be missing or null.
		p, ok := arrayOf(m.Params, 3)
		if !ok || len(p) == 0 || !allStrings(p, true) {
			return false
		}
		user, _ := stringOf(p[0])
		if user == "" {
			return false
		}
		s.v1, s.clientHandshake = true, true
		s.r.addEvidence(EvMethodAuthorize)
		s.setLogin(user)
		return true
	case mConfigure:
		// BIP-310: [[extension names], {extension parameters}].
		p, ok := arrayOf(m.Params, 2)
		if !ok || len(p) != 2 || jsonKind(p[1]) != '{' {
			return false
		}
		names, ok := arrayOf(p[0], 16)
		if !ok || len(names) == 0 || !allStrings(names, false) {
			return false
		}
		s.v1, s.clientHandshake = true, true
		s.r.addEvidence(EvMethodConfigure)
		return true
	case mExtranonceSub:
		if !absent(m.Params) {
			if p, ok := arrayOf(m.Params, 0); !ok || len(p) != 0 {
				return false
			}
		}
		s.v1 = true
		s.r.addEvidence(EvMethodExtranonceSub)
		return true
	case mSubmit:
		// v1: [worker, job_id, extranonce2, ntime, nonce (, version_bits)];
		// EthereumStratum/1.0.0: [worker, job_id, nonce]; KawPow adds
		// header and mix hashes.
		p, ok := arrayOf(m.Params, 7)
		if !ok || len(p) < 3 || !allStrings(p, false) {
			return false
		}
		worker, _ := stringOf(p[0])
		if worker == "" {
			return false
		}
		s.v1 = true
		s.shares++
		s.r.addEvidence(EvMethodSubmit)
		s.setLogin(worker)
		return true
	}
	return false
}

// v1Server handles the server's stratum v1 notifications and the subscribe
// result.
func (s *jsonState) v1Server(m *rpcMsg) bool {
	switch m.Method {
	case mNotify:
		// v1: [job_id, prevhash, coinb1, coinb2, [merkle], version, nbits,
		// ntime, clean]; EthereumStratum/1.0.0: [job_id, seedhash,
		// headerhash, clean]; EthereumStratum/2.0.0 and KawPow differ again.
		// Common to all: an array of at least four with the job id first.
		p, ok := arrayOf(m.Params, 16)
		if !ok || len(p) < 4 {
			return false
		}
		id, ok := stringOf(p[0])
		if !ok || id == "" {
			return false
		}
		s.v1, s.serverStrong = true, true
		s.setJob(EvServerJob, id)
		return true
	case mSetDifficulty:
		p, ok := arrayOf(m.Params, 1)
		if !ok || len(p) != 1 || jsonKind(p[0]) != '0' {
			return false
		}
		s.v1 = true
		s.setJob(EvServerDifficulty, "")
		return true
	case mSetTarget:
		p, ok := arrayOf(m.Params, 1)
		if !ok || len(p) != 1 {
			return false
		}
		if t, _ := stringOf(p[0]); !isHex(strings.TrimPrefix(t, "0x"), 1, 64) {
			return false
		}
		s.v1 = true
		s.setJob(EvServerDifficulty, "")
		return true
	case mSetExtranonce:
		// [extranonce1 (, extranonce2_size)]
		p, ok := arrayOf(m.Params, 2)
		if !ok || len(p) == 0 {
			return false
		}
		if e, _ := stringOf(p[0]); !isHex(e, 1, 64) {
			return false
		}
		if len(p) == 2 && jsonKind(p[1]) != '0' {
			return false
		}
		s.v1 = true
		s.r.addEvidence(EvServerExtranonce)
		return true
	case "":
		return s.v1SubscribeResult(m.Result)
	}
	return false
}

// v1SubscribeResult recognises mining.subscribe's result:
//
//	v1:    [[["mining.set_difficulty", id], ["mining.notify", id]], extranonce1, extranonce2_size]
//	ES/1:  [["mining.notify", id, "EthereumStratum/1.0.0"], extranonce]
//
// Some pools send one subscription pair instead of a list of them; both are
// taken. At least one subscription must name a server notification.
func (s *jsonState) v1SubscribeResult(result json.RawMessage) bool {
	res, ok := arrayOf(result, 3)
	if !ok || len(res) < 2 {
		return false
	}
	if en1, ok := stringOf(res[1]); !ok || !isHex(en1, 0, 64) {
		return false
	}
	if len(res) == 3 && jsonKind(res[2]) != '0' {
		return false
	}
	subs, ok := arrayOf(res[0], 8)
	if !ok || len(subs) == 0 {
		return false
	}
	if jsonKind(subs[0]) != '[' {
		subs = []json.RawMessage{res[0]} // a single pair
	}
	named, es1 := false, false
	for _, sub := range subs {
		t, ok := arrayOf(sub, 3)
		if !ok || len(t) < 2 || !allStrings(t, false) {
			return false
		}
		name, _ := stringOf(t[0])
		switch name {
		case mNotify, mSetDifficulty, mSetExtranonce:
			named = true
		}
		if len(t) == 3 {
			if v, _ := stringOf(t[2]); strings.HasPrefix(v, es1ProtoPrefix) {
				es1 = true
			}
		}
	}
	if !named {
		return false
	}
	s.v1, s.serverStrong = true, true
	if es1 {
		s.es1 = true
		s.r.addEvidence(EvEthProto1)
	}
	s.r.addEvidence(EvServerSubscribeResult)
	return true
}
