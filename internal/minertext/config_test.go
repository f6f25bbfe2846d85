package minertext

import "testing"

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name      string
		text      string
		jsonPools bool
		pools     int
		wallet    bool
		hosts     []string
	}{
		{"xmrig", `{"autosave":true,"donate-level":1,"cpu":{"enabled":true},"pools":[{"url":"pool.supportxmr.com:443","user":"W","pass":"x","tls":true}]}`, true, 1, true, []string{"pool.supportxmr.com"}},
		{"xmrig stratum url", `{"pools":[{"url":"stratum+tcp://127.0.0.1:3333","user":"W"}]}`, true, 1, true, []string{"127.0.0.1"}},
		{"xmr-stak pools.txt", `"pool_list" : [ {"pool_address" : "pool.minexmr.com:4444", "wallet_address" : "W", "rig_id" : "", "pool_password" : "x", "use_nicehash" : false, "use_tls" : false, "tls_fingerprint" : "", "pool_weight" : 1 }, ], "currency" : "monero",`, true, 1, true, []string{"pool.minexmr.com"}},
		{"claymore epools", "POOL: eth-eu1.nanopool.org:9999, WALLET: 0xabc, PSW: x, WORKER: , ESM: 3, ALLPOOLS: 0\n", false, 1, true, []string{"eth-eu1.nanopool.org"}},
		{"nanominer ini", "[Ethash]\nwallet = 0xabc\npool1 = eth-eu1.nanopool.org:9999\n", false, 1, true, []string{"eth-eu1.nanopool.org"}},
		{"app config", `{"server":{"port":8080},"database":{"url":"postgres://db:5432/x","user":"app"}}`, false, 0, false, nil},
		{"ini without pool", "[core]\nuser = alice\nurl = https://example.com/\n", false, 0, true, nil},
		{"garbage", "\x00\xff{{{[[[", false, 0, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := ParseConfig([]byte(c.text))
			if f.JSONPools != c.jsonPools || len(f.Pools) != c.pools || f.WalletKey != c.wallet {
				t.Fatalf("got %+v", f)
			}
			if len(f.Hosts) != len(c.hosts) || (len(c.hosts) > 0 && f.Hosts[0] != c.hosts[0]) {
				t.Fatalf("hosts %v, want %v", f.Hosts, c.hosts)
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"pools":[{"url":"a:1","user":"b"}]}`))
	f.Add([]byte("POOL: a:1, WALLET: b\n"))
	f.Add([]byte(`"pool_list" : [ {"pool_address" : "x:1"} ],`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := ParseConfig(b)
		if len(c.Pools) > MaxFacts || len(c.Hosts) > MaxFacts {
			t.Fatal("fact limit exceeded")
		}
	})
}

func TestContainsFold(t *testing.T) {
	word := []byte("stratum")
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"stratum", true},
		{"x STRATUM+tcp://", true},
		{"url=StRaTuM+ssl://host:1", true},
		{"ends with stratum", true},
		{"stratu", false},
		{"tratum m mmm", false},
		{"", false},
		{"m", false},
	} {
		if got := containsFold([]byte(tc.in), word); got != tc.want {
			t.Errorf("containsFold(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
