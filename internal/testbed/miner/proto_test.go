package miner

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

func timeAt(sec int64) time.Time { return time.Unix(sec, 0) }

// testConn wires a protocol to a buffer instead of a socket.
func testConn(dialect string) (*miner, *poolConn, *bytes.Buffer) {
	o := Defaults()
	o.URL, o.User, o.Dialect = "127.0.0.1:3333", "WALLET", dialect
	m := &miner{opts: o, log: &logger{w: io.Discard}, shares: make(chan share, 1), url: poolURL{host: "127.0.0.1:3333"}}
	var out bytes.Buffer
	pc := m.newPoolConn(nil, &out)
	return m, pc, &out
}

func sentLines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var msgs []map[string]any
	for line := range strings.Lines(out.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("sent invalid JSON %q", line)
		}
		msgs = append(msgs, m)
	}
	out.Reset()
	return msgs
}

func feed(t *testing.T, pc *poolConn, line string) error {
	t.Helper()
	msg, err := parseMessage([]byte(line))
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return pc.proto.handle(pc, msg)
}

func TestXMRigProtocol(t *testing.T) {
	m, pc, out := testConn(DialectXMRig)
	if err := pc.proto.hello(pc); err != nil {
		t.Fatal(err)
	}
	login := sentLines(t, out)[0]
	params := login["params"].(map[string]any)
	if login["method"] != "login" || login["jsonrpc"] != "2.0" || params["login"] != "WALLET" || params["agent"] != Agent ||
		params["algo"].([]any)[0] != "rx/0" {
		t.Fatalf("login %v", login)
	}
	job := `{"blob":"` + strings.Repeat("07", 76) + `","job_id":"J1","target":"b88d0600","algo":"rx/0","height":5,"seed_hash":""}`
	if err := feed(t, pc, `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"RPC","job":`+job+`,"extensions":["keepalive"],"status":"OK"}}`); err != nil {
		t.Fatal(err)
	}
	j := m.job.Load()
	if j == nil || j.id != "J1" || j.diff < 9900 || j.diff > 10100 || j.conn != pc.gen || !pc.keepAlive {
		t.Fatalf("job %+v keepalive %v", j, pc.keepAlive)
	}
	if err := pc.proto.submit(pc, share{job: j, nonce: 0x40003d0, result: [32]byte{31: 1}}); err != nil {
		t.Fatal(err)
	}
	sub := sentLines(t, out)[0]["params"].(map[string]any)
	if sub["id"] != "RPC" || sub["job_id"] != "J1" || sub["nonce"] != "d0030004" || len(sub["result"].(string)) != 64 {
		t.Fatalf("submit %v", sub)
	}
	if err := feed(t, pc, `{"id":2,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}`); err != nil || m.accepted != 1 {
		t.Fatalf("accept: %v, %d", err, m.accepted)
	}
	if err := feed(t, pc, `{"jsonrpc":"2.0","method":"job","params":`+job+`}`); err == nil {
		t.Fatal("duplicate job not treated as an error")
	}
	if err := pc.proto.keepalive(pc); err != nil || sentLines(t, out)[0]["method"] != "keepalived" {
		t.Fatalf("keepalive: %v", err)
	}
}

func TestStratumProtocol(t *testing.T) {
	m, pc, out := testConn(DialectStratum)
	if err := pc.proto.hello(pc); err != nil {
		t.Fatal(err)
	}
	sent := sentLines(t, out)
	if len(sent) != 2 || sent[0]["method"] != "mining.subscribe" || sent[1]["method"] != "mining.authorize" || sent[0]["jsonrpc"] != nil {
		t.Fatalf("hello %v", sent)
	}
	for _, line := range []string{
		`{"id": 1, "result": [[["mining.set_difficulty", "b4"], ["mining.notify", "ae"]], "08000002", 4], "error": null}`,
		`{"error": null, "id": 2, "result": true}`,
		`{"id": null, "method": "mining.set_difficulty", "params": [16384]}`,
		`{"params": ["bf", "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000", "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008", "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000", [], "00000002", "1c2ac4af", "504e86b9", false], "id": null, "method": "mining.notify"}`,
	} {
		if err := feed(t, pc, line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	j := m.job.Load()
	if j == nil || j.id != "bf" || j.diff != 16384 || len(j.blob) != 80 || j.ntime != "504e86b9" || j.extranonce2 != "00000001" {
		t.Fatalf("job %+v", j)
	}
	if err := pc.proto.submit(pc, share{job: j, nonce: 0x027c95b2}); err != nil {
		t.Fatal(err)
	}
	sub := sentLines(t, out)[0]
	if got, _ := json.Marshal(sub["params"]); string(got) != `["WALLET","bf","00000001","504e86b9","b2957c02"]` {
		t.Fatalf("submit params %s", got)
	}
	if err := feed(t, pc, `{"id": 3, "result": null, "error": [21, "Job not found", null]}`); err != nil || m.rejected != 1 {
		t.Fatalf("reject: %v %d", err, m.rejected)
	}
	if err := feed(t, pc, `{"error": [24, "Unauthorized worker", null], "id": 2, "result": null}`); err != nil {
		t.Fatalf("late reply to a settled request: %v", err)
	}
}

func TestLoginRefused(t *testing.T) {
	_, pc, _ := testConn(DialectXMRig)
	_ = pc.proto.hello(pc)
	err := feed(t, pc, `{"id":1,"jsonrpc":"2.0","error":{"code":-1,"message":"Invalid payment address provided"}}`)
	if err == nil || !strings.Contains(err.Error(), "Invalid payment address") {
		t.Fatalf("err %v", err)
	}
}

// FuzzPoolMessages feeds pool lines to both dialects: no panics, and
// whatever the miner sends back is valid JSON.
func FuzzPoolMessages(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"R","job":{"blob":"` + strings.Repeat("00", 76) + `","job_id":"a","target":"ffff0000","seed_hash":"00"},"status":"OK"}}`,
		`{"jsonrpc":"2.0","method":"job","params":{"blob":"00","job_id":"b","target":"00"}}`,
		`{"id": 1, "result": [[], "08000002", 4], "error": null}`,
		`{"id":null,"method":"mining.notify","params":["bf","00","","",[],"00000002","1c2ac4af","504e86b9",true]}`,
		`{"id":null,"method":"mining.set_extranonce","params":["af4c",2]}`,
		`{"id":3,"error":[21,"x",null]}`, `{"method":"client.reconnect"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, d := range []string{DialectXMRig, DialectStratum} {
			_, pc, out := testConn(d)
			_ = pc.proto.hello(pc)
			for l := range strings.Lines(line) {
				msg, err := parseMessage([]byte(l))
				if err != nil {
					continue
				}
				if pc.proto.handle(pc, msg) != nil {
					break
				}
			}
			for l := range strings.Lines(out.String()) {
				if !json.Valid([]byte(l)) {
					t.Fatalf("sent invalid JSON %q", l)
				}
			}
		}
	})
}
