package rules

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// evalFn is a compiled condition.
type evalFn func(*Event) bool

// op is a comparison operator.
type op uint8

const (
	opEq op = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opIn
	opIntersects
	opContains
	opIContains
	opStartsWith
	opEndsWith
	opGlob
	opPMatch
	opRegex
	opExists
)

var opByName = map[string]op{
	"=": opEq, "==": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe,
	"in": opIn, "intersects": opIntersects, "contains": opContains, "icontains": opIContains,
	"startswith": opStartsWith, "endswith": opEndsWith, "glob": opGlob, "pmatch": opPMatch,
	"regex": opRegex, "exists": opExists,
}

// unsupportedOps are Falco operators Davy does not implement; naming them
// gives a clearer error than "expected an operator".
var unsupportedOps = map[string]bool{"bcontains": true, "bstartswith": true, "iglob": true}

var opNames = [...]string{"=", "!=", "<", "<=", ">", ">=", "in", "intersects", "contains", "icontains", "startswith", "endswith", "glob", "pmatch", "regex", "exists"}

func (o op) String() string { return opNames[o] }

// takesList reports whether the operator takes a parenthesised list.
func (o op) takesList() bool { return o == opIn || o == opIntersects || o == opPMatch }

// value is one value of a check as written, with its offset for errors.
type value struct {
	text string
	off  int
}

// checkError is a problem with a check, at an offset of the condition.
type checkError struct {
	off int
	msg string
}

// allowed lists the operators each kind of field accepts.
func allowed(k kind, o op) bool {
	switch k {
	case kString, kConst, kList:
		switch o {
		case opLt, opLe, opGt, opGe:
			return false
		}
		return true
	case kInt, kFloat, kTime:
		switch o {
		case opEq, opNe, opLt, opLe, opGt, opGe, opIn, opIntersects, opExists:
			return true
		}
	case kIP, kNet:
		switch o {
		case opEq, opNe, opIn, opIntersects, opExists:
			return true
		}
	}
	return false
}

// buildCheck compiles one "field op values" test into a closure that reads
// the field straight from the Event. All value parsing (numbers, addresses,
// regular expressions, globs) happens here, once.
func buildCheck(f *field, o op, opOff int, vals []value) (evalFn, *checkError) {
	if !allowed(f.kind, o) {
		return nil, &checkError{opOff, fmt.Sprintf("operator %q cannot be used with %s field %q", o.String(), f.kind, f.name)}
	}
	if o == opExists {
		return existsFn(f), nil
	}
	switch f.kind {
	case kString, kConst:
		return stringCheck(f, o, vals)
	case kList:
		return listCheck(f, o, vals)
	case kInt, kTime:
		return intCheck(f, o, vals)
	case kFloat:
		return floatCheck(f, o, vals)
	case kIP, kNet:
		return ipCheck(f, o, vals)
	}
	return nil, &checkError{opOff, fmt.Sprintf("field %q cannot be compared", f.name)}
}

func existsFn(f *field) evalFn {
	switch f.kind {
	case kString, kConst:
		get := f.str
		return func(e *Event) bool { return get(e) != "" }
	case kList:
		get := f.list
		return func(e *Event) bool { return len(get(e)) > 0 }
	case kInt, kTime:
		get := f.num
		return func(e *Event) bool { _, ok := get(e); return ok }
	case kFloat:
		get := f.flt
		return func(e *Event) bool { _, ok := get(e); return ok }
	case kIP:
		get := f.ip
		return func(e *Event) bool { return get(e).IsValid() }
	case kNet:
		get := f.net
		return func(e *Event) bool { a, b := get(e); return a.IsValid() || b.IsValid() }
	}
	return func(*Event) bool { return false }
}

func texts(vals []value) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.text
	}
	return out
}

// strPred compiles the string test of an operator; it is shared by string
// fields and by list fields (where any element may satisfy it).
func strPred(o op, vals []value) (func(string) bool, *checkError) {
	if o.takesList() {
		switch o {
		case opPMatch:
			ps := newPathSet(texts(vals))
			return ps.match, nil
		default:
			set := newStrSet(texts(vals))
			return set.has, nil
		}
	}
	v := vals[0].text
	switch o {
	case opEq:
		return func(s string) bool { return s == v }, nil
	case opNe:
		return func(s string) bool { return s != v }, nil
	case opContains:
		return func(s string) bool { return strings.Contains(s, v) }, nil
	case opIContains:
		return func(s string) bool { return containsFold(s, v) }, nil
	case opStartsWith:
		return func(s string) bool { return strings.HasPrefix(s, v) }, nil
	case opEndsWith:
		return func(s string) bool { return strings.HasSuffix(s, v) }, nil
	case opGlob:
		if err := checkGlob(v); err != nil {
			return nil, &checkError{vals[0].off, fmt.Sprintf("bad glob pattern %q: %v", v, err)}
		}
		return func(s string) bool { return globMatch(v, s) }, nil
	case opRegex:
		if len(v) > maxRegexLen {
			return nil, &checkError{vals[0].off, fmt.Sprintf("regular expression longer than %d bytes", maxRegexLen)}
		}
		re, err := regexp.Compile(v)
		if err != nil {
			return nil, &checkError{vals[0].off, fmt.Sprintf("bad regular expression %q: %v", v, err)}
		}
		return re.MatchString, nil
	}
	return nil, &checkError{vals[0].off, fmt.Sprintf("operator %q does not apply to strings", o.String())}
}

// stringCheck: an empty string is absent, so every test but = is false on
// it (= "" is true, since absent and empty are the same).
func stringCheck(f *field, o op, vals []value) (evalFn, *checkError) {
	get := f.str
	// The most common tests are written out, saving a call per evaluation.
	switch o {
	case opEq:
		v := vals[0].text
		return func(e *Event) bool { return get(e) == v }, nil
	case opNe:
		v := vals[0].text
		return func(e *Event) bool { s := get(e); return s != "" && s != v }, nil
	case opStartsWith:
		v := vals[0].text
		return func(e *Event) bool { s := get(e); return s != "" && strings.HasPrefix(s, v) }, nil
	case opContains:
		v := vals[0].text
		return func(e *Event) bool { s := get(e); return s != "" && strings.Contains(s, v) }, nil
	case opIn, opIntersects:
		set := newStrSet(texts(vals))
		return func(e *Event) bool { s := get(e); return s != "" && set.has(s) }, nil
	}
	pred, err := strPred(o, vals)
	if err != nil {
		return nil, err
	}
	return func(e *Event) bool { s := get(e); return s != "" && pred(s) }, nil
}

// listCheck: a test on a list field is true when any element passes it;
// != is true when the list is not empty and no element equals the value.
// `in` is the same as `intersects` (Falco's `in` wants every element in
// the set, which reads badly for evidence and resolved names).
func listCheck(f *field, o op, vals []value) (evalFn, *checkError) {
	get := f.list
	if o == opNe {
		v := vals[0].text
		return func(e *Event) bool {
			l := get(e)
			for _, s := range l {
				if s == v {
					return false
				}
			}
			return len(l) > 0
		}, nil
	}
	pred, err := strPred(o, vals)
	if err != nil {
		return nil, err
	}
	return func(e *Event) bool {
		for _, s := range get(e) {
			if pred(s) {
				return true
			}
		}
		return false
	}, nil
}

func intCheck(f *field, o op, vals []value) (evalFn, *checkError) {
	nums := make([]int64, len(vals))
	for i, v := range vals {
		n, err := strconv.ParseInt(v.text, 0, 64)
		if err != nil {
			return nil, &checkError{v.off, fmt.Sprintf("%s: %q is not an integer", f.name, v.text)}
		}
		nums[i] = n
	}
	return compare(f.num, o, nums), nil
}

func floatCheck(f *field, o op, vals []value) (evalFn, *checkError) {
	nums := make([]float64, len(vals))
	for i, v := range vals {
		n, err := strconv.ParseFloat(v.text, 64)
		if err != nil || math.IsNaN(n) {
			return nil, &checkError{v.off, fmt.Sprintf("%s: %q is not a number", f.name, v.text)}
		}
		nums[i] = n
	}
	return compare(f.flt, o, nums), nil
}

// compare builds a numeric check: membership for list operators, else the
// comparison with the one value, each as its own closure so evaluation
// pays no dispatch on the operator. An absent field never matches.
func compare[T int64 | float64](get func(*Event) (T, bool), o op, nums []T) evalFn {
	if o.takesList() {
		return func(e *Event) bool {
			n, ok := get(e)
			return ok && slices.Contains(nums, n)
		}
	}
	v := nums[0]
	switch o {
	case opEq:
		return func(e *Event) bool { n, ok := get(e); return ok && n == v }
	case opNe:
		return func(e *Event) bool { n, ok := get(e); return ok && n != v }
	case opLt:
		return func(e *Event) bool { n, ok := get(e); return ok && n < v }
	case opLe:
		return func(e *Event) bool { n, ok := get(e); return ok && n <= v }
	case opGt:
		return func(e *Event) bool { n, ok := get(e); return ok && n > v }
	default:
		return func(e *Event) bool { n, ok := get(e); return ok && n >= v }
	}
}

// parsePrefix reads an address or a CIDR; an address is its own /32 or
// /128 network. IPv4-mapped IPv6 addresses are unmapped.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ipCheck compares addresses with addresses or CIDRs: = and in are true
// when the address is inside one of them. For fd.net either side counts.
func ipCheck(f *field, o op, vals []value) (evalFn, *checkError) {
	ps := make([]netip.Prefix, len(vals))
	for i, v := range vals {
		p, err := parsePrefix(v.text)
		if err != nil {
			return nil, &checkError{v.off, fmt.Sprintf("%s: %q is not an IP address or CIDR", f.name, v.text)}
		}
		ps[i] = p
	}
	neg := o == opNe
	if f.kind == kIP {
		get := f.ip
		return func(e *Event) bool {
			a := get(e)
			return a.IsValid() && inPrefixes(a, ps) != neg
		}, nil
	}
	get := f.net
	return func(e *Event) bool {
		a, b := get(e)
		if !a.IsValid() && !b.IsValid() {
			return false
		}
		return (inPrefixes(a, ps) || inPrefixes(b, ps)) != neg
	}, nil
}
