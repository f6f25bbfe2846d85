package events

import (
	"testing"
)

func TestParseFormat(t *testing.T) {
	fields, err := parseFormat([]byte(formatExec))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]tpField{
		"common_type": {0, 2}, "common_pid": {4, 4}, "filename": {8, 4}, "pid": {12, 4}, "old_pid": {16, 4},
	} {
		if got, ok := fields[name]; !ok || got != want {
			t.Errorf("%s: %+v %v, want %+v", name, got, ok, want)
		}
	}
	fields, err = parseFormat([]byte(formatExit618 + formatConnect))
	if err != nil {
		t.Fatal(err)
	}
	if fields["comm"] != (tpField{8, 16}) || fields["uservaddr"] != (tpField{24, 8}) || fields["group_dead"] != (tpField{32, 1}) {
		t.Errorf("fields %+v", fields)
	}

	for name, text := range map[string]string{
		"empty":          "",
		"no fields":      "name: x\nID: 1\nformat:\n",
		"no offset":      "\tfield:int pid;\tsize:4;\tsigned:1;\n",
		"no size":        "\tfield:int pid;\toffset:4;\tsigned:1;\n",
		"bad name":       "\tfield:int p-d;\toffset:4;\tsize:4;\n",
		"no name":        "\tfield:;\toffset:4;\tsize:4;\n",
		"one part":       "\tfield:int pid\n",
		"bad offset":     "\tfield:int pid;\toffset:-4;\tsize:4;\n",
		"offset too big": "\tfield:int pid;\toffset:99999999999999999999;\tsize:4;\n",
	} {
		if f, err := parseFormat([]byte(text)); err == nil {
			t.Errorf("%s: accepted as %+v", name, f)
		}
	}
}

func TestFieldName(t *testing.T) {
	for decl, want := range map[string]string{
		"char comm[16]":               "comm",
		"__data_loc char[] filename":  "filename",
		"struct sockaddr * uservaddr": "uservaddr",
		"const char *name":            "name",
		"int":                         "int",
		"":                            "",
		"char x[":                     "",
	} {
		if got := fieldName([]byte(decl)); got != want {
			t.Errorf("fieldName(%q) = %q, want %q", decl, got, want)
		}
	}
}

func FuzzParseFormat(f *testing.F) {
	f.Add([]byte(formatExec))
	f.Add([]byte(formatNewtask))
	f.Add([]byte("\tfield:int pid;\toffset:4;\tsize:4;\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, err := parseFormat(b)
		if err != nil {
			return
		}
		if len(fields) == 0 || len(fields) > maxFormatFields {
			t.Fatalf("%d fields", len(fields))
		}
		for name, fl := range fields {
			if name == "" || fl.Offset < 0 || fl.Size < 0 || fl.Offset > maxFormatSize {
				t.Fatalf("field %q %+v", name, fl)
			}
		}
	})
}
