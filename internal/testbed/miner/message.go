package miner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// maxLineBytes bounds one pool message, as the pool bounds ours.
const maxLineBytes = 64 << 10

var errBadMessage = errors.New("bad pool message")

// message is anything a pool sends: a reply (ID, Result/Error) or a
// notification (Method, Params).
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// parseMessage decodes one line from the pool.
func parseMessage(line []byte) (message, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return message{}, fmt.Errorf("%w: not a JSON object", errBadMessage)
	}
	if len(line) > maxLineBytes {
		return message{}, fmt.Errorf("%w: %d bytes", errBadMessage, len(line))
	}
	var m message
	if err := json.Unmarshal(line, &m); err != nil {
		return message{}, fmt.Errorf("%w: %w", errBadMessage, err)
	}
	return m, nil
}

// replyID is the numeric id of a reply; our requests only use numbers.
func (m message) replyID() (int64, bool) {
	if m.Method != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(string(bytes.TrimSpace(m.ID)), 10, 64)
	return id, err == nil
}

// failed reports a non-null error member.
func (m message) failed() bool {
	e := bytes.TrimSpace(m.Error)
	return len(e) > 0 && !bytes.Equal(e, []byte("null"))
}

// errorText extracts a human message from either error shape:
// {"code":-1,"message":"..."} or [21, "Job not found", null].
func (m message) errorText() string {
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(m.Error, &obj) == nil && obj.Message != "" {
		return obj.Message
	}
	var arr []json.RawMessage
	if json.Unmarshal(m.Error, &arr) == nil && len(arr) > 1 {
		var s string
		if json.Unmarshal(arr[1], &s) == nil {
			return s
		}
	}
	s := string(m.Error)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
