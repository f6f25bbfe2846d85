package pool

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

const wallet = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"

// easyResult is a claimed hash whose last 8 bytes are zero: it meets any target.
const easyResult = "e1364b8782719d7683e2ccd3d8f724bc59dfa780a9e960e7c0e0046a00000000"

func TestXMRigDialect(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			s := startPool(t, Config{TLS: useTLS, JobInterval: 200 * time.Millisecond, Difficulty: 1000})
			c := dial(t, s, useTLS)
			c.send(`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"` + wallet + `","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","algo":["rx/0"]}}`)
			m := c.recv()
			if hasError(m) {
				t.Fatalf("login error: %v", m)
			}
			res := m["result"].(map[string]any)
			rpcID := res["id"].(string)
			jb := res["job"].(map[string]any)
			if jb["target"] != "37894100" || jb["algo"] != "rx/0" || len(jb["blob"].(string)) != 152 || len(jb["seed_hash"].(string)) != 64 {
				t.Fatalf("unexpected job %v", jb)
			}
			jobID := jb["job_id"].(string)

			submit := func(id int, job, nonce, result string) map[string]any {
				c.send(fmt.Sprintf(`{"id":%d,"jsonrpc":"2.0","method":"submit","params":{"id":%q,"job_id":%q,"nonce":%q,"result":%q,"algo":"rx/0"}}`, id, rpcID, job, nonce, result))
				for {
					m := c.recv()
					if m["method"] == nil {
						return m
					}
				}
			}
			if m := submit(2, jobID, "d0030040", easyResult); hasError(m) {
				t.Fatalf("share rejected: %v", m)
			}
			if m := submit(3, jobID, "d0030040", easyResult); !strings.Contains(errText(m), "duplicate") {
				t.Fatalf("duplicate accepted: %v", m)
			}
			if m := submit(4, jobID, "d0030041", strings.Repeat("ff", 32)); !strings.Contains(errText(m), "low difficulty") {
				t.Fatalf("low share accepted: %v", m)
			}
			if m := submit(5, "nope", "d0030042", easyResult); !strings.Contains(errText(m), "job") {
				t.Fatalf("unknown job accepted: %v", m)
			}
			c.send(`{"id":6,"jsonrpc":"2.0","method":"keepalived","params":{"id":"` + rpcID + `"}}`)
			for {
				m := c.recv()
				if m["method"] == nil {
					if res, _ := m["result"].(map[string]any); res["status"] != "KEEPALIVED" {
						t.Fatalf("keepalived reply %v", m)
					}
					break
				}
			}
			next := c.recvMethod("job")["params"].(map[string]any)
			if next["job_id"] == jobID {
				t.Fatalf("pushed job repeats the login job")
			}
			st := waitStats(t, s, "counters", func(st Stats) bool { return st.SharesAccepted == 1 && st.SharesRejected == 3 })
			if st.LoginCount != 1 || st.Logins[0].User != wallet || !strings.HasPrefix(st.Logins[0].Agent, "XMRig/6.21.0") || st.Logins[0].Dialect != DialectXMRig {
				t.Fatalf("login not recorded: %+v", st)
			}
		})
	}
}

func TestStratumV1Dialect(t *testing.T) {
	s := startPool(t, Config{JobInterval: 200 * time.Millisecond, Difficulty: 64})
	c := dial(t, s, false)
	c.send(`{"id": 1, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "1fffe000", "version-rolling.min-bit-count": 2}]}`)
	if m := c.recv(); m["result"].(map[string]any)["version-rolling"] != true {
		t.Fatalf("configure: %v", m)
	}
	c.send(`{"id": 2, "method": "mining.submit", "params": ["w", "j", "00000001", "504e86ed", "b2957c02"]}`)
	if m := c.recv(); !strings.Contains(errText(m), "24") {
		t.Fatalf("submit before authorize: %v", m)
	}
	c.send(`{"id": 3, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]}`)
	sub := c.recv()["result"].([]any)
	if len(sub) != 3 || len(sub[1].(string)) != 8 || sub[2].(float64) != 4 {
		t.Fatalf("subscribe result %v", sub)
	}
	c.send(`{"params": ["` + wallet + `.rig1", "x"], "id": 4, "method": "mining.authorize"}`)
	if m := c.recv(); m["result"] != true {
		t.Fatalf("authorize: %v", m)
	}
	if d := c.recvMethod("mining.set_difficulty")["params"].([]any)[0].(float64); d != 64 {
		t.Fatalf("difficulty %v", d)
	}
	params := c.recvMethod("mining.notify")["params"].([]any)
	if len(params) != 9 {
		t.Fatalf("notify params %v", params)
	}
	jobID := params[0].(string)
	c.send(`{"params": ["` + wallet + `.rig1", "` + jobID + `", "00000001", "504e86ed", "b2957c02"], "id": 5, "method": "mining.submit"}`)
	if m := c.recv(); m["result"] != true {
		t.Fatalf("submit: %v", m)
	}
	c.send(`{"params": ["` + wallet + `.rig1", "` + jobID + `", "00000001", "504e86ed", "b2957c02"], "id": 6, "method": "mining.submit"}`)
	if m := c.recv(); !strings.Contains(errText(m), "22") {
		t.Fatalf("duplicate: %v", m)
	}
	st := waitStats(t, s, "share", func(st Stats) bool { return st.SharesAccepted == 1 && st.LoginCount == 1 })
	if l := st.Logins[0]; l.Agent != "cgminer/4.11.1" || l.User != wallet+".rig1" || l.Dialect != DialectStratum {
		t.Fatalf("login %+v", l)
	}
	if c.recvMethod("mining.notify")["params"].([]any)[0] == jobID {
		t.Fatalf("new job repeats old id")
	}
}

func TestMalformedInput(t *testing.T) {
	s := startPool(t, Config{MaxLineBytes: 1024})
	c := dial(t, s, false)
	cases := []struct{ line, wantCode string }{
		{`{"id":1,"method":`, "-32700"},
		{`[1,2,3]`, "-32600"},
		{`{"id":7,"method":5}`, "-32600"},
		{`{"id":8,"method":"nope"}`, "-32601"},
		{`{"id":9,"method":"login","params":"x"}`, "-32600"},
		{`{"id":10,"method":"login","params":{"login":""}}`, "-1"},
		{strings.Repeat("A", 5000), "-32600"},
	}
	for _, tc := range cases {
		c.send(tc.line)
		m := c.recv()
		if !hasError(m) || !strings.Contains(errText(m), tc.wantCode) {
			t.Errorf("%.40q: reply %v, want code %s", tc.line, m, tc.wantCode)
		}
	}
	// The connection still works after all that.
	c.send(`{"id":11,"jsonrpc":"2.0","method":"login","params":{"login":"w","pass":"x","agent":"a"}}`)
	if m := c.recv(); hasError(m) {
		t.Fatalf("login after garbage: %v", m)
	}
	if st := s.Stats(); st.BadMessages != len(cases) {
		t.Fatalf("BadMessages = %d, want %d", st.BadMessages, len(cases))
	}
}

func TestConnectionLimit(t *testing.T) {
	s := startPool(t, Config{MaxConns: 2})
	dial(t, s, false)
	dial(t, s, false)
	waitStats(t, s, "two active", func(st Stats) bool { return st.Active == 2 })
	c := dial(t, s, false)
	if m := c.recv(); !strings.Contains(errText(m), "too many") {
		t.Fatalf("third connection: %v", m)
	}
	waitStats(t, s, "refused", func(st Stats) bool { return st.Refused == 1 })
}

func TestTargetRoundTrip(t *testing.T) {
	for _, d := range []uint64{1, 2, 1000, 10000, 1 << 32, 1 << 40} {
		tgt := shareTarget(d)
		got := ^uint64(0) / tgt
		if got < d*99/100 || got > d*101/100+1 {
			t.Errorf("diff %d -> target %x -> diff %d", d, tgt, got)
		}
	}
	if encodeTarget(10000) != "b88d0600" {
		t.Errorf("encodeTarget(10000) = %s, want the reference b88d0600", encodeTarget(10000))
	}
}

func TestParseRequestKeepsID(t *testing.T) {
	r, err := ParseRequest([]byte(`{"id":"abc","jsonrpc":"2.0","method":"login","params":{}}`))
	if err != nil || string(r.ID) != `"abc"` || r.Method != "login" || r.JSONRPC != "2.0" {
		t.Fatalf("got %+v, %v", r, err)
	}
	r, err = ParseRequest([]byte(`{"method":"mining.subscribe","params":[]}`))
	if err != nil || string(r.ID) != "null" {
		t.Fatalf("missing id: %+v, %v", r, err)
	}
	var _ json.RawMessage = r.Params
}

func TestContextCancelDropsConnections(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s, false)
	waitStats(t, s, "connection", func(st Stats) bool { return st.Active == 1 })
	cancel()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.r.ReadByte(); err == nil {
		t.Fatal("connection still open after cancel")
	}
	s.Close()
}
