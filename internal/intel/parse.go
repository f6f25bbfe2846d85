package intel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits for data files, embedded or the user's.
const (
	MaxFileSize    = 8 << 20 // bytes per file
	MaxFileEntries = 100_000 // entries per file
	maxLineLen     = 64 << 10
	maxFieldLen    = 4096
)

// errSkip marks a blank or comment line.
var errSkip = errors.New("skip")

// parseLine splits one data line into tab-separated, space-trimmed fields.
// Blank lines and lines whose first non-space character is '#' return errSkip.
// The line must have between min and max fields, the first min of them
// non-empty, and no control characters other than the separating tabs.
func parseLine(line string, min, max int) ([]string, error) {
	line = strings.TrimSuffix(line, "\r")
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || trimmed[0] == '#' {
		return nil, errSkip
	}
	if !utf8.ValidString(line) {
		return nil, errors.New("not valid UTF-8")
	}
	for _, r := range line {
		if r != '\t' && (r < 0x20 || r == 0x7f) {
			return nil, fmt.Errorf("control character %U", r)
		}
	}
	fields := strings.Split(line, "\t")
	if len(fields) < min || len(fields) > max {
		if min == max {
			return nil, fmt.Errorf("%d tab-separated fields, want %d", len(fields), min)
		}
		return nil, fmt.Errorf("%d tab-separated fields, want %d to %d", len(fields), min, max)
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
		if len(fields[i]) > maxFieldLen {
			return nil, fmt.Errorf("field %d is longer than %d bytes", i+1, maxFieldLen)
		}
		if i < min && fields[i] == "" {
			return nil, fmt.Errorf("field %d is empty", i+1)
		}
	}
	for len(fields) < max {
		fields = append(fields, "") // optional fields read as empty
	}
	return fields, nil
}

// parseFile feeds each data line of r to add. Errors name the file and line.
func parseFile(name string, r io.Reader, min, max int, add func(fields []string) error) error {
	cr := &countingReader{r: io.LimitReader(r, MaxFileSize+1)}
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	lineNo, entries := 0, 0
	for sc.Scan() {
		lineNo++
		if cr.n > MaxFileSize {
			return fmt.Errorf("%s: larger than the limit of %d bytes", name, MaxFileSize)
		}
		fields, err := parseLine(sc.Text(), min, max)
		if errors.Is(err, errSkip) {
			continue
		}
		if err == nil {
			if entries++; entries > MaxFileEntries {
				return fmt.Errorf("%s:%d: more than %d entries", name, lineNo, MaxFileEntries)
			}
			err = add(fields)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%s:%d: line longer than %d bytes", name, lineNo+1, maxLineLen)
		}
		return fmt.Errorf("%s: read: %w", name, err)
	}
	if cr.n > MaxFileSize {
		return fmt.Errorf("%s: larger than the limit of %d bytes", name, MaxFileSize)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
