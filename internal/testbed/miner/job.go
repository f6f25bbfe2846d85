package miner

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
)

// xmrigNonceOffset is where XMRig writes the nonce in a Monero blob.
const xmrigNonceOffset = 39

// job is the work the threads hash. Jobs are immutable once published,
// except for the shared nonce counter.
type job struct {
	id       string
	blob     []byte
	nonceOff int
	target   uint64
	diff     uint64
	height   uint64
	algo     string
	seed     []byte
	// conn ties the job to one pool connection; 0 means local idle work
	// whose shares go nowhere.
	conn uint64
	// stratum v1 only
	extranonce2 string
	ntime       string

	nonce atomic.Uint32
}

// idleJob keeps the threads busy before the first pool job arrives.
func idleJob(algo string) *job {
	b := make([]byte, 76)
	_, _ = rand.Read(b)
	return &job{id: "idle", blob: b, nonceOff: xmrigNonceOffset, algo: algo}
}

// decodeTarget reads XMRig's "target": 4 bytes (a 32-bit target scaled
// to 64) or 8 bytes, little-endian, and returns target and difficulty.
func decodeTarget(s string) (target, diff uint64, err error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return 0, 0, fmt.Errorf("target %q: %w", s, err)
	}
	switch len(b) {
	case 4:
		t32 := uint64(binary.LittleEndian.Uint32(b))
		if t32 == 0 {
			return 0, 0, errors.New("target is zero")
		}
		target = math.MaxUint64 / (math.MaxUint32 / t32)
	case 8:
		target = binary.LittleEndian.Uint64(b)
	default:
		return 0, 0, fmt.Errorf("target %q: want 4 or 8 bytes", s)
	}
	if target == 0 {
		return 0, 0, errors.New("target is zero")
	}
	return target, math.MaxUint64 / target, nil
}

// targetForDiff is the share bound for a stratum v1 difficulty, on the
// same 64-bit scale as decodeTarget.
func targetForDiff(diff float64) (uint64, uint64) {
	d := uint64(max(diff, 1))
	return math.MaxUint64 / d, d
}
