package events

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/testenv"
)

// waitTimeout bounds every wait for an event: generous, since the point is
// that the event comes at all, not how fast.
const waitTimeout = 10 * time.Second

// recorder keeps every event a running source delivers.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

// maxRecorded bounds a recorder on a busy machine.
const maxRecorded = 1 << 20

// record runs src until the test ends, recording its events, and checks
// that Run returns nil once its context ends.
func record(t *testing.T, src Source) *recorder {
	t.Helper()
	r := &recorder{}
	out := make(chan Event, 4096)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- src.Run(ctx, out) }()
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for {
			select {
			case ev := <-out:
				r.mu.Lock()
				if len(r.evs) < maxRecorded {
					r.evs = append(r.evs, ev)
				}
				r.mu.Unlock()
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-runErr:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Error("Run did not return after its context ended")
		}
		<-collected
	})
	return r
}

// wait returns the first recorded event that matches, waiting for it.
func (r *recorder) wait(t *testing.T, what string, match func(Event) bool) Event {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for i := 0; ; {
		r.mu.Lock()
		for ; i < len(r.evs); i++ {
			if match(r.evs[i]) {
				ev := r.evs[i]
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, waitTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runProcess runs a program to its end and returns its PID.
func runProcess(t *testing.T, args ...string) int {
	t.Helper()
	testenv.Need(t, isExecutable(args[0]), args[0])
	cmd := exec.Command(args[0], args[1:]...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return cmd.Process.Pid
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// shortLived are the programs whose events every kernel source must see:
// one that ends at once and one that lives 50 ms.
var shortLived = [][]string{{"/bin/true"}, {"/bin/sleep", "0.05"}}

// checkProcessEvents runs short-lived programs under src and waits for
// their fork, exec and exit events.
func checkProcessEvents(t *testing.T, src Source) {
	t.Helper()
	rec := record(t, src)
	for _, args := range shortLived {
		pid := runProcess(t, args...)
		name := strings.Join(args, " ")
		fork := rec.wait(t, "fork of "+name, func(e Event) bool { return e.Kind == Fork && e.TGID == pid })
		if fork.PID != pid || fork.PPID != os.Getpid() {
			t.Errorf("%s: fork %+v, want PID %d, PPID %d", name, fork, pid, os.Getpid())
		}
		ex := rec.wait(t, "exec of "+name, func(e Event) bool { return e.Kind == Exec && e.TGID == pid })
		if ex.PID != pid || ex.Source != src.Name() || ex.Time.IsZero() {
			t.Errorf("%s: exec %+v", name, ex)
		}
		if src.Caps().Filename && ex.Filename != args[0] {
			t.Errorf("%s: exec filename %q, want %q", name, ex.Filename, args[0])
		}
		if src.Name() == EBPF && ex.Comm != args[0][strings.LastIndexByte(args[0], '/')+1:] {
			t.Errorf("%s: exec comm %q", name, ex.Comm)
		}
		rec.wait(t, "exit of "+name, func(e Event) bool { return e.Kind == Exit && e.TGID == pid })
	}
}

// checkDrops starts src with a consumer that never reads, runs a burst of
// processes, and checks that the events are counted as dropped and that
// Run still stops: the reader never blocks on its consumer.
func checkDrops(t *testing.T, src Source) {
	t.Helper()
	out := make(chan Event) // never read
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	deadline := time.Now().Add(waitTimeout)
	for src.Stats().Dropped == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no drops counted: %+v", src.Stats())
		}
		for range 20 {
			runProcess(t, "/bin/true")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return: blocked on its consumer?")
	}
	st := src.Stats()
	if st.Events != 0 || st.Lost < st.Dropped || st.Dropped == 0 {
		t.Errorf("stats %+v: want no events delivered and every drop counted as lost", st)
	}
}

func TestOpenUnknown(t *testing.T) {
	if _, err := Open("kprobe", Options{}); err == nil || !strings.Contains(err.Error(), "proc-connector") {
		t.Errorf("Open(kprobe): %v, want an error naming the valid sources", err)
	}
}

func TestAutoPicksEBPF(t *testing.T) {
	testenv.NeedRoot(t)
	var logs bytes.Buffer
	src, err := Open(Auto, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Name() != EBPF {
		t.Fatalf("auto chose %s, want ebpf; log:\n%s", src.Name(), logs.String())
	}
	if !strings.Contains(logs.String(), "event source") || !strings.Contains(logs.String(), "source=ebpf") {
		t.Errorf("log does not say which source was chosen:\n%s", logs.String())
	}
	if c := src.Caps(); !c.Connect || !c.ShortLived || !c.Filename {
		t.Errorf("ebpf caps %+v", c)
	}
}

func TestRunOnce(t *testing.T) {
	src, err := Open(Poll, Options{ProcFS: fixtureProcFS(t, map[int]string{1: statLine(1, "init", 'S', 0, 0, 5)})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := src.Run(ctx, make(chan Event)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := src.Run(context.Background(), make(chan Event)); err != errRunning {
		t.Errorf("second Run: %v, want %v", err, errRunning)
	}
}

func TestCountersSend(t *testing.T) {
	var c counters
	out := make(chan Event, 1)
	c.send(out, Event{Kind: Exec})
	c.send(out, Event{Kind: Exit}) // full: dropped, not blocking
	c.lost.Add(2)
	st := c.stats(5)
	if st != (Stats{Events: 1, Lost: 2 + 1 + 5, Dropped: 1}) {
		t.Errorf("stats %+v", st)
	}
	if ev := <-out; ev.Kind != Exec {
		t.Errorf("delivered %v", ev.Kind)
	}
}

func TestInterner(t *testing.T) {
	var in interner
	a := in.str([]byte("sleep"))
	if b := in.str([]byte("sleep")); a != b || in.str(nil) != "" {
		t.Fatalf("interner: %q %q", a, b)
	}
	if n := testing.AllocsPerRun(100, func() { in.str([]byte("sleep")) }); n != 0 {
		t.Errorf("%v allocations for a known string", n)
	}
	for i := range internMax + 10 {
		in.str([]byte(strings.Repeat("x", i%300) + string(rune('a'+i%26))))
	}
	if len(in.m) > internMax {
		t.Errorf("interner holds %d strings, limit %d", len(in.m), internMax)
	}
}

func TestMonoClock(t *testing.T) {
	var c monoClock
	now := time.Now()
	got := c.time(1) // long before now on any running machine
	if !got.Before(now) {
		t.Errorf("time of an old timestamp %v not before %v", got, now)
	}
	if c.time(0).Before(now) {
		t.Error("time(0) is not now")
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Exec: "exec", Fork: "fork", Exit: "exit", Connect: "connect", 9: "kind(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q", k, k.String())
		}
	}
}

// testLogger logs to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// TestNoFork asks the kernel sources for no Fork events: execs and exits
// still come, forks do not.
func TestNoFork(t *testing.T) {
	testenv.NeedRoot(t)
	for _, name := range []string{EBPF, ProcConnector} {
		t.Run(name, func(t *testing.T) {
			src, err := Open(name, Options{NoFork: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { src.Close() })
			rec := record(t, src)
			pid := runProcess(t, "/bin/true")
			rec.wait(t, "exec", func(e Event) bool { return e.Kind == Exec && e.TGID == pid })
			rec.wait(t, "exit", func(e Event) bool { return e.Kind == Exit && e.TGID == pid })
			rec.mu.Lock()
			defer rec.mu.Unlock()
			for _, e := range rec.evs {
				if e.Kind == Fork {
					t.Fatalf("fork event %+v with NoFork", e)
				}
			}
		})
	}
}
