//go:build !linux

package miner

import "errors"

// ExecFromMemfd needs Linux memfd_create.
func ExecFromMemfd(argv []string) error { return errors.New("memfd: only on linux") }
