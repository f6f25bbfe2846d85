package events

import (
	"testing"

	"github.com/davyproject/davy/internal/testenv"
)

func openProcConnTest(t *testing.T) Source {
	t.Helper()
	testenv.NeedRoot(t)
	src, err := Open(ProcConnector, Options{})
	if err != nil {
		t.Fatalf("proc connector: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func TestProcConnProcessEvents(t *testing.T) {
	src := openProcConnTest(t)
	if c := src.Caps(); c.Connect || !c.ShortLived || c.Filename {
		t.Errorf("caps %+v", c)
	}
	checkProcessEvents(t, src)
}

func TestProcConnDropsWhenConsumerStalls(t *testing.T) {
	checkDrops(t, openProcConnTest(t))
}

func TestProcConnCloseUnblocksRun(t *testing.T) {
	src := openProcConnTest(t)
	done := make(chan error, 1)
	go func() { done <- src.Run(t.Context(), make(chan Event, 1)) }()
	runProcess(t, "/bin/true") // Run is reading by now or soon
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run after Close: %v", err)
	}
}

func TestProcConnEvent(t *testing.T) {
	var s procConnSource
	for _, c := range []struct {
		name string
		m    procMsg
		want Event
		ok   bool
	}{
		{"process fork", procMsg{What: procEventFork, Data: [6]uint32{10, 10, 11, 11}}, Event{Kind: Fork, PID: 11, TGID: 11, PPID: 10}, true},
		{"thread creation", procMsg{What: procEventFork, Data: [6]uint32{10, 10, 12, 10}}, Event{}, false},
		{"exec", procMsg{What: procEventExec, Data: [6]uint32{11, 11}}, Event{Kind: Exec, PID: 11, TGID: 11}, true},
		{"process exit", procMsg{What: procEventExit, Data: [6]uint32{11, 11, 0, 17, 10, 10}}, Event{Kind: Exit, PID: 11, TGID: 11, PPID: 10}, true},
		{"thread exit", procMsg{What: procEventExit, Data: [6]uint32{12, 10, 0, 0, 1, 1}}, Event{}, false},
		{"ack", procMsg{What: procEventNone}, Event{}, false},
		{"comm change", procMsg{What: 0x200, Data: [6]uint32{11, 11}}, Event{}, false},
	} {
		got, ok := s.event(&c.m)
		if ok != c.ok {
			t.Errorf("%s: ok %v", c.name, ok)
			continue
		}
		if !ok {
			continue
		}
		if got.Source != ProcConnector || got.Time.IsZero() {
			t.Errorf("%s: %+v", c.name, got)
		}
		got.Source, got.Time = "", c.want.Time
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
