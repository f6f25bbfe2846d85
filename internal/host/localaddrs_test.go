package host

import (
	"net/netip"
	"os"
	"slices"
	"testing"
)

func TestParseFibTrieLocal(t *testing.T) {
	data := []byte(`Main:
  +-- 0.0.0.0/0 3 0 5
     +-- 127.0.0.0/8 2 0 2
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
           |-- 192.0.2.2
              /32 host LOCAL
Local:
           |-- 127.0.0.1
              /32 host LOCAL
`)
	got := parseFibTrieLocal(data)
	want := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.2")}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if a := parseFibTrieLocal([]byte("|-- not-an-address\n/32 host LOCAL\n|-- ::1\n/32 host LOCAL\n")); len(a) != 0 {
		t.Errorf("garbage gave %v", a)
	}
}

func TestParseIfInet6(t *testing.T) {
	got := parseIfInet6([]byte("00000000000000000000000000000001 01 80 10 80       lo\nshort 1 2\n"))
	if len(got) != 1 || got[0] != netip.IPv6Loopback() {
		t.Errorf("got %v", got)
	}
}

func TestLocalAddrsOfThisProcess(t *testing.T) {
	got := LocalAddrs("", os.Getpid())
	if !slices.Contains(got, netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("LocalAddrs = %v, want loopback among them", got)
	}
}

func FuzzParseFibTrieLocal(f *testing.F) {
	f.Add([]byte("|-- 10.0.0.1\n   /32 host LOCAL\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseFibTrieLocal(data)
		parseIfInet6(data)
	})
}
