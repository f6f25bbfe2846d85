package filescan

import (
	"slices"
	"testing"
)

func TestMinerConfigs(t *testing.T) {
	e := newEngine(t)
	for _, tc := range []struct {
		name, path, text string
		want             []string
	}{
		{"xmrig config alone", "root/.cache/config.json", xmrigConfig, []string{"DAVY-F001", "DAVY-N001"}},
		{"xmrig config, local pool", "c.json", `{"donate-level": 0, "pools": [{"url": "127.0.0.1:3333", "user": "rig1"}]}`, []string{"DAVY-F001"}},
		{"minimal pools with wallet", "x.json", `{"pools":[{"url":"203.0.113.9:3333","user":"` + testWallet + `"}]}`, []string{"DAVY-F001"}},
		{"xmr-stak pools.txt", "pools.txt", `"pool_list" : [ {"pool_address" : "pool.supportxmr.com:5555", "wallet_address" : "` + testWallet + `", "pool_password" : "x", "use_nicehash" : false, "use_tls" : false, "pool_weight" : 1 }, ], "currency" : "monero",`,
			[]string{"DAVY-F001", "DAVY-N001"}},
		{"claymore epools", "epools.txt", "POOL: stratum+tcp://eth.2miners.com:2020, WALLET: 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, PSW: x\n", []string{"DAVY-F002", "DAVY-N001"}},
		{"ini pool and wallet", "config.ini", "[Ethash]\nwallet = " + testWallet + "\npool1 = 203.0.113.9:4444\n", []string{"DAVY-F002"}},
		{"yaml with stratum url", "miner.yaml", "pool: stratum+ssl://203.0.113.9:443\nuser: x\n", []string{"DAVY-F002"}},
		{"compose file running a miner", "docker-compose.yml", "services:\n  w:\n    image: alpine\n    command: /w -o pool.hashvault.pro:80 -u " + testWallet + " --donate-level 1\n",
			[]string{"DAVY-C002", "DAVY-C003", "DAVY-N001"}},

		// Ordinary configs.
		{"app config", "etc/app/config.json", `{"server":{"port":8080},"database":{"url":"postgres://db:5432/x","user":"app"}}`, nil},
		{"connection pools", "pools.json", `{"pools":[{"url":"redis:6379","user":"app"}]}`, nil},
		{"ini db", "etc/odbc.ini", "[db]\nurl = db.example.com:5432\nuser = app\n", nil},
		{"package.json", "package.json", `{"name":"x","version":"1.0.0","scripts":{"build":"tsc -p ."}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := scanStream(t, e, tc.path, []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if got := idSet(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v%s", got, tc.want, dump(fs))
			}
		})
	}
}
