package miner

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// xmrigProto is the CryptoNote dialect: login, job, submit, keepalived.
type xmrigProto struct {
	rpcID   string
	lastJob string
}

type loginParams struct {
	Login string   `json:"login"`
	Pass  string   `json:"pass"`
	Agent string   `json:"agent"`
	RigID string   `json:"rigid,omitempty"`
	Algo  []string `json:"algo"`
}

type jobParams struct {
	Blob     string `json:"blob"`
	JobID    string `json:"job_id"`
	Target   string `json:"target"`
	Algo     string `json:"algo"`
	Height   uint64 `json:"height"`
	SeedHash string `json:"seed_hash"`
}

type loginResult struct {
	ID         string          `json:"id"`
	Job        json.RawMessage `json:"job"`
	Extensions []string        `json:"extensions"`
	Status     string          `json:"status"`
}

type submitParams struct {
	ID     string `json:"id"`
	JobID  string `json:"job_id"`
	Nonce  string `json:"nonce"`
	Result string `json:"result"`
	Algo   string `json:"algo"`
}

func (x *xmrigProto) hello(pc *poolConn) error {
	o := pc.m.opts
	return pc.call("login", loginParams{Login: o.User, Pass: o.Pass, Agent: o.UserAgent, RigID: o.RigID, Algo: loginAlgos(o.Algo)}, "login", nil)
}

func (x *xmrigProto) handle(pc *poolConn, msg message) error {
	switch msg.Method {
	case "job":
		return x.setJob(pc, msg.Params)
	case "":
	default:
		return nil // unknown notification
	}
	p, ok := pc.take(msg)
	if !ok {
		return nil
	}
	switch p.kind {
	case "login":
		if msg.failed() {
			return fmt.Errorf("login error: %q", msg.errorText())
		}
		var res loginResult
		if err := json.Unmarshal(msg.Result, &res); err != nil || res.ID == "" {
			return errors.New("login error: \"invalid response\"")
		}
		x.rpcID = res.ID
		pc.keepAlive = pc.keepAlive || slices.Contains(res.Extensions, "keepalive")
		return x.setJob(pc, res.Job)
	case "submit":
		pc.result(p, msg)
	}
	return nil
}

func (x *xmrigProto) setJob(pc *poolConn, raw json.RawMessage) error {
	var jp jobParams
	if err := json.Unmarshal(raw, &jp); err != nil {
		return fmt.Errorf("invalid job: %w", err)
	}
	blob, err := hex.DecodeString(jp.Blob)
	if err != nil || len(blob) < xmrigNonceOffset+4 || len(blob) > 1024 {
		return errors.New("invalid job: bad blob")
	}
	target, diff, err := decodeTarget(jp.Target)
	if err != nil {
		return fmt.Errorf("invalid job: %w", err)
	}
	if jp.JobID == "" {
		return errors.New("invalid job: no job_id")
	}
	// XMRig treats a repeated job as a broken pool and reconnects.
	if jp.JobID == x.lastJob {
		return errors.New("duplicate job received, reconnect")
	}
	x.lastJob = jp.JobID
	algo := pc.m.opts.Algo
	if a := normalizeAlgo(jp.Algo); a != "" {
		algo = a
	}
	seed, _ := hex.DecodeString(jp.SeedHash)
	if len(seed) > 64 {
		seed = seed[:64]
	}
	pc.m.ds.ensure(seed)
	pc.m.publish(&job{id: jp.JobID, blob: blob, nonceOff: xmrigNonceOffset, target: target, diff: diff,
		height: jp.Height, algo: algo, seed: seed, conn: pc.gen}, pc.host)
	return nil
}

func (x *xmrigProto) submit(pc *poolConn, sh share) error {
	var nonce [4]byte
	binary.LittleEndian.PutUint32(nonce[:], sh.nonce) // as written into the blob
	return pc.call("submit", submitParams{ID: x.rpcID, JobID: sh.job.id, Nonce: hex.EncodeToString(nonce[:]),
		Result: hex.EncodeToString(sh.result[:]), Algo: sh.job.algo}, "submit", &sh)
}

func (x *xmrigProto) keepalive(pc *poolConn) error {
	return pc.call("keepalived", map[string]string{"id": x.rpcID}, "keepalived", nil)
}
