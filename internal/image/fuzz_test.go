package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/davyproject/davy/internal/filescan"
)

// FuzzWalkTar feeds arbitrary bytes to the layer walker as a layer's
// stream (tar, gzip or zstd, sniffed). It must not panic, and the limits
// keep the work bounded whatever the bytes claim.
func FuzzWalkTar(f *testing.F) {
	seeds := [][]byte{
		tarOf(f, reg("a", mark), dir("d/"), sym("d/s", "../a"), hard("h", "a")),
		gz(f, tarOf(f, reg("etc/.wh.passwd", ""), reg("opt/.wh..wh..opq", ""), reg("../../x", mark))),
		tarOf(f, hard("h", "missing"), reg("/abs", "x"), sym("loop", "loop")),
		{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff},
		{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0},
		{},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	o := WalkOptions{MaxLayerBytes: 1 << 20, MaxFileBytes: 64 << 10, MaxEntries: 1000, MaxPathLen: 256}.mustDefaultsF(f)
	visit := func(ctx context.Context, fl File, r io.Reader) ([]filescan.Finding, error) {
		b, err := io.ReadAll(r)
		if int64(len(b)) > o.MaxFileBytes {
			panic("visitor got more than MaxFileBytes")
		}
		if bytes.Contains(b, []byte(mark)) {
			return []filescan.Finding{{ID: "TEST-MARK"}}, err
		}
		return nil, err
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec := layerSpec{id: sha(data), verify: verifyCompressed, open: func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
		}}
		rec := scanLayer(context.Background(), spec, o, visit, nil)
		if rec.Bytes > o.MaxLayerBytes || rec.Entries > o.MaxEntries+1 {
			t.Fatalf("limits exceeded: %d bytes, %d entries", rec.Bytes, rec.Entries)
		}
		_ = assemble([]*layerRecord{rec, rec})
		// A clean parse by the walker is a clean parse by archive/tar.
		if rec.err == nil && len(data) > 0 && data[0] != 0x1f && data[0] != 0x28 {
			tr := tar.NewReader(bytes.NewReader(data))
			for {
				if _, err := tr.Next(); err != nil {
					if err != io.EOF {
						t.Fatalf("walker accepted what tar rejects: %v", err)
					}
					break
				}
			}
		}
	})
}

func (o WalkOptions) mustDefaultsF(f *testing.F) WalkOptions {
	o, err := o.withDefaults()
	if err != nil {
		f.Fatal(err)
	}
	return o
}
