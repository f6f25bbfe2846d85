package rules

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// strSet is a set of strings: a slice for a few, a map for many, so that
// neither a short `in (a, b)` nor a 10,000-item list costs much.
type strSet struct {
	few  []string
	many map[string]struct{}
}

const setMapThreshold = 8

func newStrSet(vals []string) *strSet {
	if len(vals) <= setMapThreshold {
		return &strSet{few: vals}
	}
	m := make(map[string]struct{}, len(vals))
	for _, v := range vals {
		m[v] = struct{}{}
	}
	return &strSet{many: m}
}

func (s *strSet) has(v string) bool {
	if s.many != nil {
		_, ok := s.many[v]
		return ok
	}
	for _, f := range s.few {
		if f == v {
			return true
		}
	}
	return false
}

// pathSet answers pmatch: is a path one of the directories or below one.
type pathSet []string

func newPathSet(vals []string) pathSet {
	ps := make(pathSet, 0, len(vals))
	for _, v := range vals {
		if len(v) > 1 {
			v = strings.TrimRight(v, "/")
			if v == "" {
				v = "/"
			}
		}
		ps = append(ps, v)
	}
	return ps
}

func (ps pathSet) match(s string) bool {
	for _, p := range ps {
		if !strings.HasPrefix(s, p) {
			continue
		}
		if len(s) == len(p) || p == "/" || s[len(p)] == '/' {
			return true
		}
	}
	return false
}

// containsFold reports whether sub is within s, ignoring case.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if lowerASCII(s[i]) == lowerASCII(sub[0]) && strings.EqualFold(s[i:i+n], sub) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// checkGlob validates a glob pattern: * any run of characters (slashes
// too, as Falco's fnmatch without FNM_PATHNAME), ? one character, [...] a
// class with ranges and ! or ^ to negate, \ quotes the next character.
func checkGlob(p string) error {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 >= len(p) {
				return errors.New("trailing backslash")
			}
			i++
		case '[':
			end, ok := classEnd(p, i)
			if !ok {
				return errors.New("unclosed [ in class")
			}
			i = end
		}
	}
	return nil
}

// classEnd finds the ] closing the class that starts at p[i] == '['.
func classEnd(p string, i int) (int, bool) {
	j := i + 1
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for ; j < len(p); j++ {
		if p[j] == '\\' {
			j++
			continue
		}
		if p[j] == ']' {
			return j, true
		}
	}
	return 0, false
}

// globMatch matches s against a pattern that checkGlob accepted. It
// backtracks only to the last star, so it runs in O(len(p)*len(s)) at worst
// and allocates nothing.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				_, size := utf8.DecodeRuneInString(s[si:])
				pi++
				si += size
				continue
			case '[':
				end, _ := classEnd(p, pi)
				r, size := utf8.DecodeRuneInString(s[si:])
				if matchClass(p[pi+1:end], r) {
					pi = end + 1
					si += size
					continue
				}
			case '\\':
				if pi+1 < len(p) && p[pi+1] == s[si] {
					pi += 2
					si++
					continue
				}
			default:
				if p[pi] == s[si] {
					pi++
					si++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star take one more character and try again.
		_, size := utf8.DecodeRuneInString(s[starS:])
		starS += size
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchClass matches a rune against the inside of [...].
func matchClass(c string, r rune) bool {
	neg := false
	if c != "" && (c[0] == '!' || c[0] == '^') {
		neg, c = true, c[1:]
	}
	match := false
	for i := 0; i < len(c); {
		lo, size := utf8.DecodeRuneInString(c[i:])
		if lo == '\\' && i+size < len(c) {
			i += size
			lo, size = utf8.DecodeRuneInString(c[i:])
		}
		i += size
		hi := lo
		if i+1 < len(c) && c[i] == '-' {
			h, hs := utf8.DecodeRuneInString(c[i+1:])
			hi = h
			i += 1 + hs
		}
		if lo <= r && r <= hi {
			match = true
		}
	}
	return match != neg
}
