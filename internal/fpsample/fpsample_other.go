//go:build !(linux && amd64)

package fpsample

// Thread is not implemented here.
func Thread(pid, tid int) (Sample, error) { return Sample{}, ErrUnsupported }
