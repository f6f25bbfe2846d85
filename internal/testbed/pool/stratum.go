package pool

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Stratum v1 error codes (slush).
const (
	v1ErrOther        = 20
	v1ErrJobNotFound  = 21
	v1ErrDuplicate    = 22
	v1ErrUnauthorized = 24
	v1ErrNotSubscribe = 25
)

// extranonce2Size is the byte count a miner fills in, as in the slush log.
const extranonce2Size = 4

func v1NotifyParams(j job, clean bool) []any {
	return []any{j.id, j.prevHash, j.coinb1, j.coinb2, []string{}, j.version, j.nbits, j.ntime, clean}
}

// handleStratum answers one stratum v1 request; ss.mu held.
func (ss *session) handleStratum(req Request) bool {
	var params []json.RawMessage
	if len(req.Params) > 0 && string(req.Params) != "null" {
		if err := json.Unmarshal(req.Params, &params); err != nil {
			ss.bad(req.ID, v1ErrOther, "Invalid params")
			return false
		}
	}
	str := func(i int) string {
		if i >= len(params) {
			return ""
		}
		var s string
		_ = json.Unmarshal(params[i], &s)
		return s
	}
	switch req.Method {
	case "mining.configure":
		res := map[string]any{}
		if strings.Contains(string(req.Params), "version-rolling") {
			res["version-rolling"] = true
			res["version-rolling.mask"] = "1fffe000"
		}
		ss.send(v1Result(req.ID, res))
	case "mining.subscribe":
		ss.subscribed, ss.agent = true, str(0)
		if ss.extranonce == "" {
			ss.extranonce = randomHex(4)
		}
		sub := randomHex(16)
		ss.send(v1Result(req.ID, []any{
			[][]string{{"mining.set_difficulty", sub}, {"mining.notify", sub}},
			ss.extranonce, extranonce2Size,
		}))
	case "mining.authorize":
		if !ss.subscribed {
			ss.bad(req.ID, v1ErrNotSubscribe, "Not subscribed")
			return false
		}
		user := str(0)
		if strings.TrimSpace(user) == "" {
			ss.bad(req.ID, v1ErrUnauthorized, "Unauthorized worker")
			return false
		}
		ss.loggedIn, ss.user = true, user
		ss.send(v1Result(req.ID, true))
		ss.srv.recordLogin(Login{Dialect: DialectStratum, User: user, Pass: str(1), Agent: ss.agent,
			Remote: ss.remote(), At: time.Now()})
		ss.send(encodeLine(v1Notify{ID: nullID, Method: "mining.set_difficulty", Params: []any{ss.srv.cfg.Difficulty}}))
		j := ss.srv.currentJob()
		ss.lastJobID = j.id
		ss.send(encodeLine(v1Notify{ID: nullID, Method: "mining.notify", Params: v1NotifyParams(j, true)}))
		ss.srv.update(func(st *Stats) { st.JobsSent++ })
	case "mining.extranonce.subscribe", "mining.suggest_difficulty":
		ss.send(v1Result(req.ID, true))
	case "mining.submit":
		return ss.v1Submit(req.ID, str)
	}
	return true
}

func (ss *session) v1Submit(id json.RawMessage, str func(int) string) bool {
	if !ss.loggedIn {
		ss.bad(id, v1ErrUnauthorized, "Unauthorized worker")
		return false
	}
	reject := func(code int, msg string) bool {
		ss.srv.update(func(st *Stats) { st.SharesRejected++ })
		ss.send(v1Error(id, code, msg))
		return true
	}
	jobID, en2, ntime, nonce := str(1), str(2), str(3), str(4)
	if !ss.srv.jobKnown(jobID) {
		return reject(v1ErrJobNotFound, "Job not found")
	}
	if !isHex(en2, extranonce2Size) || !isHex(ntime, 4) || !isHex(nonce, 4) {
		return reject(v1ErrOther, "Malformed share")
	}
	if !ss.markSubmitted(jobID + "/" + strings.ToLower(en2+nonce)) {
		return reject(v1ErrDuplicate, "Duplicate share")
	}
	ss.srv.update(func(st *Stats) { st.SharesAccepted++ })
	ss.send(v1Result(id, true))
	return true
}

func isHex(s string, n int) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == n
}
