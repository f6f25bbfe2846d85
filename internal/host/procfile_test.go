package host

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const realStat = "14561 (cat) R 14558 14558 2874 0 -1 4194304 99 0 0 0 7 3 0 0 20 0 1 0 75003 3133440 389 18446744073709551615 94071475994624 94071476014505 140724160160048 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94071476030512 94071476032128 94072451264512 140724160162305 140724160162325 140724160162325 140724160163819 0\n"

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    procStat
		wantErr bool
	}{
		{"real line", realStat,
			procStat{PID: 14561, Comm: "cat", State: 'R', PPID: 14558, Flags: 4194304, UTime: 7, STime: 3, NumThreads: 1, StartTime: 75003}, false},
		{"name with spaces and parentheses",
			"7 (a) b (c)) S 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 3 0 55 0 0\n",
			procStat{PID: 7, Comm: "a) b (c)", State: 'S', PPID: 1, UTime: 1, STime: 2, NumThreads: 3, StartTime: 55}, false},
		{"name with a newline and invalid UTF-8",
			"8 (x\n\xff\xfe) S 1 8 8 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0",
			procStat{PID: 8, Comm: "x\n\xff\xfe", State: 'S', PPID: 1, NumThreads: 1, StartTime: 9}, false},
		{"empty name", "9 () S 0 0 0 0 -1 2097152 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0",
			procStat{PID: 9, State: 'S', Flags: pfKthread, NumThreads: 1, StartTime: 1}, false},
		{"kernel thread flags", "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 4 0 0 20 0 1 0 2 0 0 18446744073709551615",
			procStat{PID: 2, Comm: "kthreadd", State: 'S', Flags: 2129984, STime: 4, NumThreads: 1, StartTime: 2}, false},
		{"empty", "", procStat{}, true},
		{"no parentheses", "1 cat R 1 1", procStat{}, true},
		{"only a closing parenthesis", "1 cat) R 1 1", procStat{}, true},
		{"reversed parentheses", "1 )x( R 1", procStat{}, true},
		{"truncated after the name", "1 (x)", procStat{}, true},
		{"truncated after the state", "1 (x) S", procStat{}, true},
		{"truncated before starttime", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", procStat{}, true},
		{"non-numeric ppid", "1 (x) S y 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0", procStat{}, true},
		{"negative utime", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 0 0 0 20 0 1 0 5 0", procStat{}, true},
		{"overflowing starttime", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999999 0", procStat{}, true},
		{"two spaces", "1 (x) S  1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0", procStat{}, true},
		{"long state", "1 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0", procStat{}, true},
		{"bad pid", "x (y) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0", procStat{}, true},
		{"zero pid", "0 (y) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0", procStat{}, true},
		{"binary noise", "\x00\x01\x02\xff\xfe garbage\n", procStat{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.line))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseStat(%q) = %+v, want an error", tc.line, got)
				}
				if !errors.Is(err, errStatFormat) {
					t.Errorf("error %v does not wrap errStatFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStat(%q): %v", tc.line, err)
			}
			if got != tc.want {
				t.Errorf("parseStat(%q)\n got  %+v\n want %+v", tc.line, got, tc.want)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(realStat))
	f.Add([]byte("7 (a) b (c)) S 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 3 0 55 0 0\n"))
	f.Add([]byte("1 (x)"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStat(data)
		if err != nil {
			if !errors.Is(err, errStatFormat) {
				t.Fatalf("error %v does not wrap errStatFormat", err)
			}
			return
		}
		if s.PID <= 0 || !bytes.Contains(data, []byte("("+s.Comm+")")) {
			t.Fatalf("parsed %+v out of %q", s, data)
		}
	})
}

func TestSplitCmdline(t *testing.T) {
	many := strings.Repeat("a\x00", 100000)
	tests := []struct {
		name      string
		data      string
		max       int
		want      []string
		wantLen   int
		truncated bool
	}{
		{"empty", "", 10, nil, 0, false},
		{"only NULs", "\x00\x00", 10, nil, 0, false},
		{"one", "sleep\x00", 10, []string{"sleep"}, 1, false},
		{"two", "sleep\x00300\x00", 10, []string{"sleep", "300"}, 2, false},
		{"empty argument kept", "a\x00\x00b\x00", 10, []string{"a", "", "b"}, 3, false},
		{"no trailing NUL", "a\x00b", 10, []string{"a", "b"}, 2, false},
		{"rewritten argv with spaces", "nginx: worker process", 10, []string{"nginx: worker process"}, 1, false},
		{"at the limit", "a\x00b\x00c\x00", 3, []string{"a", "b", "c"}, 3, false},
		{"over the limit", "a\x00b\x00c\x00d\x00", 3, []string{"a", "b", "c"}, 3, true},
		{"100,000 arguments", many, maxCmdlineArgs, nil, maxCmdlineArgs, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, truncated := splitCmdline([]byte(tc.data), tc.max)
			if len(got) != tc.wantLen || truncated != tc.truncated {
				t.Fatalf("splitCmdline: %d args, truncated %v; want %d, %v", len(got), truncated, tc.wantLen, tc.truncated)
			}
			if tc.want != nil && strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("splitCmdline = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzSplitCmdline(f *testing.F) {
	f.Add([]byte("a\x00b\x00"), 2)
	f.Add([]byte("x"), 1)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 1 || max > 1000 {
			return
		}
		args, truncated := splitCmdline(data, max)
		if len(args) > max {
			t.Fatalf("%d args over the limit %d", len(args), max)
		}
		if !truncated {
			joined := strings.Join(args, "\x00")
			if joined != string(bytes.TrimRight(data, "\x00")) {
				t.Fatalf("lost bytes: %q from %q", args, data)
			}
		}
	})
}

func TestParseLinkInode(t *testing.T) {
	tests := []struct {
		target, prefix string
		want           uint64
		ok             bool
	}{
		{"net:[4026531840]", "net:[", 4026531840, true},
		{"socket:[12345]", "socket:[", 12345, true},
		{"socket:[]", "socket:[", 0, false},
		{"socket:[12", "socket:[", 0, false},
		{"socket:[x]", "socket:[", 0, false},
		{"pipe:[12]", "socket:[", 0, false},
		{"/dev/null", "socket:[", 0, false},
		{"", "net:[", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			got, ok := parseLinkInode(tc.target, tc.prefix)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseLinkInode(%q) = %d, %v; want %d, %v", tc.target, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		size int
		want string
		full bool
	}{
		{"larger buffer", 64, "0123456789", false},
		{"exact buffer", 10, "0123456789", false},
		{"small buffer", 4, "0123", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, full, err := readFile(p, make([]byte, tc.size))
			if err != nil || string(data) != tc.want || full != tc.full {
				t.Errorf("readFile = %q, %v, %v; want %q, %v", data, full, err, tc.want, tc.full)
			}
		})
	}
	if _, _, err := readFile(filepath.Join(dir, "missing"), make([]byte, 8)); !isGoneErr(err) {
		t.Errorf("missing file: err = %v, want ENOENT", err)
	}
}
