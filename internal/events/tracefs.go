package events

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// traceFSDirs are where tracefs is found, newest convention first.
var traceFSDirs = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// traceFS returns the tracefs directory, mounting tracefs at
// /sys/kernel/tracing when it is mounted nowhere (a fresh container, a
// minimal host): the tracepoint IDs and record formats are only there.
// The mount stays after davy ends, as it would after `mount -t tracefs`.
func traceFS(log *slog.Logger) (string, error) {
	for _, d := range traceFSDirs {
		st, err := os.Stat(filepath.Join(d, "events"))
		switch {
		case err == nil && st.IsDir():
			return d, nil
		case errors.Is(err, fs.ErrPermission):
			// Mounted, but not for us: mounting again would not help.
			return "", fmt.Errorf("tracefs: %w", err)
		}
	}
	d := traceFSDirs[0]
	if !isDir(d) {
		return "", fmt.Errorf("tracefs is not mounted and %s does not exist", d)
	}
	if err := unix.Mount("nodev", d, "tracefs", 0, ""); err != nil {
		return "", fmt.Errorf("tracefs is not mounted and mounting it at %s failed: %w", d, err)
	}
	if !isDir(filepath.Join(d, "events")) {
		return "", fmt.Errorf("tracefs mounted at %s has no events directory", d)
	}
	log.Info("mounted tracefs for eBPF tracepoints", "path", d)
	return d, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// tpField is one field of a tracepoint record.
type tpField struct {
	Offset, Size int
}

// Limits on a tracepoint format file (real ones are under 2 KiB).
const (
	maxFormatSize   = 64 << 10
	maxFormatFields = 256
)

var errFormat = errors.New("malformed tracepoint format")

// readFormat reads the record layout of tracepoint group/name.
func readFormat(tracefs, group, name string) (map[string]tpField, error) {
	f, err := os.Open(filepath.Join(tracefs, "events", group, name, "format"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFormatSize))
	if err != nil {
		return nil, fmt.Errorf("reading format of %s/%s: %w", group, name, err)
	}
	fields, err := parseFormat(b)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", group, name, err)
	}
	return fields, nil
}

// parseFormat parses a tracefs "format" file: one line per field, as in
//
//	field:__data_loc char[] filename;	offset:8;	size:4;	signed:0;
//
// and returns the fields by name (array suffixes stripped).
func parseFormat(b []byte) (map[string]tpField, error) {
	fields := make(map[string]tpField)
	for line := range bytes.Lines(b) {
		line = bytes.TrimSpace(line)
		decl, ok := bytes.CutPrefix(line, []byte("field:"))
		if !ok {
			continue
		}
		if len(fields) >= maxFormatFields {
			return nil, fmt.Errorf("%w: over %d fields", errFormat, maxFormatFields)
		}
		parts := bytes.Split(decl, []byte(";"))
		if len(parts) < 3 {
			return nil, fmt.Errorf("%w: %q", errFormat, line)
		}
		name := fieldName(parts[0])
		if name == "" {
			return nil, fmt.Errorf("%w: no field name in %q", errFormat, line)
		}
		var fl tpField
		var haveOff, haveSize bool
		for _, p := range parts[1:] {
			k, v, ok := bytes.Cut(bytes.TrimSpace(p), []byte(":"))
			if !ok {
				continue
			}
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 0 || n > maxFormatSize {
				continue
			}
			switch string(k) {
			case "offset":
				fl.Offset, haveOff = n, true
			case "size":
				fl.Size, haveSize = n, true
			}
		}
		if !haveOff || !haveSize {
			return nil, fmt.Errorf("%w: no offset or size in %q", errFormat, line)
		}
		fields[name] = fl
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: no fields", errFormat)
	}
	return fields, nil
}

// fieldName returns the name in a C declaration such as "char comm[16]"
// or "const char * name".
func fieldName(decl []byte) string {
	decl = bytes.TrimSpace(decl)
	// "char comm[16]", but not "__data_loc char[] filename".
	if bytes.HasSuffix(decl, []byte("]")) {
		if i := bytes.LastIndexByte(decl, '['); i >= 0 {
			decl = bytes.TrimSpace(decl[:i])
		}
	}
	i := bytes.LastIndexAny(decl, " *\t")
	name := decl[i+1:]
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return string(name)
}
