package pool

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"time"
)

// Algo is the only algorithm this pool hands out.
const Algo = "rx/0"

// blobNonceOffset is where XMRig writes its 4-byte nonce in a Monero blob.
const blobNonceOffset = 39

// job is one block template, shown to both dialects.
type job struct {
	id       string
	height   uint64
	blob     []byte // 76-byte Monero-style hashing blob
	seedHash string
	// stratum v1 view of the same template
	prevHash, coinb1, coinb2, version, nbits, ntime string
}

func newJob(seq, height uint64, seedHash string) job {
	var r [96]byte
	_, _ = rand.Read(r[:]) // crypto/rand never fails on Linux
	blob := make([]byte, 76)
	blob[0], blob[1] = 0x10, 0x10 // major/minor version as in current Monero
	ts := uint64(time.Now().Unix())
	n := binary.PutUvarint(blob[2:7], ts)
	_ = n                       // a 2020s timestamp is always 5 varint bytes
	copy(blob[7:39], r[:32])    // previous block id
	copy(blob[43:75], r[32:64]) // merkle root
	blob[75] = 0x2b             // transaction count
	return job{
		id:       fmt.Sprintf("%x%06x", r[64:70], seq),
		height:   height,
		blob:     blob,
		seedHash: seedHash,
		prevHash: hex.EncodeToString(r[:32]),
		coinb1:   "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20" + hex.EncodeToString(r[70:78]),
		coinb2:   "072f736c7573682f000000000100f2052a010000001976a914" + hex.EncodeToString(r[78:94]) + "88ac00000000",
		version:  "20000000",
		nbits:    "1c2ac4af",
		ntime:    fmt.Sprintf("%08x", uint32(ts)),
	}
}

// encodeTarget turns a difficulty into XMRig's "target": 4 little-endian
// bytes when the difficulty fits 32 bits, else 8.
func encodeTarget(diff uint64) string {
	if diff == 0 {
		diff = 1
	}
	if diff <= math.MaxUint32 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(math.MaxUint32/diff))
		return hex.EncodeToString(b[:])
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.MaxUint64/diff)
	return hex.EncodeToString(b[:])
}

// shareTarget is the 64-bit bound a result's last 8 bytes must stay under,
// decoded the way XMRig decodes encodeTarget's output so both sides agree.
func shareTarget(diff uint64) uint64 {
	b, _ := hex.DecodeString(encodeTarget(diff))
	if len(b) == 8 {
		return binary.LittleEndian.Uint64(b)
	}
	t32 := uint64(binary.LittleEndian.Uint32(b))
	if t32 == 0 {
		return 0
	}
	return math.MaxUint64 / (math.MaxUint32 / t32)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
