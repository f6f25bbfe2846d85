package events

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// rawRecord builds a ring buffer record as bpf/events.bpf.c writes it.
func rawRecord(kind Kind, pid, tgid, ppid uint32, comm string) []byte {
	size := recHdrSize
	switch kind {
	case Exec:
		size = recExecSize
	case Connect:
		size = recConnSize + 4 // the C struct's padding
	}
	b := make([]byte, size)
	ne := binary.NativeEndian
	ne.PutUint64(b[recTS:], 1e9)
	ne.PutUint32(b[recPID:], pid)
	ne.PutUint32(b[recTGID:], tgid)
	ne.PutUint32(b[recPPID:], ppid)
	b[recKind] = byte(kind)
	copy(b[recComm:recHdrSize], comm)
	return b
}

func connectRecord(family byte, addr []byte, port uint16, fd int32) []byte {
	b := rawRecord(Connect, 7, 7, 0, "curl")
	b[recFamily] = family
	binary.BigEndian.PutUint16(b[recPort:], port)
	copy(b[recAddr:], addr)
	binary.NativeEndian.PutUint32(b[recFD:], uint32(fd))
	return b
}

func TestDecodeRecord(t *testing.T) {
	var d recordDecoder
	exec := rawRecord(Exec, 10, 10, 0, "xmrig")
	copy(exec[recFilename:], "/tmp/.x/xmrig\x00garbage")
	longExec := rawRecord(Exec, 10, 10, 0, "0123456789abcdef") // comm fills all 16 bytes
	for i := recFilename; i < recExecSize; i++ {
		longExec[i] = 'a'
	}
	v6 := netip.MustParseAddr("2001:db8::1").As16()
	mapped := netip.MustParseAddr("::ffff:127.0.0.1").As16()

	for _, c := range []struct {
		name string
		rec  []byte
		want Event
	}{
		{"exec", exec, Event{Kind: Exec, PID: 10, TGID: 10, Comm: "xmrig", Filename: "/tmp/.x/xmrig"}},
		{"exec without NULs", longExec, Event{Kind: Exec, PID: 10, TGID: 10, Comm: "0123456789abcdef", Filename: string(longExec[recFilename:recExecSize])}},
		{"fork", rawRecord(Fork, 11, 11, 10, "bash"), Event{Kind: Fork, PID: 11, TGID: 11, PPID: 10, Comm: "bash"}},
		{"exit", rawRecord(Exit, 12, 11, 0, "bash"), Event{Kind: Exit, PID: 12, TGID: 11, Comm: "bash"}},
		{"connect v4", connectRecord(afInet, []byte{127, 0, 0, 1}, 3333, 5),
			Event{Kind: Connect, PID: 7, TGID: 7, Comm: "curl", Dst: netip.MustParseAddrPort("127.0.0.1:3333"), FD: 5}},
		{"connect v6", connectRecord(afInet6, v6[:], 443, 6),
			Event{Kind: Connect, PID: 7, TGID: 7, Comm: "curl", Dst: netip.MustParseAddrPort("[2001:db8::1]:443"), FD: 6}},
		{"connect v4-mapped", connectRecord(afInet6, mapped[:], 80, 7),
			Event{Kind: Connect, PID: 7, TGID: 7, Comm: "curl", Dst: netip.MustParseAddrPort("127.0.0.1:80"), FD: 7}},
	} {
		got, ok := d.decode(c.rec)
		if !ok {
			t.Errorf("%s: not decoded", c.name)
			continue
		}
		if got.Time.IsZero() || got.Source != EBPF {
			t.Errorf("%s: time %v source %q", c.name, got.Time, got.Source)
		}
		got.Time, got.Source = c.want.Time, c.want.Source
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}

	for _, c := range []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"short header", rawRecord(Fork, 1, 1, 0, "x")[:recHdrSize-1]},
		{"short exec", rawRecord(Exec, 1, 1, 0, "x")[:recExecSize-1]},
		{"short connect", connectRecord(afInet, []byte{127, 0, 0, 1}, 1, 3)[:recConnSize-1]},
		{"AF_UNIX connect", connectRecord(1, nil, 0, 3)},
		{"unknown kind", rawRecord(9, 1, 1, 0, "x")},
		{"kind zero", rawRecord(0, 1, 1, 0, "x")},
	} {
		if ev, ok := d.decode(c.rec); ok {
			t.Errorf("%s: decoded as %+v", c.name, ev)
		}
	}
}

func TestDecodeRecordAllocs(t *testing.T) {
	var d recordDecoder
	exec := rawRecord(Exec, 10, 10, 0, "sleep")
	copy(exec[recFilename:], "/bin/sleep")
	d.decode(exec)
	if n := testing.AllocsPerRun(100, func() { d.decode(exec) }); n != 0 {
		t.Errorf("%v allocations per repeated exec record", n)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(rawRecord(Exec, 1, 1, 0, "a"))
	f.Add(rawRecord(Fork, 2, 2, 1, "b"))
	f.Add(rawRecord(Exit, 2, 2, 0, "b"))
	f.Add(connectRecord(afInet, []byte{127, 0, 0, 1}, 80, 3))
	f.Add(connectRecord(afInet6, make([]byte, 16), 80, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d recordDecoder
		ev, ok := d.decode(b)
		if !ok {
			return
		}
		if ev.Kind < Exec || ev.Kind > Connect || len(ev.Comm) > 16 || len(ev.Filename) > 512 {
			t.Fatalf("decoded %+v", ev)
		}
		if ev.Kind == Connect && !ev.Dst.IsValid() {
			t.Fatalf("connect without destination: %+v", ev)
		}
	})
}
