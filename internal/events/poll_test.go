package events

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/testenv"
)

// statLine builds a /proc/PID/stat line with the fields the poll source
// reads; the others are zeros.
func statLine(pid int, comm string, state byte, ppid int, flags, start uint64) string {
	// Fields 5-8 and 10-21 are zeros.
	return fmt.Sprintf("%d (%s) %c %d 0 0 0 0 %d 0 0 0 0 0 0 0 0 0 0 0 0 %d 0 0\n",
		pid, comm, state, ppid, flags, start)
}

// fixtureProcFS writes a proc tree with the given stat lines.
func fixtureProcFS(t *testing.T, stats map[int]string) string {
	t.Helper()
	dir := t.TempDir()
	for pid, line := range stats {
		writeStat(t, dir, pid, line)
	}
	// Entries that are not processes.
	for _, name := range []string{"self", "sys"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "uptime"), []byte("1.0 1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeStat(t *testing.T, procfs string, pid int, line string) {
	t.Helper()
	d := filepath.Join(procfs, strconv.Itoa(pid))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "stat"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// drain returns what scan sent.
func drain(out chan Event) []Event {
	var evs []Event
	for {
		select {
		case ev := <-out:
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

func TestPollFixture(t *testing.T) {
	procfs := fixtureProcFS(t, map[int]string{
		1:   statLine(1, "init", 'S', 0, 0, 5),
		2:   statLine(2, "kthreadd", 'S', 0, pfKthread, 5),
		100: statLine(100, "sshd", 'S', 1, 0, 500),
	})
	s, err := openPoll(Options{ProcFS: procfs, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := make(chan Event, 16)
	step := func(name string, want ...Event) {
		t.Helper()
		if err := s.scan(out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := drain(out)
		if len(got) != len(want) {
			t.Fatalf("%s: got %+v, want %+v", name, got, want)
		}
		for i, w := range want {
			g := got[i]
			if g.Kind != w.Kind || g.PID != w.PID || g.TGID != w.PID || g.PPID != w.PPID || g.Comm != w.Comm || g.Source != Poll {
				t.Errorf("%s: event %d is %+v, want %+v", name, i, g, w)
			}
		}
	}

	step("baseline is not news")
	writeStat(t, procfs, 200, statLine(200, "xmrig (x)", 'R', 100, 0, 900))
	step("new process", Event{Kind: Exec, PID: 200, PPID: 100, Comm: "xmrig (x)"})
	if err := os.RemoveAll(filepath.Join(procfs, "100")); err != nil {
		t.Fatal(err)
	}
	step("vanished process", Event{Kind: Exit, PID: 100, PPID: 1, Comm: "sshd"})
	writeStat(t, procfs, 200, statLine(200, "bash", 'S', 1, 0, 1000))
	step("PID reused", Event{Kind: Exit, PID: 200, PPID: 100, Comm: "xmrig (x)"}, Event{Kind: Exec, PID: 200, PPID: 1, Comm: "bash"})
	writeStat(t, procfs, 200, statLine(200, "bash", 'Z', 1, 0, 1000))
	step("zombie", Event{Kind: Exit, PID: 200, PPID: 1, Comm: "bash"})
	writeStat(t, procfs, 300, "300 (broken")
	step("malformed stat is skipped")

	// A consumer that does not read: counted, not blocking.
	writeStat(t, procfs, 400, statLine(400, "a", 'R', 1, 0, 2000))
	writeStat(t, procfs, 401, statLine(401, "b", 'R', 1, 0, 2000))
	if err := s.scan(make(chan Event)); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Dropped != 2 || st.Lost != 2 || st.Events != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestPollOptions(t *testing.T) {
	if _, err := openPoll(Options{ProcFS: t.TempDir() + "/missing"}); err == nil {
		t.Error("missing procfs accepted")
	}
	if _, err := openPoll(Options{ProcFS: t.TempDir(), PollInterval: time.Millisecond}); err == nil {
		t.Error("1 ms interval accepted")
	}
	s, err := openPoll(Options{ProcFS: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s.interval != defaultPollInterval || s.Caps() != (Caps{}) || s.Name() != Poll {
		t.Errorf("defaults: %v %+v %s", s.interval, s.Caps(), s.Name())
	}
}

// TestPollProcessEvents runs a process that outlives several intervals:
// the poll source cannot promise to see shorter ones.
func TestPollProcessEvents(t *testing.T) {
	testenv.NeedRoot(t)
	testenv.Need(t, isExecutable("/bin/sleep"), "/bin/sleep")
	src, err := Open(Poll, Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec := record(t, src)
	cmd := exec.Command("/bin/sleep", "0.5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	ex := rec.wait(t, "exec", func(e Event) bool { return e.Kind == Exec && e.TGID == pid })
	if ex.PPID != os.Getpid() || ex.Time.IsZero() || ex.Time.After(time.Now()) {
		t.Errorf("exec %+v", ex)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "exit", func(e Event) bool { return e.Kind == Exit && e.TGID == pid })
}

func TestParseStat(t *testing.T) {
	good := statLine(42, "a) (b", 'R', 7, 0x40, 12345)
	st, err := parseStat([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if string(st.comm) != "a) (b" || st.state != 'R' || st.ppid != 7 || st.flags != 0x40 || st.start != 12345 {
		t.Errorf("%+v", st)
	}
	for name, line := range map[string]string{
		"empty":        "",
		"no comm":      "42 sleep R 1",
		"pid missing":  "(sleep) R 1",
		"short":        "42 (sleep) R 1 0 0",
		"bad ppid":     "42 (sleep) R x 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5",
		"negative":     "42 (sleep) R -3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5",
		"long state":   "42 (sleep) RR 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5",
		"double space": "42 (sleep) R  1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5",
		"bad start":    "42 (sleep) R 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 -5",
	} {
		if _, err := parseStat([]byte(line)); err == nil {
			t.Errorf("%s: %q accepted", name, line)
		}
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(statLine(1, "init", 'S', 0, 0, 5)))
	f.Add([]byte(statLine(9, ") (", 'Z', 1, pfKthread, 1<<40)))
	f.Add([]byte("42 (sleep) R 1 0 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStat(b)
		if err == nil && (len(st.comm) > len(b) || st.ppid < 0) {
			t.Fatalf("%+v from %q", st, b)
		}
	})
}
