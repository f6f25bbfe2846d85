package pool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// JSON-RPC 2.0 error codes used when the dialect is not known yet or the
// message is not a request at all.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
)

// maxMethodLen bounds the method name; real methods are under 32 bytes.
const maxMethodLen = 64

// Sentinel errors returned (wrapped) by ParseRequest.
var (
	ErrEmpty          = errors.New("empty message")
	ErrNotJSON        = errors.New("not valid JSON")
	ErrNotObject      = errors.New("message is not a JSON object")
	ErrNoMethod       = errors.New("missing or invalid method")
	ErrBadParamsShape = errors.New("params must be an array or an object")
)

// Request is one client message of either dialect.
type Request struct {
	// ID is echoed back verbatim; it is "null" when absent.
	ID      json.RawMessage
	Method  string
	Params  json.RawMessage
	JSONRPC string
}

type wireRequest struct {
	ID      json.RawMessage `json:"id"`
	Method  *string         `json:"method"`
	Params  json.RawMessage `json:"params"`
	JSONRPC string          `json:"jsonrpc"`
}

// ParseRequest decodes one newline-framed message (without its newline).
// It checks only the envelope; each handler decodes its own params.
func ParseRequest(line []byte) (Request, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Request{}, ErrEmpty
	}
	if !json.Valid(line) {
		return Request{}, ErrNotJSON
	}
	if line[0] != '{' {
		return Request{}, ErrNotObject
	}
	var w wireRequest
	if err := json.Unmarshal(line, &w); err != nil {
		// Valid JSON that does not fit the envelope, e.g. "method": 5.
		return Request{ID: idOrNull(w.ID)}, fmt.Errorf("%w: %w", ErrNoMethod, err)
	}
	r := Request{ID: idOrNull(w.ID), Params: w.Params, JSONRPC: w.JSONRPC}
	if w.Method == nil || *w.Method == "" || len(*w.Method) > maxMethodLen {
		return r, ErrNoMethod
	}
	r.Method = *w.Method
	if p := bytes.TrimSpace(w.Params); len(p) > 0 && p[0] != '[' && p[0] != '{' && !bytes.Equal(p, []byte("null")) {
		return r, ErrBadParamsShape
	}
	return r, nil
}

// idOrNull keeps only scalar ids so a reply never echoes a huge object.
func idOrNull(id json.RawMessage) json.RawMessage {
	id = bytes.TrimSpace(id)
	if len(id) == 0 || len(id) > 128 || id[0] == '{' || id[0] == '[' {
		return json.RawMessage("null")
	}
	return id
}

// rpcError is the JSON-RPC 2.0 / XMRig error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// xmrigResponse keeps XMRig's key order: id, jsonrpc, error, result.
type xmrigResponse struct {
	ID      json.RawMessage `json:"id"`
	JSONRPC string          `json:"jsonrpc"`
	Error   *rpcError       `json:"error"`
	Result  any             `json:"result"`
}

// v1Response is a stratum v1 reply; errors are [code, message, null].
type v1Response struct {
	ID     json.RawMessage `json:"id"`
	Result any             `json:"result"`
	Error  any             `json:"error"`
}

type xmrigNotify struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

type v1Notify struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params any             `json:"params"`
}

func encodeLine(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are encoded; fall back to a generic error.
		b = []byte(`{"id":null,"jsonrpc":"2.0","error":{"code":-32603,"message":"internal error"},"result":null}`)
	}
	return append(b, '\n')
}

func xmrigResult(id json.RawMessage, result any) []byte {
	return encodeLine(xmrigResponse{ID: id, JSONRPC: "2.0", Result: result})
}

func xmrigError(id json.RawMessage, code int, msg string) []byte {
	return encodeLine(xmrigResponse{ID: id, JSONRPC: "2.0", Error: &rpcError{Code: code, Message: msg}})
}

func v1Result(id json.RawMessage, result any) []byte {
	return encodeLine(v1Response{ID: id, Result: result})
}

func v1Error(id json.RawMessage, code int, msg string) []byte {
	return encodeLine(v1Response{ID: id, Result: nil, Error: []any{code, msg, nil}})
}
