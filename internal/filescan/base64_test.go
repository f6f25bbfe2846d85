package filescan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

type blob struct {
	off int64
	dec string
	cut bool
}

func trackBlobs(data []byte, chunk int) []blob {
	var out []blob
	t := &b64Tracker{minLen: 64, maxDec: 1 << 20, emit: func(off int64, d []byte, cut bool) {
		out = append(out, blob{off, string(d), cut})
	}}
	for len(data) > 0 {
		n := min(chunk, len(data))
		t.write(data[:n])
		data = data[n:]
	}
	t.close()
	return out
}

// TestBase64ChunkingChangesNothing compares whole-chunk tracking (where the
// fast path skips most bytes) with byte-at-a-time tracking (where it
// cannot) on text mixing words, wrapped and unwrapped base64.
func TestBase64ChunkingChangesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	found := 0
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for round := range 300 {
		var b bytes.Buffer
		for b.Len() < 4096 {
			switch rng.IntN(4) {
			case 0:
				b.WriteString("some ordinary words here\n")
			case 1: // one long token
				for range 40 + rng.IntN(120) {
					b.WriteByte(alphabet[rng.IntN(len(alphabet))])
				}
				b.WriteString(" ")
			case 2: // wrapped at 64 or 76
				w := []int{64, 76}[rng.IntN(2)]
				for range 2 + rng.IntN(3) {
					for range w {
						b.WriteByte(alphabet[rng.IntN(len(alphabet))])
					}
					b.WriteByte('\n')
				}
				b.WriteString("Zm9v==\n")
			default:
				b.WriteByte(" =\n\t"[rng.IntN(4)])
			}
		}
		data := b.Bytes()
		ref := trackBlobs(data, 1)
		found += len(ref)
		want := fmt.Sprint(ref)
		for _, chunk := range []int{7, 100, 1024, len(data)} {
			if got := fmt.Sprint(trackBlobs(data, chunk)); got != want {
				t.Fatalf("round %d chunk %d: blobs differ\n got %s\nwant %s", round, chunk, got, want)
			}
		}
	}
	if found == 0 {
		t.Fatal("the generated text held no blob: the comparison proved nothing")
	}
}
