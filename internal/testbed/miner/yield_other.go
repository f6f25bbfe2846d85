//go:build !linux

package miner

import "runtime"

func yieldCPU() { runtime.Gosched() }
