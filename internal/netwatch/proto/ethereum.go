package proto

import "strings"

// The Ethereum-family dialects beyond the shared stratum v1 methods:
//
//   - EthereumStratum/2.0.0 (EIP-1571): mining.hello with an object naming
//     agent, host, port and proto, answered by a result naming the proto;
//     mining.set carries epoch, target, algo and extranonce.
//   - the eth_submitLogin/eth_getWork/eth_submitWork dialect of geth-style
//     stratum proxies ("ETHPROXY"), reported as ethereum-stratum-1 with its
//     own evidence: JSON-RPC over plain TCP lines rather than HTTP, which is
//     what tells it from a node's RPC.

type helloParams struct {
	Agent *string `json:"agent"`
	Host  *string `json:"host"`
	Port  *string `json:"port"`
	Proto *string `json:"proto"`
}

type helloResult struct {
	Proto *string `json:"proto"`
}

type setParams struct {
	Epoch      *string `json:"epoch"`
	Target     *string `json:"target"`
	Algo       *string `json:"algo"`
	Extranonce *string `json:"extranonce"`
}

// ethClient handles mining.hello and the eth_* proxy methods.
func (s *jsonState) ethClient(m *rpcMsg) bool {
	switch m.Method {
	case mHello:
		var p helloParams
		if !objectOf(m.Params, &p) || p.Agent == nil || p.Proto == nil || !strings.HasPrefix(*p.Proto, es2ProtoPrefix) {
			return false
		}
		// EIP-1571 sends the port as hex digits without 0x.
		if p.Port != nil && !isHex(*p.Port, 1, 4) {
			return false
		}
		s.es2, s.clientHandshake = true, true
		s.r.addEvidence(EvMethodHello)
		s.r.addEvidence(EvEthProto2)
		s.setAgent(*p.Agent)
		if h := field(deref(p.Host)); h != "" && s.r.Host == "" {
			s.r.Host = h
		}
		return true
	case mEthSubmitLogin:
		// params: [account (, password)], worker as a top-level member.
		p, ok := arrayOf(m.Params, 2)
		if !ok || len(p) == 0 || !allStrings(p, false) {
			return false
		}
		account, _ := stringOf(p[0])
		if account == "" {
			return false
		}
		s.es1, s.clientHandshake = true, true
		s.r.addEvidence(EvMethodSubmitLogin)
		if w := m.Worker; w != "" {
			account += "." + w
		}
		s.setLogin(account)
		return true
	case mEthGetWork:
		if !absent(m.Params) {
			if p, ok := arrayOf(m.Params, 0); !ok || len(p) != 0 {
				return false
			}
		}
		s.es1 = true
		s.r.addEvidence(EvMethodGetWork)
		return true
	case mEthSubmitWork:
		// [nonce (8 bytes), header hash, mix digest]
		p, ok := arrayOf(m.Params, 3)
		if !ok || len(p) != 3 {
			return false
		}
		nonce, _ := stringOf(p[0])
		header, _ := stringOf(p[1])
		mix, _ := stringOf(p[2])
		if !is0xHex(nonce, 16, 16) || !is0xHex(header, 64, 64) || !is0xHex(mix, 64, 64) {
			return false
		}
		s.es1 = true
		s.r.addEvidence(EvMethodSubmitWork)
		return true
	}
	return false
}

// ethServer handles the hello result, mining.set and eth_getWork work.
func (s *jsonState) ethServer(m *rpcMsg) bool {
	switch m.Method {
	case mSet:
		var p setParams
		if !objectOf(m.Params, &p) || p.Target == nil && p.Epoch == nil {
			return false
		}
		for _, v := range []*string{p.Target, p.Epoch, p.Extranonce} {
			if v != nil && !isHex(*v, 1, 64) {
				return false
			}
		}
		s.es2 = true
		s.setJob(EvServerDifficulty, "")
		return true
	case "":
		switch jsonKind(m.Result) {
		case '{':
			var res helloResult
			if !objectOf(m.Result, &res) || res.Proto == nil || !strings.HasPrefix(*res.Proto, es2ProtoPrefix) {
				return false
			}
			s.es2, s.serverStrong = true, true
			s.r.addEvidence(EvServerHelloResult)
			return true
		case '[':
			// eth_getWork: [header hash, seed hash, target (, block number)]
			p, ok := arrayOf(m.Result, 4)
			if !ok || len(p) < 3 {
				return false
			}
			header, _ := stringOf(p[0])
			seed, _ := stringOf(p[1])
			target, _ := stringOf(p[2])
			if !is0xHex(header, 64, 64) || !is0xHex(seed, 64, 64) || !is0xHex(target, 1, 64) {
				return false
			}
			s.es1, s.serverStrong = true, true
			s.setJob(EvServerWork, "")
			return true
		}
	}
	return false
}
