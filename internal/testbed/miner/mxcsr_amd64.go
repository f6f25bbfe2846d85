package miner

// setRounding sets the SSE rounding mode of this thread (0 nearest, 1
// down, 2 up, 3 toward zero), as RandomX programs do many times per hash.
//
//go:noescape
func setRounding(mode uint32)

// getMXCSR reads this thread's MXCSR, for tests.
func getMXCSR() uint32
