package intel

import (
	"fmt"
	"regexp"
	"strings"
)

const maxRegexpLen = 1024

// LogPattern recognises one kind of miner log line.
type LogPattern struct {
	Name   string
	Re     *regexp.Regexp
	Source string
	Note   string
}

// Match reports whether line matches once ANSI escape sequences are removed.
func (p LogPattern) Match(line string) bool { return p.Re.MatchString(StripANSI(line)) }

func (in *Intel) addLogPattern(f []string) error {
	if len(f[1]) > maxRegexpLen {
		return fmt.Errorf("log pattern %q: regexp longer than %d bytes", f[0], maxRegexpLen)
	}
	re, err := regexp.Compile(f[1])
	if err != nil {
		return fmt.Errorf("log pattern %q: %w", f[0], err)
	}
	p := LogPattern{Name: f[0], Re: re, Source: f[2], Note: f[3]}
	for i := range in.logs {
		if in.logs[i].Name == p.Name {
			in.logs[i] = p
			return nil
		}
	}
	in.logs = append(in.logs, p)
	return nil
}

// MatchLog returns the first log pattern that matches line.
func (in *Intel) MatchLog(line string) (LogPattern, bool) {
	clean := StripANSI(line)
	for _, p := range in.logs {
		if p.Re.MatchString(clean) {
			return p, true
		}
	}
	return LogPattern{}, false
}

// StripANSI removes ANSI escape sequences (CSI "ESC [ ... final" and two-byte
// "ESC x") from s. Miners colour single words, which would otherwise break
// patterns that span them.
func StripANSI(s string) string {
	if strings.IndexByte(s, 0x1b) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != 0x1b {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			break
		}
		if s[i+1] != '[' {
			i++ // two-byte escape
			continue
		}
		// CSI: parameters and intermediates up to a final byte in 0x40-0x7e.
		j := i + 2
		for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
			j++
		}
		i = j
	}
	return b.String()
}
