package miner

import (
	"encoding/binary"
	"math"
	"math/bits"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/sha3"
)

const (
	// scratchpadWords is RandomX's 2 MiB per-thread scratchpad.
	scratchpadWords = 2 << 20 / 8
	// programs x programIters follows RandomX's 8 programs of 2048 iterations.
	programs     = 8
	programIters = 2048
)

func newScratchpad() []uint64 { return make([]uint64, scratchpadWords) }

// hashBlob is the simulator's proof of work. It is not RandomX, but has
// its shape: blake2b seeds registers, the scratchpad is filled per hash,
// a data-dependent loop reads the shared dataset and reads/writes the
// scratchpad, and Keccak finalizes (as CryptoNight does). With fprc, each
// program first sets a data-dependent rounding mode, as RandomX's CFROUND
// does, and the mode is back to nearest when the hash is done.
func hashBlob(ds *dataset, sp []uint64, blob []byte, fprc bool) [32]byte {
	seed := blake2b.Sum512(blob)
	var r [8]uint64
	for i := range r {
		r[i] = binary.LittleEndian.Uint64(seed[i*8:])
	}
	// Fill the scratchpad (RandomX uses AES here) with xorshift128+.
	s0, s1 := r[0]|1, r[1]^0x9e3779b97f4a7c15
	for i := range sp {
		x, y := s0, s1
		s0 = y
		x ^= x << 23
		s1 = x ^ y ^ (x >> 17) ^ (y >> 26)
		sp[i] = s1 + y
	}
	items := ds.items
	nItems := uint64(len(items) / itemWords)
	mask := uint64(len(sp)-1) &^ 7
	ma, mx := r[2], r[3]
	f := 1.0
	for p := range programs {
		if fprc {
			setRounding(uint32(r[p] >> 62))
		}
		for it := range programIters {
			k := it & 7
			a := (r[k] ^ mx) & mask
			r[k] ^= sp[a]
			r[(k+1)&7] += sp[a+1]
			idx, _ := bits.Mul64(ma, nItems)
			d := items[idx*itemWords : idx*itemWords+itemWords : idx*itemWords+itemWords]
			for j := range itemWords {
				r[j] ^= d[j]
			}
			r[k] = bits.RotateLeft64(r[k]*0xbf58476d1ce4e5b9+r[(k+3)&7], int(r[(k+5)&7]&63))
			f = f*1.0000001 + float64(r[(k+2)&7]>>40)
			sp[(a^r[(k+4)&7])&mask] = r[k]
			ma = bits.RotateLeft64(ma^r[(k+6)&7], 17) * 0x94d049bb133111eb
			mx += r[k]
		}
		r[p] ^= math.Float64bits(f)
	}
	if fprc {
		setRounding(0)
	}
	var fin [128]byte
	for i, v := range r {
		binary.LittleEndian.PutUint64(fin[i*8:], v)
	}
	// Fold the whole scratchpad in, so every write matters.
	var acc [8]uint64
	for i := 0; i+8 <= len(sp); i += 8 {
		for j := range 8 {
			acc[j] ^= sp[i+j]
		}
	}
	for i, v := range acc {
		binary.LittleEndian.PutUint64(fin[64+i*8:], v)
	}
	h := sha3.NewLegacyKeccak256()
	h.Write(fin[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// meetsTarget follows XMRig: the last 8 bytes, little-endian, under target.
func meetsTarget(result [32]byte, target uint64) bool {
	return binary.LittleEndian.Uint64(result[24:]) < target
}
