//go:build !linux

package miner

func allocWords(n int, huge bool, owner *dataset) ([]uint64, string) {
	return make([]uint64, n), "heap"
}

func jitPage() []byte { return nil }

func freeJIT(b []byte) {}
