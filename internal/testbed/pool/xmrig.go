package pool

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// XMRig-dialect application errors all use code -1, as pools do.
const xmrigErrCode = -1

type loginParams struct {
	Login string   `json:"login"`
	Pass  string   `json:"pass"`
	Agent string   `json:"agent"`
	RigID string   `json:"rigid"`
	Algo  []string `json:"algo"`
}

type submitParams struct {
	ID     string `json:"id"`
	JobID  string `json:"job_id"`
	Nonce  string `json:"nonce"`
	Result string `json:"result"`
	Algo   string `json:"algo"`
}

type xmrigJob struct {
	Blob     string `json:"blob"`
	JobID    string `json:"job_id"`
	Target   string `json:"target"`
	ID       string `json:"id"`
	Algo     string `json:"algo"`
	Height   uint64 `json:"height"`
	SeedHash string `json:"seed_hash"`
}

type loginResult struct {
	ID         string   `json:"id"`
	Job        xmrigJob `json:"job"`
	Extensions []string `json:"extensions"`
	Status     string   `json:"status"`
}

type statusResult struct {
	Status string `json:"status"`
}

func (ss *session) xmrigJob(j job) xmrigJob {
	return xmrigJob{
		Blob:     hex.EncodeToString(j.blob),
		JobID:    j.id,
		Target:   encodeTarget(ss.srv.cfg.Difficulty),
		ID:       ss.rpcID,
		Algo:     Algo,
		Height:   j.height,
		SeedHash: j.seedHash,
	}
}

// handleXMRig answers one XMRig-dialect request; ss.mu held.
func (ss *session) handleXMRig(req Request) bool {
	switch req.Method {
	case "login":
		var p loginParams
		if err := json.Unmarshal(req.Params, &p); err != nil {
			ss.bad(req.ID, CodeInvalidParams, "Invalid params")
			return false
		}
		if strings.TrimSpace(p.Login) == "" {
			ss.bad(req.ID, xmrigErrCode, "Invalid payment address provided")
			return false
		}
		ss.loggedIn, ss.rpcID, ss.user, ss.agent = true, uuidLike(), p.Login, p.Agent
		j := ss.srv.currentJob()
		ss.lastJobID = j.id
		ss.send(xmrigResult(req.ID, loginResult{
			ID:         ss.rpcID,
			Job:        ss.xmrigJob(j),
			Extensions: []string{"algo", "nicehash", "connect", "tls", "keepalive"},
			Status:     "OK",
		}))
		ss.srv.recordLogin(Login{Dialect: DialectXMRig, User: p.Login, Pass: p.Pass, Agent: p.Agent,
			RigID: p.RigID, Remote: ss.remote(), At: time.Now()})
		ss.srv.update(func(st *Stats) { st.JobsSent++ })
		return true
	case "getjob":
		if !ss.loggedIn {
			ss.bad(req.ID, xmrigErrCode, "Unauthenticated")
			return false
		}
		j := ss.srv.currentJob()
		ss.lastJobID = j.id
		ss.send(xmrigResult(req.ID, ss.xmrigJob(j)))
		return true
	case "keepalived":
		if !ss.loggedIn {
			ss.bad(req.ID, xmrigErrCode, "Unauthenticated")
			return false
		}
		ss.send(xmrigResult(req.ID, statusResult{Status: "KEEPALIVED"}))
		return true
	case "submit":
		return ss.xmrigSubmit(req)
	}
	return false
}

func (ss *session) xmrigSubmit(req Request) bool {
	var p submitParams
	if err := json.Unmarshal(req.Params, &p); err != nil {
		ss.bad(req.ID, CodeInvalidParams, "Invalid params")
		return false
	}
	reject := func(msg string) bool {
		ss.srv.update(func(st *Stats) { st.SharesRejected++ })
		ss.send(xmrigError(req.ID, xmrigErrCode, msg))
		return true // a rejected share is still a well-formed message
	}
	if !ss.loggedIn || p.ID != ss.rpcID {
		ss.bad(req.ID, xmrigErrCode, "Unauthenticated")
		return false
	}
	if !ss.srv.jobKnown(p.JobID) {
		return reject("Invalid job id")
	}
	nonce, err1 := hex.DecodeString(p.Nonce)
	result, err2 := hex.DecodeString(p.Result)
	if err1 != nil || err2 != nil || len(nonce) != 4 || len(result) != 32 {
		return reject("Malformed share")
	}
	if binary.LittleEndian.Uint64(result[24:]) >= shareTarget(ss.srv.cfg.Difficulty) {
		return reject("Low difficulty share")
	}
	if !ss.markSubmitted(p.JobID + "/" + strings.ToLower(p.Nonce)) {
		return reject("Duplicate share")
	}
	ss.srv.update(func(st *Stats) { st.SharesAccepted++ })
	ss.send(xmrigResult(req.ID, statusResult{Status: "OK"}))
	return true
}

// uuidLike makes a session id shaped like the ones pools return.
func uuidLike() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
