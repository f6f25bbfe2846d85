package alert

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// readLines returns the Output of each alert line in a file, checking
// that every line is one whole alert.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var outs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, sc.Text(), err)
		}
		outs = append(outs, a.Output)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return outs
}

func lineSize(t *testing.T, a Alert) int64 {
	t.Helper()
	f := filepath.Join(t.TempDir(), "probe.json")
	fl, err := OpenFile(FileOptions{Path: f})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	if err := fl.Send(t.Context(), []Alert{a}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func fileAlert(i int) Alert {
	return Alert{Rule: "r", Priority: PriorityWarning, Time: t0, Output: fmt.Sprintf("alert %03d", i)}
}

func TestFileRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.json")
	size := lineSize(t, fileAlert(0))
	// Three lines fit in a file; the fourth rotates it.
	fl, err := OpenFile(FileOptions{Path: path, MaxSize: 3 * size, MaxBackups: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := fl.Send(t.Context(), []Alert{fileAlert(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A batch rotates in the middle too.
	batch := []Alert{fileAlert(10), fileAlert(11), fileAlert(12)}
	if err := fl.Send(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}
	// 13 alerts, three per file: 0-2 and 3-5 went past the two backups,
	// 6-8 and 9-11 are the backups, and 12 starts the current file.
	want := map[string][]string{
		"alerts.json":   {"alert 012"},
		"alerts.json.1": {"alert 009", "alert 010", "alert 011"},
		"alerts.json.2": {"alert 006", "alert 007", "alert 008"},
	}
	for name, lines := range want {
		p := filepath.Join(dir, name)
		if got := readLines(t, p); fmt.Sprint(got) != fmt.Sprint(lines) {
			t.Errorf("%s = %v, want %v", name, got, lines)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, st.Mode().Perm())
		}
		if st.Size() > 3*size {
			t.Errorf("%s is %d bytes, over the %d limit", name, st.Size(), 3*size)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("files %v, want alerts.json and two backups", entries)
	}
	if err := fl.Send(t.Context(), batch); !IsPermanent(err) {
		t.Errorf("Send after Close = %v, want a permanent error", err)
	}
}

func TestFileAppendsAndTightensMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	if err := os.WriteFile(path, []byte(`{"output":"old","priority":"Notice"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fl, err := OpenFile(FileOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := fl.Send(t.Context(), []Alert{fileAlert(1)}); err != nil {
		t.Fatal(err)
	}
	fl.Close()
	if got := readLines(t, path); fmt.Sprint(got) != "[old alert 001]" {
		t.Fatalf("lines %v", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestFileNoBackupsAndLongLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.json")
	fl, err := OpenFile(FileOptions{Path: path, MaxSize: 10, MaxBackups: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	// Every line is longer than MaxSize: each still gets written, alone.
	if err := fl.Send(t.Context(), []Alert{fileAlert(1), fileAlert(2)}); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, path); fmt.Sprint(got) != "[alert 002]" {
		t.Fatalf("lines %v", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("files %v, want no backups", entries)
	}
}

func TestFileOpenErrors(t *testing.T) {
	if _, err := OpenFile(FileOptions{}); err == nil {
		t.Error("OpenFile accepted an empty path")
	}
	if _, err := OpenFile(FileOptions{Path: filepath.Join(t.TempDir(), "missing", "alerts.json")}); err == nil {
		t.Error("OpenFile created a missing directory")
	}
}
