package proto

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDialects(t *testing.T) {
	for _, d := range dialects() {
		t.Run(d.name, func(t *testing.T) {
			r := Recognize(d.client, d.server)
			if r.Protocol != d.want || r.Confidence != d.conf {
				t.Fatalf("got %s (%s), want %s (%s): %s", r.Protocol, r.Confidence, d.want, d.conf, r.Summary())
			}
			if r.Agent != d.agent || r.Login != d.login || r.Host != d.host || r.JobID != d.jobID {
				t.Errorf("agent %q login %q host %q job %q; want %q %q %q %q", r.Agent, r.Login, r.Host, r.JobID, d.agent, d.login, d.host, d.jobID)
			}
			if r.Wallet.Coin != d.coin {
				t.Errorf("wallet %+v, want coin %q", r.Wallet, d.coin)
			}
			for _, ev := range d.evidence {
				if !r.Has(ev) {
					t.Errorf("evidence %s missing: %v", ev, r.Evidence)
				}
			}
			if !r.Protocol.Mining() {
				t.Errorf("%s is not a mining protocol", r.Protocol)
			}
		})
	}
}

// Each direction alone still names the dialect: a capture may miss one.
func TestDialectsOneSided(t *testing.T) {
	for _, d := range dialects() {
		t.Run(d.name, func(t *testing.T) {
			c := Recognize(d.client, nil)
			if c.Protocol != d.want {
				t.Errorf("client only: %s", c.Summary())
			}
			if c.Confidence == ConfidenceHigh && c.Wallet.Coin == "" {
				t.Errorf("client only without a wallet is high: %s", c.Summary())
			}
			if d.want == ProtoStratumV2 {
				return // its server reply alone is 12 bytes of frame header
			}
			s := Recognize(nil, d.server)
			// A login error and a bare result say nothing by themselves.
			if s.Protocol != d.want && s.Protocol != ProtoNone {
				t.Errorf("server only: %s", s.Summary())
			}
		})
	}
}

func TestServerOnlyNamesDialect(t *testing.T) {
	cases := []struct {
		name   string
		server string
		want   Protocol
		job    bool
	}{
		{"v1 subscribe result", v1SubscribeRes, ProtoStratumV1, false},
		{"v1 notify", v1Notify, ProtoStratumV1, true},
		{"v1 difficulty", v1SetDifficulty, ProtoStratumV1, true},
		{"es1 subscribe result", es1SubscribeRes, ProtoEthereumStratum1, false},
		{"cn login result", cnLoginRes, ProtoCryptoNote, true},
		{"cn job", cnJobNotify, ProtoCryptoNote, true},
		{"es2 hello result", es2HelloRes, ProtoEthereumStratum2, false},
		{"es2 set", es2Set, ProtoEthereumStratum2, true},
		{"eth work", ethWork, ProtoEthereumStratum1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Recognize(nil, lines(c.server))
			if r.Protocol != c.want || r.Job != c.job {
				t.Fatalf("got %s", r.Summary())
			}
		})
	}
}

func TestClientVariants(t *testing.T) {
	cases := []struct {
		name   string
		client string
		want   Protocol
		agent  string
		login  string
		coin   string
	}{
		{"nicehash hmac subscribe", nhSubscribeHMAC, ProtoStratumV1, "NiceHash/1.0.0", "", ""},
		{"bech32 worker login", `{"id":2,"method":"mining.authorize","params":["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4.rig1","x"]}`, ProtoStratumV1, "", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4.rig1", "bitcoin"},
		{"authorize null password", `{"id":2,"method":"mining.authorize","params":["user.worker",null]}`, ProtoStratumV1, "", "user.worker", ""},
		{"lowercase eth login has no checksum", `{"id":1,"method":"eth_submitLogin","params":["0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"]}`, ProtoEthereumStratum1, "", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{"extranonce subscribe", `{"id": 3, "method": "mining.extranonce.subscribe", "params": []}`, ProtoStratumV1, "", "", ""},
		{"escaped method", `{"id":1,"method":"mining\u002esubscribe","params":["cpuminer/2.5.1"]}`, ProtoStratumV1, "cpuminer/2.5.1", "", ""},
		{"crlf and blank lines", "\r\n" + v1SubscribeAgent + "\r", ProtoStratumV1, "cgminer/4.11.1", "", ""},
		{"xmr-stak login without jsonrpc", `{"method":"login","params":{"login":"user","pass":"x","rigid":"","agent":"xmr-stak/2.10.8"},"id":1}`, ProtoCryptoNote, "xmr-stak/2.10.8", "user", ""},
		{"unknown json first then subscribe", `{"id":0,"method":"mining.suggest_difficulty","params":[512]}` + "\n" + v1SubscribeAgent, ProtoStratumV1, "cgminer/4.11.1", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Recognize([]byte(c.client+"\n"), nil)
			if r.Protocol != c.want || r.Agent != c.agent || r.Login != c.login || r.Wallet.Coin != c.coin {
				t.Fatalf("got %s", r.Summary())
			}
		})
	}
}

// Lines that use a method name with the wrong shape, or sit in another
// protocol, must not match.
func TestNegatives(t *testing.T) {
	httpBody := v1Subscribe + "\n"
	cases := []struct {
		name           string
		client, server string
	}{
		{"http request body", "POST /rpc HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\nContent-Length: 55\r\n\r\n" + httpBody, ""},
		{"http ndjson body", "POST /ingest HTTP/1.1\r\nHost: logs\r\n\r\n" + v1Subscribe + "\n" + cnLogin + "\n", ""},
		{"http response body", "GET /docs HTTP/1.1\r\nHost: example.com\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + v1Notify + "\n" + cnJobNotify + "\n"},
		{"server json to http client", "GET / HTTP/1.1\r\n\r\n", v1Notify + "\n"},
		{"eth node rpc", `{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}` + "\n", `{"jsonrpc":"2.0","id":1,"result":"0x10d4f"}` + "\n"},
		{"eth node getLogs result", `{"jsonrpc":"2.0","method":"eth_getLogs","params":[{}],"id":1}` + "\n", `{"jsonrpc":"2.0","id":1,"result":["0xabc","0xdef","0x1"]}` + "\n"},
		{"lsp stdio framing", "Content-Length: 85\r\n\r\n" + `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":1,"rootUri":null}}`, "Content-Length: 40\r\n\r\n" + `{"jsonrpc":"2.0","id":1,"result":{}}`},
		{"lsp bare json", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":1,"rootUri":null,"capabilities":{}}}` + "\n", `{"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}}` + "\n"},
		{"chat message quoting", `{"id":7,"method":"chat.send","params":["try {\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]} on port 3333"]}` + "\n", ""},
		{"chat text", `{"type":"message","text":"mining.subscribe mining.authorize login keepalived"}` + "\n", `{"type":"message","text":"mining.notify job"}` + "\n"},
		{"log line", `2024-01-01T00:00:00Z sent {"id": 1, "method": "mining.subscribe", "params": []}` + "\n", ""},
		{"syslog of json", `<14>Jan  1 00:00:00 host app: ` + cnLogin + "\n", ""},
		{"subscribe with object params", `{"id":1,"method":"mining.subscribe","params":{"agent":"x"}}` + "\n", ""},
		{"subscribe with number params", `{"id":1,"method":"mining.subscribe","params":[1,2]}` + "\n", ""},
		{"authorize empty user", `{"id":1,"method":"mining.authorize","params":["","x"]}` + "\n", ""},
		{"submit wrong shape", `{"id":1,"method":"mining.submit","params":["a"]}` + "\n", ""},
		{"client notification", `{"method":"mining.subscribe","params":[]}` + "\n", ""},
		{"null id request", `{"id":null,"method":"mining.subscribe","params":[]}` + "\n", ""},
		{"batch array", `[` + v1Subscribe + `]` + "\n", ""},
		{"generic login", `{"id":1,"method":"login","params":{"username":"bob","password":"hunter2"}}` + "\n", `{"id":1,"result":{"token":"abc","job":"engineer"}}` + "\n"},
		{"login without pass or agent", `{"id":1,"method":"login","params":{"login":"bob"}}` + "\n", ""},
		{"login with array params", `{"id":1,"method":"login","params":["bob","x"]}` + "\n", ""},
		{"generic submit", `{"id":1,"method":"submit","params":{"form":"contact","text":"hello"}}` + "\n", ""},
		{"generic job result", `{"id":1,"method":"status","params":[]}` + "\n", `{"id":1,"result":{"job":{"id":42,"state":"running"}}}` + "\n"},
		{"server job wrong shape", "", `{"method":"job","params":{"blob":"zz","job_id":"1","target":"ff"}}` + "\n"},
		{"hello wrong proto", `{"id":0,"method":"mining.hello","params":{"agent":"x","host":"h","port":"4d2","proto":"Other/2.0.0"}}` + "\n", ""},
		{"notify too short", "", `{"id":null,"method":"mining.notify","params":["bf"]}` + "\n"},
		{"subscribe result without names", "", `{"id":1,"result":[[["other.thing","1"]],"08000002",4]}` + "\n"},
		{"garbled retransmission", `{"id": 1, "method": "mining.subs{"id": 1, "method": "mining.subscribe", "params": []}` + "\n", ""},
		{"out of order second half first", `"params": []}` + "\n" + v1Subscribe + "\n", ""},
		{"overlong line", `{"id":1,"method":"mining.subscribe","params":["` + strings.Repeat("a", MaxLineBytes) + `"]}` + "\n", ""},
		{"websocket frames", "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\xb8\x01\x02\x03\x04", "HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x37" + v1Subscribe},
		{"websocket server frame only", "", "\x81\x37" + v1Subscribe},
		{"postgres startup", "\x00\x00\x00\x29\x00\x03\x00\x00user\x00postgres\x00database\x00postgres\x00\x00", "R\x00\x00\x00\x08\x00\x00\x00\x00"},
		{"postgres ssl request", "\x00\x00\x00\x08\x04\xd2\x16\x2f", "N"},
		{"http2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x04\x00\x10\x00\x00\x00\x02\x00\x00\x00\x00" + "\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x0f\x00\x01", "\x00\x00\x00\x04\x00\x00\x00\x00\x00"},
		{"redis resp", "*2\r\n$3\r\nGET\r\n$4\r\nkey1\r\n", "$-1\r\n"},
		{"ssh banner", "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n", "SSH-2.0-OpenSSH_9.6\r\n"},
		{"mysql server greeting only", "", "\x4a\x00\x00\x00\x0a8.0.36\x00"},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Recognize([]byte(c.client), []byte(c.server))
			if r.Protocol != ProtoNone || r.Confidence != ConfidenceNone || len(r.Evidence) != 0 {
				t.Fatalf("matched: %s", r.Summary())
			}
		})
	}
}

func TestHTTP2PrefaceIs64Bytes(t *testing.T) {
	// The HTTP/2 case above is a first flight of exactly 64 bytes, the
	// size of a Stratum V2 Noise key: it must fail on content, not size.
	c := "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x04\x00\x10\x00\x00\x00\x02\x00\x00\x00\x00" + "\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x0f\x00\x01"
	if len(c) != 64 {
		t.Fatalf("preface flight is %d bytes", len(c))
	}
}

func TestRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		n := rng.IntN(600)
		if n == sv2Act1Len {
			continue // 64 random bytes are exactly what a Noise key looks like
		}
		c, s := make([]byte, n), make([]byte, rng.IntN(600))
		for j := range c {
			c[j] = byte(rng.Uint32())
		}
		for j := range s {
			s[j] = byte(rng.Uint32())
		}
		if r := Recognize(c, s); r.Protocol != ProtoNone {
			t.Fatalf("random %x / %x: %s", c, s, r.Summary())
		}
	}
}

// Garbage around valid lines. A cut never gives a wrong protocol or a field
// that is not the example's. A repeated or dropped range, or a flipped byte,
// can turn a line into another valid line (a different agent, say), so there
// only the family is checked: still a JSON dialect, or nothing.
func TestGarbage(t *testing.T) {
	for _, d := range dialects() {
		if d.want == ProtoStratumV2 {
			continue
		}
		full := Recognize(d.client, d.server)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; i < 500; i++ {
			kind := rng.IntN(4)
			r := Recognize(mangle(rng, kind, d.client), mangle(rng, kind, d.server))
			if kind == 0 {
				checkConsistent(t, d.name, r, full)
				continue
			}
			switch r.Protocol {
			case ProtoNone, ProtoStratumV1, ProtoCryptoNote, ProtoEthereumStratum1, ProtoEthereumStratum2:
			default:
				t.Fatalf("%s: mangled JSON gave %s", d.name, r.Summary())
			}
		}
	}
}

// mangle cuts b short (kind 0), repeats a range as a retransmission would
// (1), drops a range (2) or flips a byte (3).
func mangle(rng *rand.Rand, kind int, b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	out := bytes.Clone(b)
	i := rng.IntN(len(out))
	j := i + rng.IntN(len(out)-i)
	switch kind {
	case 0:
		out = out[:i]
	case 1:
		out = append(out[:j:j], append(bytes.Clone(b[i:j]), b[j:]...)...)
	case 2:
		out = append(out[:i:i], out[j:]...)
	case 3:
		out[i] ^= byte(1 + rng.IntN(255))
	}
	return out
}

// checkConsistent fails if r claims a protocol other than full's, or a
// field full did not have.
func checkConsistent(t *testing.T, name string, r, full Result) {
	t.Helper()
	if r.Protocol == ProtoNone {
		if len(r.Evidence) != 0 || r.Agent != "" || r.Login != "" || r.Job {
			t.Fatalf("%s: no protocol but fields: %+v", name, r)
		}
		return
	}
	if r.Protocol != full.Protocol {
		t.Fatalf("%s: protocol %s, want %s or none", name, r.Summary(), full.Protocol)
	}
	for _, f := range [][2]string{{r.Agent, full.Agent}, {r.Login, full.Login}, {r.Host, full.Host}, {r.SNI, full.SNI}} {
		if f[0] != "" && f[0] != f[1] {
			t.Fatalf("%s: field %q, want %q or empty (%s)", name, f[0], f[1], r.Summary())
		}
	}
	for _, ev := range r.Evidence {
		if !full.Has(ev) && ev != EvTLSTruncated {
			t.Fatalf("%s: evidence %s not in the full flow's %v", name, ev, full.Evidence)
		}
	}
}

func TestSummary(t *testing.T) {
	r := Recognize(lines(cnLogin), lines(cnLoginRes))
	s := r.Summary()
	for _, want := range []string{r.Protocol.String(), "(high)", "methods=login", `agent="XMRig/2.6.0`, "wallet=monero", "job", EvLoginWallet} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	if (Result{}).String() != "unrecognised" {
		t.Errorf("zero result: %q", Result{}.String())
	}
	b, err := json.Marshal(struct {
		P Protocol
		C Confidence
	}{r.Protocol, r.Confidence})
	if err != nil || !strings.Contains(string(b), `"high"`) || !strings.Contains(string(b), `"cryptonote"`) {
		t.Errorf("marshal: %s %v", b, err)
	}
}

func TestProtocolNames(t *testing.T) {
	want := map[Protocol]string{
		ProtoNone: "", ProtoStratumV1: "stratum-v1", ProtoCryptoNote: "cryptonote",
		ProtoEthereumStratum1: "ethereum-stratum-1", ProtoEthereumStratum2: "ethereum-stratum-2",
		ProtoTLS: "tls", ProtoStratumV2: "stratum-v2", ProtoStratumV2Candidate: "stratum-v2-candidate",
	}
	for p, n := range want {
		if p.String() != n {
			t.Errorf("%d: %q, want %q", p, p.String(), n)
		}
	}
	if Protocol(200).String() != "protocol(200)" || Confidence(9).String() != "confidence(9)" {
		t.Error("out-of-range names")
	}
	if ProtoTLS.Mining() || ProtoNone.Mining() || !ProtoStratumV2Candidate.Mining() {
		t.Error("Mining")
	}
}

func TestFieldsAreBoundedAndClean(t *testing.T) {
	agent := strings.Repeat("é", 200) + "\x01\u0085tail"
	line := `{"id":1,"method":"mining.subscribe","params":["` + strings.ReplaceAll(agent, "\x01", `\u0001`) + `"]}`
	r := Recognize(lines(line), nil)
	if r.Protocol != ProtoStratumV1 || len(r.Agent) > MaxFieldBytes || strings.ContainsAny(r.Agent, "\x01\u0085") || !utf8Valid(r.Agent) {
		t.Fatalf("agent %q (%d bytes)", r.Agent, len(r.Agent))
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// The Result never aliases the input: the capture reuses its buffers.
func TestResultDoesNotAlias(t *testing.T) {
	c, s := lines(cnLogin), lines(cnLoginRes)
	r := Recognize(c, s)
	want := r.Summary()
	for i := range c {
		c[i] = 'x'
	}
	for i := range s {
		s[i] = 'x'
	}
	if r.Summary() != want {
		t.Fatal("result changed with its input")
	}
}

func TestMaxLines(t *testing.T) {
	var b []string
	for i := 0; i < MaxLines; i++ {
		b = append(b, `{"id":1,"method":"other","params":[]}`)
	}
	if r := Recognize(lines(append(b, v1Subscribe)...), nil); r.Protocol != ProtoNone {
		t.Fatalf("read past MaxLines: %s", r.Summary())
	}
	if r := Recognize(lines(append(b[1:], v1Subscribe)...), nil); r.Protocol != ProtoStratumV1 {
		t.Fatalf("line %d not read: %s", MaxLines, r.Summary())
	}
}

// TestMidStream reads flows joined after their opening: the tail of a
// message, then whole lines.
func TestMidStream(t *testing.T) {
	cnClient := `bc1234"}}` + "\n" +
		`{"id":7,"jsonrpc":"2.0","method":"submit","params":{"id":"1be0b7b6-b15a-47be-a17d-46b2911cf7d0","job_id":"4BiGm3/RgGQzgkTI/xV0smdA+EGZ","nonce":"d0030040","result":"e1364b8782719d7683e2ccd3d8f724bc59dfa780a9e960e7c0e0046acdb40100"}}` + "\n"
	cnServer := `0600"}}` + "\n" +
		`{"jsonrpc":"2.0","method":"job","params":{"blob":"0707d5efb9d6057e95a35f868231780b3a8649c4e57f3c77eaf437329243eef0b9f4b6987d05b900000000cae7754cb85a0ad8eebf3e0bf55f3ec5e754a1d6b05d46e5c358f907dbcbb72b01","job_id":"4BiGm3/RgGQzgkTI/xV0smdA+EGZ","target":"b88d0600"}}` + "\n" +
		`{"id":7,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}` + "\n"
	r := Flow{Client: []byte(cnClient), Server: []byte(cnServer), MidStream: true}.Recognize()
	if r.Protocol != ProtoCryptoNote || r.Confidence < ConfidenceMedium || !r.Job {
		t.Errorf("CryptoNote mid-stream: %v", r)
	}
	// The same bytes from the start of a flow do not parse as an opening.
	if r := Recognize([]byte(cnClient), []byte(cnServer)); r.Protocol != ProtoNone {
		t.Errorf("not mid-stream: %v, want nothing (the first line is cut)", r)
	}
	for name, f := range map[string]Flow{
		"http":         {Client: []byte("ms\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), Server: []byte("\nHTTP/1.1 200 OK\r\n\r\n{\"method\":\"job\"}\n"), MidStream: true},
		"no line":      {Client: []byte(`{"id":1,"method":"mining.subscribe"`), MidStream: true},
		"tls mid-flow": {Client: []byte("\x17\x03\x03\x00\x20\n0123456789abcdef0123456789abcdef"), MidStream: true},
	} {
		if r := f.Recognize(); r.Protocol != ProtoNone {
			t.Errorf("%s: %v, want nothing", name, r)
		}
	}
}
