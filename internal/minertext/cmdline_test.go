package minertext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCmdline(t *testing.T) {
	cases := []struct {
		name     string
		args     string
		urls     int
		hosts    []string
		flags    int
		poolUser bool
		configs  int
	}{
		{"xmrig classic", "xmrig -o stratum+tcp://pool.supportxmr.com:3333 -u WALLET -p x --donate-level=1", 1, []string{"pool.supportxmr.com"}, 1, true, 0},
		{"ssl stratum in equals", "x --url=stratum+ssl://gulf.moneroocean.stream:20128 --user=W", 1, []string{"gulf.moneroocean.stream"}, 0, true, 0},
		{"bare host pool", "./kthreadd -o 127.0.0.1:4444 -u abc -a rx/0", 0, []string{"127.0.0.1"}, 1, true, 0},
		{"config only", "/tmp/x -c /tmp/.cfg.json", 0, nil, 0, false, 1},
		{"honest", "xz -9 -T2 big.tar", 0, nil, 0, false, 0},
		{"honest curl", "curl -u me:pw -o out.html https://example.com/", 0, nil, 0, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := ParseCmdline(strings.Fields(c.args))
			if len(f.StratumURLs) != c.urls || len(f.Flags) != c.flags || f.PoolUser != c.poolUser || len(f.Configs) != c.configs {
				t.Fatalf("got %+v", f)
			}
			if strings.Join(f.Hosts, ",") != strings.Join(c.hosts, ",") {
				t.Fatalf("hosts %v, want %v", f.Hosts, c.hosts)
			}
		})
	}
}

func TestParseCmdlineHuge(t *testing.T) {
	args := make([]string, 100000)
	for i := range args {
		args[i] = "--donate-level"
	}
	args = append(args, strings.Repeat("stratum+tcp://a", 100000))
	f := ParseCmdline(args)
	if len(f.Flags) != 1 || len(f.Text) > maxArgs*(maxArgLen+1) {
		t.Fatalf("limits not applied: %d flags, %d bytes", len(f.Flags), len(f.Text))
	}
}

func FuzzParseCmdline(f *testing.F) {
	f.Add("xmrig\x00-o\x00stratum+tcp://pool:3333\x00-u\x00W")
	f.Add("a\x00--url=stratum2+ssl://u@h:1/p\x00-c")
	f.Add("\xff\xfe\x00-o\x00[::1]:80")
	f.Fuzz(func(t *testing.T, s string) {
		fa := ParseCmdline(strings.Split(s, "\x00"))
		for _, h := range fa.Hosts {
			if h == "" || len(h) > 253 {
				t.Fatalf("bad host %q", h)
			}
		}
		if len(fa.Hosts) > MaxFacts || len(fa.StratumURLs) > MaxFacts {
			t.Fatal("fact limit exceeded")
		}
		_ = utf8.ValidString(fa.Text)
	})
}
