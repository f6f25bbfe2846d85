package filescan

import "math"

// histogram counts byte values. Four interleaved tables keep runs of one
// byte value (zero padding in executables) from serialising on one counter.
type histogram struct {
	c [4][256]uint64
	n int64
}

func (h *histogram) add(p []byte) {
	h.n += int64(len(p))
	i := 0
	for ; i+4 <= len(p); i += 4 {
		h.c[0][p[i]]++
		h.c[1][p[i+1]]++
		h.c[2][p[i+2]]++
		h.c[3][p[i+3]]++
	}
	for ; i < len(p); i++ {
		h.c[0][p[i]]++
	}
}

// entropy is the Shannon entropy in bits per byte (0 to 8).
func (h *histogram) entropy() float64 {
	if h.n == 0 {
		return 0
	}
	total := float64(h.n)
	var e float64
	for b := range 256 {
		c := h.c[0][b] + h.c[1][b] + h.c[2][b] + h.c[3][b]
		if c == 0 {
			continue
		}
		p := float64(c) / total
		e -= p * math.Log2(p)
	}
	return e
}

// region is a byte range of a file whose entropy is measured separately.
type region struct {
	off, size int64
	h         *histogram
}

// observe counts the part of chunk (starting at file offset at) that falls
// inside the region.
func (r *region) observe(at int64, chunk []byte) {
	lo, hi := max(at, r.off), min(at+int64(len(chunk)), r.off+r.size)
	if lo < hi {
		r.h.add(chunk[lo-at : hi-at])
	}
}
