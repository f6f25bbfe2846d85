package pool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
)

var seedLines = []string{
	`{"id": 1, "method": "mining.subscribe", "params": []}`,
	`{"params": ["slush.miner1", "password"], "id": 2, "method": "mining.authorize"}`,
	`{"params": ["slush.miner1", "bf", "00000001", "504e86ed", "b2957c02"], "id": 4, "method": "mining.submit"}`,
	`{"id": 1, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "1fffe000"}]}`,
	`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"w","pass":"x","agent":"XMRig/6.21.0"}}`,
	`{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"1","job_id":"q","nonce":"d0030040","result":"00"}}`,
	`{"id":3,"jsonrpc":"2.0","method":"keepalived","params":{"id":"1"}}`,
	`{"id":[1],"method":{}}`, `[]`, `null`, `{"method":"login","params":5}`, "\x00\xff",
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range seedLines {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseRequest(line)
		if !json.Valid(r.ID) && len(r.ID) > 0 {
			t.Fatalf("ID %q is not valid JSON", r.ID)
		}
		if err == nil && (r.Method == "" || len(r.Method) > maxMethodLen) {
			t.Fatalf("accepted bad method %q", r.Method)
		}
	})
}

// FuzzSession feeds arbitrary lines to one session: every reply must be one
// line of valid JSON and nothing may panic.
func FuzzSession(f *testing.F) {
	for _, s := range seedLines {
		f.Add([]byte(s + "\n" + seedLines[0]))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		srv := &Server{cfg: Config{}.withDefaults(), changed: make(chan struct{}), sessions: map[*session]struct{}{}, seedHash: "00"}
		srv.cfg.MaxLineBytes = 512
		srv.newJobLocked()
		ss := newSession(srv, nil)
		ss.out = make(chan []byte, 4096)
		r := bufio.NewReader(bytes.NewReader(input))
		for range 64 {
			line, tooLong, err := readLine(r, srv.cfg.MaxLineBytes, nil)
			if err != nil {
				break
			}
			if !tooLong {
				ss.handleLine(line)
			}
		}
		close(ss.out)
		for b := range ss.out {
			if !bytes.HasSuffix(b, []byte("\n")) || !json.Valid(b) {
				t.Fatalf("bad reply %q", b)
			}
		}
	})
}
