package intel

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line     string
		min, max int
		want     []string
		skip     bool
		err      bool
	}{
		{"", 2, 3, nil, true, false},
		{"   \t ", 2, 3, nil, true, false},
		{"# comment\twith tab", 2, 3, nil, true, false},
		{"  # indented comment", 2, 3, nil, true, false},
		{"a\tb", 2, 3, []string{"a", "b", ""}, false, false},
		{" a \t b \t c \r", 2, 3, []string{"a", "b", "c"}, false, false},
		{"a\tb\t", 2, 3, []string{"a", "b", ""}, false, false},
		{"a", 2, 3, nil, false, true},
		{"a\tb\tc\td", 2, 3, nil, false, true},
		{"\tb", 2, 3, nil, false, true},
		{"a\x00\tb", 2, 3, nil, false, true},
		{"a\x7f\tb", 2, 3, nil, false, true},
		{"a\xff\tb", 2, 3, nil, false, true},
		{"a\t" + strings.Repeat("b", maxFieldLen+1), 2, 3, nil, false, true},
		{"a b c\tsource with spaces\tnote # not a comment", 2, 3, []string{"a b c", "source with spaces", "note # not a comment"}, false, false},
	} {
		got, err := parseLine(tc.line, tc.min, tc.max)
		switch {
		case tc.skip:
			if !errors.Is(err, errSkip) {
				t.Errorf("%q: want skip, got %v %v", tc.line, got, err)
			}
		case tc.err:
			if err == nil || errors.Is(err, errSkip) {
				t.Errorf("%q: want error, got %v %v", tc.line, got, err)
			}
		default:
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%q: got %q %v, want %q", tc.line, got, err, tc.want)
			}
		}
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add("pool.example\tsrc\tnote", uint8(2), uint8(3))
	f.Add("# comment", uint8(2), uint8(3))
	f.Add("a\t\t\t", uint8(1), uint8(4))
	f.Add("x\xff\x00\t", uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, line string, lo, hi uint8) {
		min, max := int(lo%8), int(hi%8)
		if min > max {
			min, max = max, min
		}
		fields, err := parseLine(line, min, max)
		if err != nil {
			if fields != nil {
				t.Fatal("fields with an error")
			}
			return
		}
		if len(fields) != max {
			t.Fatalf("%d fields, want %d", len(fields), max)
		}
		for i, f := range fields {
			if strings.ContainsAny(f, "\t\r\n\x00") || f != strings.TrimSpace(f) || len(f) > maxFieldLen {
				t.Fatalf("field %d = %q not clean", i, f)
			}
			if i < min && f == "" {
				t.Fatalf("required field %d empty", i)
			}
		}
	})
}

// FuzzParseFile runs whole files through every file kind's parser and adder:
// bad input must give an error, never a panic.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte("a.example\tsrc\n70000\tsrc\nx\tbanner\tstrong\t6162\tsrc\n"), uint8(0))
	f.Add([]byte("n\t(a|b\tsrc\n"), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		sp := specs[int(kind)%len(specs)]
		_ = newIntel().parse(sp, "fuzz", strings.NewReader(string(data)))
	})
}
