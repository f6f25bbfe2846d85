package miner

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/blake2b"
)

// stratumNonceOffset is the nonce in an 80-byte block header.
const stratumNonceOffset = 76

// stratumProto is stratum v1: mining.subscribe, mining.authorize,
// mining.set_difficulty, mining.notify, mining.submit.
type stratumProto struct {
	extranonce1 []byte
	en2Size     int
	diff        float64
	en2         uint32
	lastJob     string
}

func (s *stratumProto) hello(pc *poolConn) error {
	o := pc.m.opts
	if err := pc.call("mining.subscribe", []string{o.UserAgent}, "subscribe", nil); err != nil {
		return err
	}
	return pc.call("mining.authorize", []string{o.User, o.Pass}, "authorize", nil)
}

func (s *stratumProto) handle(pc *poolConn, msg message) error {
	var params []json.RawMessage
	if msg.Method != "" {
		_ = json.Unmarshal(msg.Params, &params)
	}
	switch msg.Method {
	case "mining.set_difficulty":
		var d float64
		if len(params) > 0 && json.Unmarshal(params[0], &d) == nil && d > 0 {
			s.diff = d
		}
		return nil
	case "mining.set_extranonce":
		s.setExtranonce(params)
		return nil
	case "mining.notify":
		if err := s.notify(pc, params); err != nil {
			pc.m.log.printf("net", "%s invalid job: %v", pc.host, err)
		}
		return nil
	case "client.reconnect":
		return errors.New("pool asked to reconnect")
	case "":
	default:
		return nil
	}
	p, ok := pc.take(msg)
	if !ok {
		return nil
	}
	switch p.kind {
	case "subscribe":
		if msg.failed() {
			return fmt.Errorf("subscribe error: %q", msg.errorText())
		}
		var res []json.RawMessage
		if json.Unmarshal(msg.Result, &res) == nil && len(res) >= 3 {
			s.setExtranonce(res[1:])
		}
	case "authorize":
		var ok bool
		if msg.failed() || json.Unmarshal(msg.Result, &ok) != nil || !ok {
			return fmt.Errorf("login error: %q", msg.errorText())
		}
	case "submit":
		pc.result(p, msg)
	}
	return nil
}

// setExtranonce reads [extranonce1 hex, extranonce2 size].
func (s *stratumProto) setExtranonce(p []json.RawMessage) {
	var en1 string
	var size int
	if len(p) < 2 || json.Unmarshal(p[0], &en1) != nil || json.Unmarshal(p[1], &size) != nil {
		return
	}
	b, err := hex.DecodeString(en1)
	if err != nil || len(b) > 16 || size < 1 || size > 8 {
		return
	}
	s.extranonce1, s.en2Size = b, size
}

// notify builds an 80-byte header from [job_id, prevhash, coinb1, coinb2,
// merkle_branch, version, nbits, ntime, clean_jobs].
func (s *stratumProto) notify(pc *poolConn, p []json.RawMessage) error {
	if len(p) < 8 {
		return errors.New("short mining.notify")
	}
	var id, prev, cb1, cb2, version, nbits, ntime string
	var branch []string
	for i, dst := range []*string{&id, &prev, &cb1, &cb2} {
		if json.Unmarshal(p[i], dst) != nil {
			return fmt.Errorf("mining.notify param %d", i)
		}
	}
	if json.Unmarshal(p[4], &branch) != nil || len(branch) > 64 ||
		json.Unmarshal(p[5], &version) != nil || json.Unmarshal(p[6], &nbits) != nil || json.Unmarshal(p[7], &ntime) != nil {
		return errors.New("mining.notify params")
	}
	if id == "" || id == s.lastJob {
		return errors.New("missing or repeated job id")
	}
	size := max(s.en2Size, 4)
	s.en2++
	en2 := make([]byte, size)
	binary.BigEndian.PutUint32(en2[size-4:], s.en2)
	c1, err1 := hex.DecodeString(cb1)
	c2, err2 := hex.DecodeString(cb2)
	ph, err3 := hex.DecodeString(prev)
	ver, err4 := hex.DecodeString(version)
	nb, err5 := hex.DecodeString(nbits)
	nt, err6 := hex.DecodeString(ntime)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return err
	}
	if len(ph) != 32 || len(ver) != 4 || len(nb) != 4 || len(nt) != 4 {
		return errors.New("mining.notify field sizes")
	}
	coinbase := append(append(append(append([]byte{}, c1...), s.extranonce1...), en2...), c2...)
	root := blake2b.Sum256(coinbase)
	for _, b := range branch {
		h, err := hex.DecodeString(b)
		if err != nil {
			return fmt.Errorf("merkle branch: %w", err)
		}
		root = blake2b.Sum256(append(root[:], h...))
	}
	header := make([]byte, 0, 80)
	header = append(header, ver...)
	header = append(header, ph...)
	header = append(header, root[:]...)
	header = append(header, nt...)
	header = append(header, nb...)
	header = append(header, 0, 0, 0, 0)
	s.lastJob = id
	target, diff := targetForDiff(s.diff)
	pc.m.publish(&job{id: id, blob: header, nonceOff: stratumNonceOffset, target: target, diff: diff,
		algo: pc.m.opts.Algo, conn: pc.gen, extranonce2: hex.EncodeToString(en2), ntime: ntime}, pc.host)
	return nil
}

func (s *stratumProto) submit(pc *poolConn, sh share) error {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], sh.nonce)
	return pc.call("mining.submit", []string{pc.m.opts.User, sh.job.id, sh.job.extranonce2, sh.job.ntime, hex.EncodeToString(n[:])}, "submit", &sh)
}

// keepalive: stratum v1 has none; the connection just stays open.
func (s *stratumProto) keepalive(*poolConn) error { return nil }
