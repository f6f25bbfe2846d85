package miner

import (
	"bytes"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/blake2b"
)

// itemWords is one dataset item: 64 bytes, one cache line, as in RandomX.
const itemWords = 8

// dataset is the read-mostly memory every hashing thread shares, derived
// from the pool's seed hash like RandomX's (Argon2 cache -> dataset).
type dataset struct {
	seed  []byte
	items []uint64
	pages string // hugetlb, thp, 4k or heap: what allocWords got
}

// buildDataset derives mib MiB from seed on threads goroutines.
func buildDataset(seed, salt []byte, mib, threads int, huge bool) *dataset {
	// The Argon2 memory scales with the dataset (RandomX: 256 MiB for 2 GiB),
	// so building a bigger dataset costs like the real thing.
	memKiB := uint32(mib * 1024 / 16)
	memKiB = max(memKiB, 1024)
	key := argon2.IDKey(seed, salt, 1, memKiB, 1, 64)
	ds := &dataset{seed: bytes.Clone(seed)}
	ds.items, ds.pages = allocWords(mib<<20/8, huge, ds)
	n := len(ds.items) / itemWords
	threads = max(1, min(threads, n))
	var wg sync.WaitGroup
	for t := range threads {
		wg.Go(func() {
			var in [72]byte
			copy(in[:], key)
			for i := t; i < n; i += threads {
				binary.LittleEndian.PutUint64(in[64:], uint64(i))
				out := blake2b.Sum512(in[:])
				for w := range itemWords {
					ds.items[i*itemWords+w] = binary.LittleEndian.Uint64(out[w*8:])
				}
			}
		})
	}
	wg.Wait()
	return ds
}

// datasets swaps in a new dataset when the pool's seed changes, building
// it in the background while workers keep hashing on the old one.
type datasets struct {
	cur     atomic.Pointer[dataset]
	mib     int
	threads int
	salt    []byte
	log     *logger
	algo    string
	huge    bool

	mu      sync.Mutex
	pending []byte
}

func newDatasets(mib, threads int, algo string, huge bool, log *logger) *datasets {
	return &datasets{mib: mib, threads: threads, salt: saltFor(algo), algo: algo, huge: huge, log: log}
}

// build makes the dataset for seed now, logging like XMRig's rx module.
func (d *datasets) build(seed []byte) *dataset {
	d.log.printf("randomx", "init dataset algo %s (%d threads) seed %.16x...", d.algo, d.threads, seed)
	start := time.Now()
	ds := buildDataset(seed, d.salt, d.mib, d.threads, d.huge)
	d.log.printf("randomx", "dataset ready (%d ms, %s pages)", time.Since(start).Milliseconds(), ds.pages)
	return ds
}

// initial builds a placeholder dataset so threads can hash before any
// pool job, unless the pool's seed already produced one.
func (d *datasets) initial() {
	if d.cur.Load() == nil {
		d.cur.CompareAndSwap(nil, d.build(make([]byte, 32)))
	}
}

// ensure starts a rebuild for seed unless it is current or already coming.
func (d *datasets) ensure(seed []byte) {
	if d == nil || len(seed) == 0 {
		return
	}
	if cur := d.cur.Load(); cur != nil && bytes.Equal(cur.seed, seed) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending != nil {
		if !bytes.Equal(d.pending, seed) {
			d.pending = bytes.Clone(seed) // the running build picks it up next
		}
		return
	}
	d.pending = bytes.Clone(seed)
	go func() {
		for {
			d.mu.Lock()
			s := d.pending
			d.mu.Unlock()
			d.cur.Store(d.build(s))
			d.mu.Lock()
			if bytes.Equal(d.pending, s) {
				d.pending = nil
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
		}
	}()
}
