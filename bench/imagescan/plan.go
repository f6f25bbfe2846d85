package main

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
)

// entry is one file of the generated image.
type entry struct {
	name    string // in-image path, no leading slash
	src     string // host file copied, or "" when data holds the content
	srcSize int64
	data    []byte
	mode    fs.FileMode
	kind    kind
	pad     int // pseudo-random bytes appended so repeated copies differ
	padSeed uint64
	planted bool
}

func (e entry) size() int64 {
	if e.src == "" {
		return int64(len(e.data))
	}
	return e.srcSize + int64(e.pad)
}

// plan is the whole image: layers of entries, in order.
type plan struct {
	layers [][]entry
}

// Mix of the budget left after the large files: mostly executables and
// libraries, a good share of text, some other data.
var kindShare = map[kind]float64{kindELF: 0.62, kindText: 0.28, kindOther: 0.10}

// Shares of the ordinary files in the first layers: a base layer, then
// smaller ones, like FROM + RUN apt-get + COPY steps.
var layerShares = []float64{0.34, 0.22, 0.18, 0.14, 0.12}

const largeCount = 3

// makePlan picks copies of pool files until each kind's budget is spent.
// The first copy of a file keeps its host path; later copies go under
// opt/appN/ with padding, so every copy is distinct content (as distinct
// as a real image's files) and no content-hash cache can skip it.
func makePlan(pool, large []srcFile, total int64, seed uint64, planted [][]entry) (plan, error) {
	rng := rand.New(rand.NewPCG(seed, 0x64617679))
	var p plan

	// The largest files of the band are the large ones: real content.
	large = slices.Clone(large)
	slices.SortStableFunc(large, func(a, b srcFile) int { return int(b.size - a.size) })
	var bigLayer []entry
	var bigSize int64
	for _, f := range large {
		// A quarter of the image at most, so a small -size-mib still mixes.
		if len(bigLayer) == largeCount || bigSize+f.size > total/4 {
			continue
		}
		e := entry{name: "srv/assets/" + strings.TrimPrefix(f.path, "/"), src: f.path, mode: f.mode, kind: f.kind}
		e.srcSize = f.size
		bigLayer = append(bigLayer, e)
		bigSize += f.size
	}

	byKind := map[kind][]srcFile{}
	for _, f := range pool {
		byKind[f.kind] = append(byKind[f.kind], f)
	}
	rest := total - bigSize
	var files []entry
	for _, k := range []kind{kindELF, kindText, kindOther} {
		src := byKind[k]
		if len(src) == 0 {
			return plan{}, fmt.Errorf("no %s files to copy", k)
		}
		rng.Shuffle(len(src), func(i, j int) { src[i], src[j] = src[j], src[i] })
		budget := int64(float64(rest) * kindShare[k])
		var got int64
		for pass := 0; got < budget; pass++ {
			for _, f := range src {
				if got >= budget {
					break
				}
				e := entry{name: strings.TrimPrefix(f.path, "/"), src: f.path, mode: f.mode, kind: k, srcSize: f.size}
				if pass > 0 {
					e.name = fmt.Sprintf("opt/app%d/%s", pass, e.name)
					e.pad = 1 + rng.IntN(4096)
					e.padSeed = rng.Uint64()
				}
				files = append(files, e)
				got += e.size()
			}
		}
	}
	// Interleave kinds, as real layers mix binaries with their docs.
	rng.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })

	var sum int64
	for _, e := range files {
		sum += e.size()
	}
	var acc, limit float64
	i := 0
	for li, share := range layerShares {
		limit += share * float64(sum)
		var layer []entry
		for i < len(files) && (acc < limit || li == len(layerShares)-1) {
			layer = append(layer, files[i])
			acc += float64(files[i].size())
			i++
		}
		p.layers = append(p.layers, layer)
	}
	p.layers = append(p.layers, bigLayer, nil)
	// Planted files go into the layers named by their position (a miner
	// hidden in the middle of the image, the rest at the end).
	for li, es := range planted {
		if li >= len(p.layers) {
			return plan{}, fmt.Errorf("planted layer %d of %d", li, len(p.layers))
		}
		p.layers[li] = append(p.layers[li], es...)
	}
	for _, l := range p.layers {
		slices.SortFunc(l, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	}
	return p, nil
}
