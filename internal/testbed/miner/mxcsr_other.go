//go:build !amd64

package miner

// setRounding is a no-op where the simulator has no assembly for it.
func setRounding(mode uint32) {}

func getMXCSR() uint32 { return 0 }
