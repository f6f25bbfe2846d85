package image

import (
	"errors"
	"fmt"
	"io"
)

// rawReader counts stored bytes for progress and refuses more than the
// descriptor's size, so a source cannot stream forever.
type rawReader struct {
	r        io.Reader
	n, max   int64
	last     int64
	progress func(int64)
}

func (r *rawReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if r.max > 0 && r.n > r.max {
		// Hand on only the bytes the descriptor allows, so the failure
		// is reported as what it is rather than as a decoder error.
		n -= int(r.n - r.max)
		r.n = r.max
		return n, fmt.Errorf("%w: more than %d bytes", errBlobTooLarge, r.max)
	}
	if r.progress != nil && (r.n-r.last >= progressEvery || (err != nil && r.n > r.last)) {
		r.last = r.n
		r.progress(r.n)
	}
	return n, err
}

// boundedReader yields at most max bytes, then fails if more follow: the
// gzip-bomb guard on a layer's uncompressed stream.
type boundedReader struct {
	r      io.Reader
	n, max int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n >= b.max {
		var one [1]byte
		for range 100 {
			n, err := b.r.Read(one[:])
			if n > 0 {
				return 0, fmt.Errorf("%w: more than %d uncompressed bytes (MaxLayerBytes); rest of layer not scanned", errLayerTooLarge, b.max)
			}
			if err != nil {
				return 0, err
			}
		}
		return 0, io.ErrNoProgress
	}
	if rest := b.max - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// trackedReader remembers a read error other than EOF, to tell a broken
// layer stream from a visitor's own error.
type trackedReader struct {
	r   io.Reader
	err error
}

func (t *trackedReader) failed() error { return t.err }

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && t.err == nil {
		t.err = err
	}
	return n, err
}

// trackedReaderAt is a trackedReader over a file that also offers random
// access, so a visitor can open a zip in place instead of buffering it.
type trackedReaderAt struct {
	trackedReader
	at io.ReaderAt
}

func (t *trackedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := t.at.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) && t.err == nil {
		t.err = err
	}
	return n, err
}
