package proto

import "encoding/json"

// The CryptoNote dialect XMRig, xmr-stak and the Monero pools speak:
// JSON-RPC objects with object params (login, submit, keepalived from the
// client; a login result carrying the first job, then "job" notifications
// from the server). "login", "submit" and "job" are common method names, so
// each is accepted only with the members these messages have.

type cnLoginParams struct {
	Login *string `json:"login"`
	Pass  *string `json:"pass"`
	Agent *string `json:"agent"`
}

type cnSubmitParams struct {
	ID     *string `json:"id"`
	JobID  *string `json:"job_id"`
	Nonce  *string `json:"nonce"`
	Result *string `json:"result"`
}

type cnKeepaliveParams struct {
	ID *string `json:"id"`
}

// cnJob is a job as the login result and "job" notifications carry it.
type cnJob struct {
	Blob   *string `json:"blob"`
	JobID  *string `json:"job_id"`
	Target *string `json:"target"`
}

type cnLoginResult struct {
	Job json.RawMessage `json:"job"`
}

// cnClient handles the client's CryptoNote methods.
func (s *jsonState) cnClient(m *rpcMsg) bool {
	switch m.Method {
	case mLogin:
		// {"login": wallet or user, "pass": ..., "agent": ...}; every
		// miner sends pass, XMRig and xmr-stak an agent too.
		var p cnLoginParams
		if !objectOf(m.Params, &p) || !nonEmpty(p.Login) || p.Pass == nil && p.Agent == nil {
			return false
		}
		s.cn, s.clientHandshake = true, true
		s.r.addEvidence(EvMethodLogin)
		s.setAgent(deref(p.Agent))
		s.setLogin(*p.Login)
		return true
	case mSubmitCN:
		// {"id": session, "job_id": ..., "nonce": 8 hex, "result": 64 hex}
		var p cnSubmitParams
		if !objectOf(m.Params, &p) || !nonEmpty(p.ID) || !nonEmpty(p.JobID) ||
			p.Nonce == nil || !isHex(*p.Nonce, 8, 16) || p.Result == nil || !isHex(*p.Result, 64, 64) {
			return false
		}
		s.cn = true
		s.shares++
		s.r.addEvidence(EvMethodSubmit)
		return true
	case mCryptonoteKeep:
		var p cnKeepaliveParams
		if !objectOf(m.Params, &p) || !nonEmpty(p.ID) {
			return false
		}
		s.cn = true
		s.r.addEvidence(EvMethodKeepalive)
		return true
	}
	return false
}

// cnServer handles the server's "job" notification and the login result
// that carries the first job.
func (s *jsonState) cnServer(m *rpcMsg) bool {
	var job json.RawMessage
	switch m.Method {
	case mJob:
		job = m.Params
	case "":
		var res cnLoginResult
		if !objectOf(m.Result, &res) {
			return false
		}
		job = res.Job
	default:
		return false
	}
	var j cnJob
	// A hashing blob is a block header and a tree root, well over 32
	// bytes (76 for Monero); the target is a 32- or 64-bit little-endian
	// value in hex.
	if !objectOf(job, &j) || j.Blob == nil || !isHex(*j.Blob, 64, 2048) || len(*j.Blob)%2 != 0 ||
		!nonEmpty(j.JobID) || j.Target == nil || !isHex(*j.Target, 8, 16) {
		return false
	}
	s.cn, s.serverStrong = true, true
	s.setJob(EvServerJob, *j.JobID)
	return true
}
