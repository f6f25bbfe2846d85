package filescan

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/davyproject/davy/internal/intel"
)

// Test data may hold miner strings in plain text: test code is not in the
// davy binary. Addresses are from documentation ranges (RFC 5737); no test
// connects anywhere.

const testWallet = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"

var (
	engineOnce sync.Once
	testEng    *Engine
	engineErr  error
)

// newEngine returns a shared engine with default options.
func newEngine(t testing.TB) *Engine {
	t.Helper()
	engineOnce.Do(func() {
		in, err := intel.Load("")
		if err != nil {
			engineErr = err
			return
		}
		testEng, engineErr = New(in, Options{})
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return testEng
}

func newEngineOpts(t testing.TB, opts Options) *Engine {
	t.Helper()
	in, err := intel.Load("")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func scanBytes(t testing.TB, e *Engine, path string, data []byte) ([]Finding, error) {
	t.Helper()
	return e.ScanFile(context.Background(), path, int64(len(data)), bytes.NewReader(data))
}

// streamOnly hides io.ReaderAt and friends, as a tar member reader does.
type streamOnly struct{ r *bytes.Reader }

func (s streamOnly) Read(p []byte) (int, error) { return s.r.Read(p) }

func scanStream(t testing.TB, e *Engine, path string, data []byte) ([]Finding, error) {
	t.Helper()
	return e.ScanFile(context.Background(), path, int64(len(data)), streamOnly{bytes.NewReader(data)})
}

// idSet lists the distinct IDs found, sorted.
func idSet(fs []Finding) []string {
	var ids []string
	for _, f := range fs {
		if !slices.Contains(ids, f.ID) {
			ids = append(ids, f.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func has(fs []Finding, id string) bool { return slices.Contains(idSet(fs), id) }

func findingAt(fs []Finding, id, path string) *Finding {
	for i := range fs {
		if fs[i].ID == id && (path == "" || fs[i].Path == path) {
			return &fs[i]
		}
	}
	return nil
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n  " + f.ID + " " + f.Path + ": " + f.Message)
	}
	return b.String()
}

type readCloser = io.ReadCloser

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }
