package image

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// cleanName turns a tar member name into a clean relative slash path
// ("" for the root). Absolute names and ".." that would climb above the
// root are resolved against the root, so no name can point outside the
// image; problem says what was wrong with the name, "" if nothing.
func cleanName(name string) (clean, problem string) {
	depth := 0
	escapes := false
	for _, part := range strings.Split(name, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				escapes = true
			}
		default:
			depth++
		}
	}
	// Cleaning below a root removes every ".." that would climb past it.
	clean = path.Clean("/" + name)[1:]
	switch {
	case escapes:
		problem = fmt.Sprintf("path traversal: name %q climbs above the root; read as %q", shortPath(name), shortPath(clean))
	case strings.HasPrefix(name, "/"):
		problem = fmt.Sprintf("absolute name %q; read as %q", shortPath(name), shortPath(clean))
	}
	return clean, problem
}

// parentDir is the directory holding p ("" for the root).
func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// hashPath is a 64-bit FNV-1a of a clean path: the cache keeps these
// instead of path strings. A collision can only mark a finding deleted
// wrongly; at 2^-64 per pair it does not happen in practice.
func hashPath(p string) uint64 {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for i := 0; i < len(p); i++ {
		h ^= uint64(p[i])
		h *= prime64
	}
	return h
}

// hashSet is a sorted set of path hashes. In JSON it is base64 of the
// little-endian uint64s: 8 bytes per path, ~11 characters.
type hashSet []uint64

func newHashSet(hs []uint64) hashSet {
	slices.Sort(hs)
	return hashSet(slices.Compact(hs))
}

func (s hashSet) has(h uint64) bool {
	_, ok := slices.BinarySearch(s, h)
	return ok
}

func (s hashSet) MarshalJSON() ([]byte, error) {
	b := make([]byte, 8*len(s))
	for i, h := range s {
		binary.LittleEndian.PutUint64(b[8*i:], h)
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

func (s *hashSet) UnmarshalJSON(data []byte) error {
	var str string
	if err := json.Unmarshal(data, &str); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(str)
	if err != nil {
		return err
	}
	if len(b)%8 != 0 {
		return fmt.Errorf("hash set: %d bytes, not a multiple of 8", len(b))
	}
	out := make(hashSet, len(b)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	if !slices.IsSorted(out) {
		return fmt.Errorf("hash set: not sorted")
	}
	*s = out
	return nil
}
