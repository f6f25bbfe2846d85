//go:build !linux

package duty

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
