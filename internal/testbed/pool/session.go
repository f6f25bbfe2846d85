package pool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"time"
)

const (
	// outQueue is how many messages may wait for a slow reader before the
	// connection is dropped, so one stuck miner never blocks job pushes.
	outQueue = 64
	// maxBadStreak closes a connection that sends only garbage.
	maxBadStreak = 64
	// maxSubmitted bounds the duplicate-share memory of one connection.
	maxSubmitted = 100_000
	writeTimeout = 10 * time.Second
)

var nullID = json.RawMessage("null")

// session is one miner connection.
type session struct {
	srv  *Server
	conn net.Conn // nil in fuzz tests

	out       chan []byte
	done      chan struct{}
	closeOnce sync.Once

	mu         sync.Mutex // guards the fields below
	dialect    string
	badStreak  int
	loggedIn   bool   // xmrig: login done; stratum: authorized
	subscribed bool   // stratum only
	rpcID      string // xmrig session id from login
	user       string
	agent      string
	extranonce string
	lastJobID  string
	submitted  map[string]struct{}
}

func newSession(srv *Server, c net.Conn) *session {
	return &session{
		srv:       srv,
		conn:      c,
		out:       make(chan []byte, outQueue),
		done:      make(chan struct{}),
		submitted: make(map[string]struct{}),
	}
}

func (ss *session) close() {
	ss.closeOnce.Do(func() {
		close(ss.done)
		if ss.conn != nil {
			ss.conn.Close()
		}
	})
}

func (ss *session) remote() string {
	if ss.conn == nil {
		return ""
	}
	return ss.conn.RemoteAddr().String()
}

// send queues one line; a full queue means the peer is not reading.
func (ss *session) send(b []byte) {
	select {
	case ss.out <- b:
	case <-ss.done:
	default:
		ss.close()
	}
}

func (ss *session) writeLoop() {
	for {
		select {
		case <-ss.done:
			return
		case b := <-ss.out:
			_ = ss.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := ss.conn.Write(b); err != nil {
				ss.close()
				return
			}
		}
	}
}

func (ss *session) readLoop() {
	r := bufio.NewReaderSize(ss.conn, 4096)
	var buf []byte
	for {
		_ = ss.conn.SetReadDeadline(time.Now().Add(ss.srv.cfg.IdleTimeout))
		line, tooLong, err := readLine(r, ss.srv.cfg.MaxLineBytes, buf[:0])
		if err != nil {
			return
		}
		buf = line[:0]
		if tooLong {
			ss.mu.Lock()
			ss.bad(nullID, CodeInvalidRequest, "line too long")
			ss.mu.Unlock()
		} else {
			ss.handleLine(line)
		}
		ss.mu.Lock()
		streak := ss.badStreak
		ss.mu.Unlock()
		if streak >= maxBadStreak {
			return
		}
		select {
		case <-ss.done:
			return
		default:
		}
	}
}

// readLine reads one '\n'-terminated line of at most max bytes into buf.
// A longer line is consumed to its end and reported as tooLong, so framing
// survives and the connection can go on.
func readLine(r *bufio.Reader, max int, buf []byte) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > max+1 {
				tooLong, buf = true, buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return nil, false, err // EOF or timeout; a partial line is dropped
		}
		return bytes.TrimRight(buf, "\r\n"), tooLong, nil
	}
}

// handleLine answers one message. It never panics on any input.
func (ss *session) handleLine(line []byte) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	req, err := ParseRequest(line)
	switch {
	case errors.Is(err, ErrEmpty):
		return
	case errors.Is(err, ErrNotJSON):
		ss.bad(req.ID, CodeParseError, "Parse error")
		return
	case err != nil:
		ss.bad(req.ID, CodeInvalidRequest, "Invalid request: "+err.Error())
		return
	}
	dialect := dialectOf(req.Method)
	if dialect == "" {
		ss.bad(req.ID, CodeMethodNotFound, "Method not found")
		return
	}
	if ss.dialect != "" && ss.dialect != dialect {
		ss.bad(req.ID, CodeInvalidRequest, "Mixed protocol dialects")
		return
	}
	ss.dialect = dialect
	ok := false
	if dialect == DialectXMRig {
		ok = ss.handleXMRig(req)
	} else {
		ok = ss.handleStratum(req)
	}
	if ok {
		ss.badStreak = 0
	}
}

// bad answers an error in the session's dialect and counts it; ss.mu held.
func (ss *session) bad(id json.RawMessage, code int, msg string) {
	ss.badStreak++
	ss.srv.update(func(st *Stats) { st.BadMessages++ })
	ss.replyError(id, code, msg)
}

func (ss *session) replyError(id json.RawMessage, code int, msg string) {
	if ss.dialect == DialectStratum {
		ss.send(v1Error(id, code, msg))
		return
	}
	ss.send(xmrigError(id, code, msg))
}

func dialectOf(method string) string {
	switch method {
	case "login", "getjob", "submit", "keepalived":
		return DialectXMRig
	case "mining.subscribe", "mining.authorize", "mining.submit", "mining.configure",
		"mining.extranonce.subscribe", "mining.suggest_difficulty":
		return DialectStratum
	}
	return ""
}

// pushJob sends j to a logged-in miner unless it already has it (XMRig
// reconnects on a duplicate job).
func (ss *session) pushJob(j job, clean bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !ss.loggedIn || ss.lastJobID == j.id {
		return
	}
	ss.lastJobID = j.id
	if ss.dialect == DialectXMRig {
		ss.send(encodeLine(xmrigNotify{JSONRPC: "2.0", Method: "job", Params: ss.xmrigJob(j)}))
	} else {
		ss.send(encodeLine(v1Notify{ID: nullID, Method: "mining.notify", Params: v1NotifyParams(j, clean)}))
	}
	ss.srv.update(func(st *Stats) { st.JobsSent++ })
}

// markSubmitted reports whether key is new, forgetting old shares past the cap.
func (ss *session) markSubmitted(key string) bool {
	if _, dup := ss.submitted[key]; dup {
		return false
	}
	if len(ss.submitted) >= maxSubmitted {
		clear(ss.submitted)
	}
	ss.submitted[key] = struct{}{}
	return true
}
